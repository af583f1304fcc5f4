#include "store/postgres/snapshot.hpp"

#include "store/postgres/users.hpp"

#include <unordered_set>
#include <utility>

namespace reconciler::store::postgres {

namespace {

// A user's credit events as rows (none when credit_events is not an array).
#define RECON_PG_EVENTS                                                                       \
    "jsonb_array_elements(CASE WHEN jsonb_typeof(@users.plan_metadata@::jsonb->'credit_events') = 'array'" \
    " THEN @users.plan_metadata@::jsonb->'credit_events' ELSE '[]'::jsonb END)"

// Activity in the window, and balances that are broken whatever the window:
// every user the window rules' user checks can flag (as SQLite's). $1, $2:
// the window. plan_metadata::jsonb serves a jsonb, json or text column.
constexpr const char* pg_active_user =
    "(EXISTS (SELECT 1 FROM @ai_usage@ a WHERE a.@ai_usage.user_id@ = @users@.@users.id@"
    "   AND a.@ai_usage.created_at@ >= $1 AND a.@ai_usage.created_at@ < $2)"
    " OR EXISTS (SELECT 1 FROM " RECON_PG_EVENTS " e WHERE e->>'at' >= $1 AND e->>'at' < $2)"
    " OR COALESCE((@users.plan_metadata@::jsonb->>'ai_credits')::numeric, 0) < 0"
    " OR COALESCE((@users.plan_metadata@::jsonb->>'ai_credits')::numeric, 0) <>"
    "    (SELECT COALESCE(SUM((e->>'delta')::numeric), 0) FROM " RECON_PG_EVENTS " e))";
#undef RECON_PG_EVENTS

constexpr const char* pg_payment_columns =
    "SELECT @payments.stripe_invoice_id@, @payments.stripe_customer_id@, @payments.user_id@, @payments.amount@,"
    " @payments.currency@, @payments.status@, @payments.paid_at@ FROM @payments@ ";

constexpr const char* pg_webhook_columns =
    "SELECT @webhook_events.stripe_event_id@, @webhook_events.type@, @webhook_events.received_at@,"
    " @webhook_events.status@, @webhook_events.attempts@, @webhook_events.last_error@ FROM @webhook_events@ ";

unix_seconds time_or_zero(std::string_view text) {
    try {
        return parse_rfc3339(text);
    } catch (const std::exception&) {
        return 0;
    }
}

// One load_local() (as sqlite/snapshot.cpp's: a row reached two ways is read once).
class pg_snapshot_loader {
public:
    pg_snapshot_loader(session& s, const local_query& q)
        : s_(s),
          q_(q),
          sources_(q.credit_event_sources ? &*q.credit_event_sources : nullptr),
          start_(format_rfc3339(q.start)),
          end_(format_rfc3339(q.end)) {}

    local_snapshot load() && {
        if (!q_.customer_ids.empty())
            add_users(s_.run(std::string(user_columns) + "WHERE @users.stripe_customer_id@ = ANY($1::text[])",
                             params().add(text_array(q_.customer_ids))));
        if (!q_.emails.empty())  // case-insensitively, as SQLite's NOCASE
            add_users(s_.run(std::string(user_columns) +
                                 "WHERE lower(@users.email@) = ANY(SELECT lower(k) FROM unnest($1::text[]) AS k)",
                             params().add(text_array(q_.emails))));
        snap_.users.shrink_to_fit();
        if (q_.window_rules)
            add_users(s_.run(std::string(user_columns) + "WHERE " + pg_active_user, params().add(start_).add(end_)));
        if (q_.active_users_after) active_users_page();
        payments();
        if (q_.window_rules || page_ids_) usage();
        deliveries();
        return std::move(snap_);
    }

private:
    void add_users(const result& r) {
        for (int i = 0; i < r.rows(); ++i)
            if (seen_users_.insert(r.int64(i, 0)).second) snap_.users.push_back(read_user(r, i, sources_));
    }

    void active_users_page() {
        const std::size_t before = snap_.users.size();
        add_users(s_.run(std::string(user_columns) + "WHERE @users.id@ > $3 AND " + pg_active_user +
                             " ORDER BY @users.id@ LIMIT $4",
                         params().add(start_).add(end_).add(*q_.active_users_after).add(q_.active_users_limit)));
        if (snap_.users.size() > before) page_ids_ = std::pair{snap_.users[before].id, snap_.users.back().id};
    }

