#include "store/sqlite/snapshot.hpp"

#include "store/sqlite/sql.hpp"
#include "store/sqlite/users.hpp"

#include <unordered_set>
#include <utility>

namespace reconciler::store::sqlite {

namespace {

// Activity in the window, and balances that are broken whatever the window:
// every user the window rules' user checks can flag. ?1, ?2: the window.
constexpr const char* active_user =
    "(EXISTS (SELECT 1 FROM @ai_usage@ a WHERE a.@ai_usage.user_id@ = @users@.@users.id@"
    "   AND a.@ai_usage.created_at@ >= ?1 AND a.@ai_usage.created_at@ < ?2)"
    " OR EXISTS (SELECT 1 FROM json_each(@users.plan_metadata@, '$.credit_events') e"
    "   WHERE json_extract(e.value, '$.at') >= ?1 AND json_extract(e.value, '$.at') < ?2)"
    " OR COALESCE(json_extract(@users.plan_metadata@, '$.ai_credits'), 0) < 0"
    " OR COALESCE(json_extract(@users.plan_metadata@, '$.ai_credits'), 0) !="
    "    (SELECT COALESCE(SUM(json_extract(e.value, '$.delta')), 0)"
    "     FROM json_each(@users.plan_metadata@, '$.credit_events') e))";

constexpr const char* payment_columns =
    "SELECT @payments.stripe_invoice_id@, @payments.stripe_customer_id@, @payments.user_id@, @payments.amount@,"
    " @payments.currency@, @payments.status@, @payments.paid_at@ FROM @payments@ ";

constexpr const char* webhook_columns =
    "SELECT @webhook_events.stripe_event_id@, @webhook_events.type@, @webhook_events.received_at@,"
    " @webhook_events.status@, @webhook_events.attempts@, @webhook_events.last_error@ FROM @webhook_events@ ";

local_payment read_payment(SQLite::Statement& q) {
    local_payment p;
    p.invoice_id = q.getColumn(0).getString();
    p.customer_id = q.getColumn(1).getString();
    if (!q.getColumn(2).isNull()) p.user_id = q.getColumn(2).getInt64();
    p.amount = q.getColumn(3).getInt64();
    p.currency = q.getColumn(4).getString();
    p.status = q.getColumn(5).getString();
    p.paid_at = q.getColumn(6).isNull() ? std::string{} : q.getColumn(6).getString();
    return p;
}

// One load_local(): the snapshot it fills and the rows it has already taken
// (a row reached two ways, a user by id and by email, is read once).
class snapshot_loader {
public:
    snapshot_loader(connection& c, const local_query& q)
        : c_(c),
          db_(c.db()),
          q_(q),
          sources_(q.credit_event_sources ? &*q.credit_event_sources : nullptr),
          start_(format_rfc3339(q.start)),
          end_(format_rfc3339(q.end)) {}

    local_snapshot load() && {
        users_by("@users.stripe_customer_id@", q_.customer_ids);
        users_by("@users.email@ COLLATE NOCASE", q_.emails);
        // The snapshot's vectors are sized to what they hold, not to the
        // next power of two: a dense slice's users, payments and deliveries
        // with their doubling slack were the largest part of a 1M-event
        // run's peak. (Users come by customer and again by email, so their
        // count is known only now; payments and deliveries have bounds.)
        snap_.users.shrink_to_fit();
        snap_.payments.reserve(q_.invoice_ids.size());
        snap_.webhooks.reserve(q_.event_ids.size());
        if (q_.window_rules) active_users();
        if (q_.active_users_after) active_users_page();
        payments();
        if (q_.window_rules || page_ids_) usage();
        deliveries();
        return std::move(snap_);
    }

private:
    void add_users(SQLite::Statement& q) {
        while (q.executeStep())
            if (seen_users_.insert(q.getColumn(0).getInt64()).second) snap_.users.push_back(read_user(q, sources_));
    }

