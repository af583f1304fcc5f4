#include "app/run.hpp"

#include "app/report.hpp"
#include "core/json_log.hpp"
#include "core/stripe_parse.hpp"
#include "core/timeutil.hpp"
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace reconciler {

namespace asio = boost::asio;
namespace json = boost::json;

std::int64_t run_result::applied() const {
    return std::count_if(outcomes.begin(), outcomes.end(),
                         [](const finding_outcome& o) { return o.disposition == store::disposition::applied; });
}

std::int64_t run_result::flagged() const {
    return std::count_if(outcomes.begin(), outcomes.end(), [](const finding_outcome& o) {
        return o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed;
    });
}

namespace detail {

// Stripe keeps events for 30 days; older parts of a window are only in the object lists.
constexpr unix_seconds event_retention = 30 * 24 * 3600;

// The event types whose objects the diff needs.
const std::vector<std::string>& event_types() {
    static const std::vector<std::string> types{
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    };
    return types;
}

double requests_per_second(const config& cfg, const std::string& key) {
    if (cfg.stripe.requests_per_second) return *cfg.stripe.requests_per_second;
    // Stripe's documented read limits: ~100/s live, 25/s test; keep headroom live.
    const bool live = key.rfind("sk_live_", 0) == 0 || key.rfind("rk_live_", 0) == 0;
    return live ? 90.0 : 25.0;
}

diff_policy policy_of(const config& cfg) {
    diff_policy p;
    p.prices = cfg.prices;
    p.free_tier = cfg.policy.free_tier;
    p.past_due_tier = cfg.policy.past_due_tier;
    return p;
}

// Everything fetched for the window, folded as pages arrive.
struct fetched {
    std::map<std::string, invoice> invoices;
    subscription_folder subscriptions;
    std::map<std::string, std::string> request_ids;

    void add_invoice(invoice inv, const std::string& request_id) {
        request_ids.emplace(inv.id, request_id);
        auto [it, inserted] = invoices.try_emplace(inv.id, inv);
        // Payment is monotonic: a paid snapshot (event or list) wins over an
        // older unpaid one, whatever order they arrive in.
        if (!inserted && !it->second.paid && inv.paid) it->second = std::move(inv);
    }
};

class fetcher {
public:
    fetcher(stripe::client& client, store::store& db, run_result& result)
        : client_(client), db_(db), result_(result) {}

    asio::awaitable<void> fetch(unix_seconds start, unix_seconds end) {
        stripe::list_query events{"/v1/events", {}, std::max(start, end - event_retention), end};
        const auto& types = event_types();
        for (std::size_t i = 0; i < types.size(); ++i)
            events.params.emplace_back("types[" + std::to_string(i) + "]", types[i]);
        if (events.created_gte < events.created_lt)
            co_await client_.list_all(events, [this](const list_page_info& p, list_envelope&& env) {
                on_page(p);
                for (auto& v : env.data) on_event(parse_event(v.as_object()), p.request_id);
            });

        stripe::list_query invoices{"/v1/invoices", {{"status", "paid"}}, start, end};
        co_await client_.list_all(invoices, [this](const list_page_info& p, list_envelope&& env) {
            on_page(p);
            for (auto& v : env.data) data_.add_invoice(parse_invoice(v.as_object()), p.request_id);
        });

        // Events in the newest second disagree: ask Stripe for the current truth.
        for (const auto& id : data_.subscriptions.ambiguous()) {
            auto [obj, request_id] = co_await client_.retrieve("/v1/subscriptions/" + id);
            data_.subscriptions.resolve(parse_subscription(obj));
            data_.request_ids[id] = request_id;
            record(list_page_info{"/v1/subscriptions/" + id, 1, request_id, 1, false});
        }
    }

    fetched& data() { return data_; }

private:
    void on_page(const list_page_info& p) {
        record(p);
        result_.objects += static_cast<std::int64_t>(p.object_count);
    }

    void record(const list_page_info& p) {
        ++result_.pages;
        result_.request_ids.push_back(p.request_id);
        db_.record_page(result_.run_id, p);
    }

    void on_event(event e, const std::string& request_id) {
        data_.request_ids.emplace(e.id, request_id);
        if (auto* inv = std::get_if<invoice>(&e.object)) {
            data_.add_invoice(std::move(*inv), request_id);
        } else if (std::holds_alternative<subscription>(e.object)) {
            data_.subscriptions.add(e);
        }
    }

    stripe::client& client_;
    store::store& db_;
    run_result& result_;
    fetched data_;
};

window_input to_window_input(fetched& f) {
    window_input in;
    in.invoices.reserve(f.invoices.size());
    for (auto& [id, inv] : f.invoices) in.invoices.push_back(std::move(inv));
    in.subscriptions = f.subscriptions.states();
    in.request_ids = std::move(f.request_ids);
    return in;
}

local_snapshot load_local_for(store::store& db, const window_input& in) {
    std::set<std::string> customers, emails, invoice_ids;
    for (const auto& inv : in.invoices) {
        customers.insert(inv.customer);
        if (!inv.customer_email.empty()) emails.insert(inv.customer_email);
        invoice_ids.insert(inv.id);
    }
    for (const auto& st : in.subscriptions) customers.insert(st.sub.customer);
    auto vec = [](const std::set<std::string>& s) { return std::vector<std::string>(s.begin(), s.end()); };
    return db.load_local(vec(customers), vec(emails), vec(invoice_ids));
}

json::object entitlement_change_line(const finding& f, const proposed_correction& c, const store::apply_result& r,
                                     std::int64_t run_id) {
    json::object change;
    json::object stripe_ids{{"customer", f.customer_id}};
    std::string action;
    if (c.kind == correction_kind::grant_credits) {
        action = "credits_granted";
        change["ai_credits"] = json::object{{"delta", c.credits}, {"after", r.balance_after}};
        change["credit_event_id"] = r.credit_event_id;
        change["payment_recorded"] = r.payment_recorded;
        stripe_ids["invoice"] = f.subject_id;
    } else {
        // The same action name the app logs for webhook-driven tier changes,
        // so the runbook's log search finds both.
        action = "subscription_updated";
        change["plan"] = json::object{{"from", c.tier_from}, {"to", c.tier_to}};
        stripe_ids["subscription"] = f.subject_id;
        stripe_ids["event"] = c.source;
    }
    if (const auto* rid = f.evidence.if_contains("stripe_request_id")) stripe_ids["request_id"] = *rid;
    return json::object{
        {"action", action},          {"correlation_id", r.correlation_id},
        {"user_id", c.user_id},      {"email", f.user_email},
        {"change", std::move(change)}, {"stripe", std::move(stripe_ids)},
        {"finding", to_string(f.kind)}, {"run_id", run_id},
        {"actor", "stripe-reconciler"},
    };
}

void apply_findings(store::store& db, std::vector<finding> findings, bool dry_run, run_result& result,
                    const std::function<void(const json::object&)>& on_change) {
    for (auto& f : findings) {
        finding_outcome o;
        if (!f.correction) {
            o.note = "no safe correction: flagged for " + std::string(to_string(f.owner));
        } else if (dry_run) {
            o.note = "dry run: not applied";
        } else {
            const auto& c = *f.correction;
            try {
                auto r = db.apply(c, result.run_id, store::random_correlation_id());
                o.correction_id = r.correction_id;
                o.correlation_id = r.correlation_id;
                switch (r.outcome) {
                case store::apply_outcome::applied: {
                    o.disposition = store::disposition::applied;
                    auto line = entitlement_change_line(f, c, r, result.run_id);
                    log::info("entitlement_change", line);
                    on_change(line);
                    break;
                }
                case store::apply_outcome::already_applied:
                    o.disposition = store::disposition::already_applied;
                    o.note = "applied earlier (correlation id " + r.correlation_id + ")";
                    break;
                case store::apply_outcome::superseded:
                    o.disposition = store::disposition::superseded;
                    o.note = r.detail;
                    break;
                case store::apply_outcome::conflict:
                    o.disposition = store::disposition::flagged;
                    o.note = r.detail;
                    break;
                }
            } catch (const store::store_error& e) {
                o.disposition = store::disposition::failed;
                o.note = log::redact(e.what());
                log::error("correction_failed", {{"finding", to_string(f.kind)}, {"subject", f.subject_id},
                                                 {"error", o.note}});
            }
        }
        db.record_finding(result.run_id, f, o.disposition, o.correction_id);
        o.f = std::move(f);
        result.outcomes.push_back(std::move(o));
    }
}

}  // namespace detail

run_result run_once(const config& cfg, const run_options& opts) {
    run_result result;
    result.started_at = now_unix();
    result.dry_run = opts.dry_run;
    result.config_hash = cfg.content_hash;
    result.api_version = cfg.stripe.api_version;
    result.window_end = opts.until.value_or(result.started_at);
    result.window_start = opts.since.value_or(result.window_end - cfg.default_lookback.count());
    if (result.window_start >= result.window_end)
        throw config_error("window: --since " + format_rfc3339(result.window_start) + " is not before --until " +
                           format_rfc3339(result.window_end));
    if (result.window_end - result.window_start > detail::event_retention)
        result.notes.push_back("the window starts before Stripe's 30-day event retention: before " +
                               format_rfc3339(result.window_end - detail::event_retention) +
                               " only paid invoices were checked (tier changes there are not visible)");

    const std::string key = read_secret(cfg.stripe.key, "stripe key");
    log::add_secret(key);

    auto db = store::open_sqlite_store({cfg.database.path, cfg.database.busy_timeout, false});
    db->check_schema();

    result.run_id = db->begin_run(store::run_record{result.window_start, result.window_end, opts.dry_run,
                                                    cfg.content_hash, cfg.stripe.api_version});
    result.report_dir = prepare_report_dir(cfg.output.dir, result.run_id, result.started_at);
    log::info("run_started", {{"run_id", result.run_id},
                              {"window_start", format_rfc3339(result.window_start)},
                              {"window_end", format_rfc3339(result.window_end)},
                              {"dry_run", opts.dry_run}});

    asio::io_context ioc;
    auto transport = stripe::make_beast_transport(
        ioc, stripe::beast_transport_options{
                 .base_url = cfg.stripe.base_url,
                 .ca_file = cfg.stripe.ca_file,
                 .allow_plain_http_loopback = cfg.stripe.allow_plain_http_loopback,
                 .timeout = cfg.stripe.request_timeout,
                 .api_key = key,
                 .stripe_version = cfg.stripe.api_version,
                 .stripe_account = cfg.stripe.account,
             });
    stripe::client_options copts;
    copts.max_retries = cfg.stripe.max_retries;
    copts.requests_per_second = detail::requests_per_second(cfg, key);
    copts.concurrency = cfg.stripe.concurrency;
    copts.redact = {key};
    stripe::client client(*transport, copts);
    detail::fetcher fetcher(client, *db, result);

    try {
        auto done = asio::co_spawn(ioc, fetcher.fetch(result.window_start, result.window_end), asio::use_future);
        ioc.run();
        done.get();  // rethrows the fetch's failure
        const auto stats = client.stats();
        result.requests = static_cast<std::int64_t>(stats.requests);
        result.retries = static_cast<std::int64_t>(stats.retries);

        window_input in = detail::to_window_input(fetcher.data());
        const local_snapshot local = detail::load_local_for(*db, in);
        auto findings = diff(in, local, detail::policy_of(cfg));
        report_writer changes(result.report_dir);
        detail::apply_findings(*db, std::move(findings), opts.dry_run, result,
                               [&](const json::object& line) { changes.entitlement_change(line); });
        result.succeeded = true;
    } catch (const std::exception& e) {
        result.succeeded = false;
        result.error = log::redact(e.what());
        log::error("run_failed", {{"run_id", result.run_id}, {"error", result.error}});
    }
    result.finished_at = now_unix();
    db->finish_run(result.run_id, result.succeeded,
                   store::run_totals{result.pages, result.objects, static_cast<std::int64_t>(result.outcomes.size()),
                                     result.applied()},
                   result.error);
    write_report(result);
    log::info("run_finished", {{"run_id", result.run_id},
                               {"status", result.succeeded ? "succeeded" : "failed"},
                               {"findings", static_cast<std::int64_t>(result.outcomes.size())},
                               {"applied", result.applied()},
                               {"report", result.report_dir.string()}});
    return result;
}

}  // namespace reconciler