    void add_payments(const result& r) {
        for (int i = 0; i < r.rows(); ++i) {
            local_payment p;
            p.invoice_id = r.text(i, 0);
            if (!seen_payments_.insert(p.invoice_id).second) continue;
            p.customer_id = r.text(i, 1);
            p.user_id = r.opt_int64(i, 2);
            p.amount = r.int64(i, 3);
            p.currency = r.text(i, 4);
            p.status = r.text(i, 5);
            p.paid_at = r.text(i, 6);
            snap_.payments.push_back(std::move(p));
        }
    }

    void payments() {
        snap_.payments.reserve(q_.invoice_ids.size());
        if (!q_.invoice_ids.empty())
            add_payments(s_.run(std::string(pg_payment_columns) + "WHERE @payments.stripe_invoice_id@ = ANY($1::text[])",
                                params().add(text_array(q_.invoice_ids))));
        if (q_.window_payments)
            add_payments(s_.run(std::string(pg_payment_columns) + "WHERE @payments.paid_at@ >= $1 AND @payments.paid_at@ < $2",
                                params().add(start_).add(end_)));
    }

    // A page's users are every active user in its id range: the usage of
    // that range in the window is exactly theirs.
    void usage() {
        params p;
        p.add(start_).add(end_);
        if (page_ids_) p.add(page_ids_->first).add(page_ids_->second);
        const auto r = s_.run(std::string("SELECT @ai_usage.user_id@, @ai_usage.credits@, @ai_usage.request_id@, @ai_usage.created_at@"
                                          " FROM @ai_usage@ WHERE @ai_usage.created_at@ >= $1 AND @ai_usage.created_at@ < $2") +
                                  (page_ids_ ? " AND @ai_usage.user_id@ BETWEEN $3 AND $4" : ""),
                              p);
        for (int i = 0; i < r.rows(); ++i) {
            usage_row u{r.int64(i, 0), r.int64(i, 1), std::string(r.text(i, 2)), 0};
            try {
                u.created_at = parse_rfc3339(r.text(i, 3));
            } catch (const std::exception&) {
                continue;  // not a time: cannot be placed in any window
            }
            snap_.usage.push_back(std::move(u));
        }
    }

    void add_deliveries(const result& r) {
        for (int i = 0; i < r.rows(); ++i) {
            webhook_delivery w;
            w.event_id = r.text(i, 0);
            if (!seen_events_.insert(w.event_id).second) continue;
            w.type = r.text(i, 1);
            w.received_at = time_or_zero(r.text(i, 2));
            w.status = r.text(i, 3);
            w.attempts = r.int64(i, 4);
            w.last_error = r.text(i, 5);
            snap_.webhooks.push_back(std::move(w));
        }
    }

    void deliveries() {
        snap_.webhooks.reserve(q_.event_ids.size());
        if (q_.window_rules || q_.flaggable_deliveries)
            add_deliveries(s_.run(std::string(pg_webhook_columns) + "WHERE @webhook_events.received_at@ >= $1 AND @webhook_events.received_at@ < $2" +
                                      (q_.window_rules ? "" : " AND @webhook_events.status@ IN ('signature_failed', 'failed')"),
                                  params().add(start_).add(end_)));
        if (!q_.event_ids.empty())
            add_deliveries(s_.run(std::string(pg_webhook_columns) + "WHERE @webhook_events.stripe_event_id@ = ANY($1::text[])",
                                  params().add(text_array(q_.event_ids))));
    }

    session& s_;
    const local_query& q_;
    const std::unordered_set<std::string_view>* sources_;
    const std::string start_, end_;
    local_snapshot snap_;
    std::unordered_set<std::int64_t> seen_users_;
    std::unordered_set<std::string> seen_payments_, seen_events_;
    std::optional<std::pair<std::int64_t, std::int64_t>> page_ids_;
};

}  // namespace

local_snapshot postgres_snapshot::load_local(const local_query& q) { return pg_snapshot_loader(s_, q).load(); }

}  // namespace reconciler::store::postgres