    void users_by(const char* column, const std::vector<std::string_view>& keys) {
        for_chunks(keys, [&](std::span<const std::string_view> chunk) {
            SQLite::Statement q(db_, c_.sql(std::string(user_columns) + "WHERE " + column + " IN (") +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            add_users(q);
        });
    }

    void active_users() {
        SQLite::Statement q(db_, c_.sql(std::string(user_columns) + "WHERE " + active_user));
        q.bind(1, start_);
        q.bind(2, end_);
        add_users(q);
    }

    void active_users_page() {
        SQLite::Statement q(db_, c_.sql(std::string(user_columns) + "WHERE @users.id@ > ?3 AND " + active_user +
                                        " ORDER BY @users.id@ LIMIT ?4"));
        q.bind(1, start_);
        q.bind(2, end_);
        q.bind(3, *q_.active_users_after);
        q.bind(4, q_.active_users_limit);
        const std::size_t before = snap_.users.size();
        add_users(q);
        if (snap_.users.size() > before) page_ids_ = std::pair{snap_.users[before].id, snap_.users.back().id};
    }

    void add_payments(SQLite::Statement& q) {
        while (q.executeStep())
            if (auto p = read_payment(q); seen_payments_.insert(p.invoice_id).second)
                snap_.payments.push_back(std::move(p));
    }

    void payments() {
        for_chunks(q_.invoice_ids, [&](std::span<const std::string_view> chunk) {
            SQLite::Statement q(db_, c_.sql(std::string(payment_columns) + "WHERE @payments.stripe_invoice_id@ IN (") +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            add_payments(q);
        });
        if (q_.window_payments) {
            SQLite::Statement q(db_, c_.sql(std::string(payment_columns) +
                                            "WHERE @payments.paid_at@ >= ? AND @payments.paid_at@ < ?"));
            q.bind(1, start_);
            q.bind(2, end_);
            add_payments(q);
        }
    }

    // A page's users are every active user in its id range: the usage of
    // that range in the window is exactly theirs.
    void usage() {
        SQLite::Statement q(db_, c_.sql(std::string("SELECT @ai_usage.user_id@, @ai_usage.credits@, @ai_usage.request_id@,"
                                                    " @ai_usage.created_at@ FROM @ai_usage@"
                                                    " WHERE @ai_usage.created_at@ >= ?1 AND @ai_usage.created_at@ < ?2") +
                                        (page_ids_ ? " AND @ai_usage.user_id@ BETWEEN ?3 AND ?4" : "")));
        q.bind(1, start_);
        q.bind(2, end_);
        if (page_ids_) {
            q.bind(3, page_ids_->first);
            q.bind(4, page_ids_->second);
        }
        while (q.executeStep()) {
            usage_row u{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString(), 0};
            try {
                u.created_at = parse_rfc3339(q.getColumn(3).getString());
            } catch (const std::exception&) {
                continue;  // not a time: cannot be placed in any window
            }
            snap_.usage.push_back(std::move(u));
        }
    }

    void add_deliveries(SQLite::Statement& q) {
        while (q.executeStep()) {
            webhook_delivery w;
            w.event_id = q.getColumn(0).getString();
            if (!seen_events_.insert(w.event_id).second) continue;
            w.type = q.getColumn(1).getString();
            try {
                w.received_at = parse_rfc3339(q.getColumn(2).getString());
            } catch (const std::exception&) {
                w.received_at = 0;
            }
            w.status = q.getColumn(3).getString();
            w.attempts = q.getColumn(4).getInt64();
            w.last_error = q.getColumn(5).isNull() ? std::string{} : q.getColumn(5).getString();
            snap_.webhooks.push_back(std::move(w));
        }
    }

    void deliveries() {
        if (q_.window_rules || q_.flaggable_deliveries) {
            SQLite::Statement q(db_, c_.sql(std::string(webhook_columns) +
                                            "WHERE @webhook_events.received_at@ >= ? AND @webhook_events.received_at@ < ?" +
                                            (q_.window_rules ? "" : " AND @webhook_events.status@ IN ('signature_failed', 'failed')")));
            q.bind(1, start_);
            q.bind(2, end_);
            add_deliveries(q);
        }
        for_chunks(q_.event_ids, [&](std::span<const std::string_view> chunk) {
            SQLite::Statement q(db_, c_.sql(std::string(webhook_columns) + "WHERE @webhook_events.stripe_event_id@ IN (") +
                                         placeholders(chunk.size()) + ")");
            bind_keys(q, chunk);
            add_deliveries(q);
        });
    }

    connection& c_;
    SQLite::Database& db_;
    const local_query& q_;
    const std::unordered_set<std::string_view>* sources_;
    const std::string start_, end_;
    local_snapshot snap_;
    std::unordered_set<std::int64_t> seen_users_;
    std::unordered_set<std::string> seen_payments_, seen_events_;
    std::optional<std::pair<std::int64_t, std::int64_t>> page_ids_;  // first and last user id of the page
};

}  // namespace

local_snapshot sqlite_snapshot::load_local(const local_query& q) { return snapshot_loader(c_, q).load(); }

}  // namespace reconciler::store::sqlite
