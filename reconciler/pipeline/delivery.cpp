#include "pipeline/delivery.hpp"

#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "report/dashboard_links.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>
#include <set>

namespace reconciler::pipeline {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

deliver::channel channel_of(route_type t) {
    switch (t) {
    case route_type::pagerduty: return deliver::channel::pagerduty;
    case route_type::slack: return deliver::channel::slack;
    case route_type::webhook: return deliver::channel::webhook;
    }
    return deliver::channel::webhook;
}

// Exponential from `base`, capped, with full jitter in its upper half (so
// many rows retrying together spread out), and never before Retry-After.
milliseconds backoff(const delivery_options& o, std::int64_t attempts, std::chrono::seconds retry_after) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const int shift = static_cast<int>(std::clamp<std::int64_t>(attempts - 1, 0, 20));
    const auto exp = std::min(o.backoff_cap, o.backoff_base * (std::int64_t{1} << shift));
    const auto half = exp.count() / 2;
    const milliseconds jittered{half + std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(half, 0))(rng)};
    const milliseconds asked = std::min<milliseconds>(retry_after, std::chrono::hours(1));
    return std::max(jittered, asked);
}

// One row in the step: due again at `ready`.
struct queued {
    store::outbox_delivery row;
    clock_type::time_point ready;
    int tried = 0;  // in this step
};

class step {
public:
    step(store::outbox& db, deliver::sender& s, const delivery_routes& routes, const delivery_options& o)
        : db_(db), sender_(s), routes_(routes), o_(o), deadline_(clock_type::now() + o.budget) {}

    asio::awaitable<delivery_tally> run() {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (refill()) {
            while (!queue_.empty()) {
                auto next = std::min_element(queue_.begin(), queue_.end(), [this](const queued& a, const queued& b) {
                    return ready_of(a) < ready_of(b);
                });
                const auto ready = ready_of(*next);
                if (ready >= deadline_ || clock_type::now() >= deadline_) co_return leave_rest();
                if (ready > clock_type::now()) {
                    timer.expires_at(ready);
                    co_await timer.async_wait(asio::use_awaitable);
                }
                queued q = std::move(*next);
                queue_.erase(next);
                if (co_await attempt_one(q)) queue_.push_back(std::move(q));
            }
            if (clock_type::now() >= deadline_) break;
        }
        co_return leave_rest();
    }

private:
    // A route that asked for a retry is held as a whole until then: a
    // receiver that hangs costs one deadline per backoff, not one per row,
    // and the other routes' rows go first meanwhile.
    clock_type::time_point ready_of(const queued& q) const {
        const auto held = route_held_.find(q.row.route);
        return held == route_held_.end() ? q.ready : std::max(q.ready, held->second);
    }

    // More due rows (not those this step already handled); false when none.
    bool refill() {
        std::vector<store::outbox_delivery> rows;
        try {
            rows = db_.due_deliveries(now_unix(), o_.batch);
        } catch (const std::exception& e) {
            log::error("delivery_failed", {{"run_id", o_.run_id}, {"error", log::redact(e.what())}});
            return false;
        }
        bool any = false;
        for (auto& r : rows) {
            if (!handled_.insert(r.id).second) continue;
            queue_.push_back(queued{std::move(r), clock_type::now()});
            any = true;
        }
        return any;
    }

    delivery_tally leave_rest() {
        tally_.left_pending += static_cast<std::int64_t>(queue_.size());
        queue_.clear();
        return std::move(tally_);
    }

    // One attempt; true when it is to be tried again (at q.ready, if that
    // is within the step's budget).
    asio::awaitable<bool> attempt_one(queued& q) {
        store::outbox_delivery& row = q.row;
        const auto& to = routes_.endpoints.at(row.route);
        const deliver::escalation_event ev = event_of(row, o_);
        deliver::attempt a;
        try {
            a = co_await sender_.send(to, ev);
        } catch (const std::exception& e) {  // the contract says values; a bug must still not fail the run
            a = deliver::attempt{deliver::outcome::retry, 0, row.route + ": " + e.what(), {}};
        }
        ++row.attempts;
        ++q.tried;
        auto& per_route = tally_.by_route[row.route];
        try {
            if (a.result == deliver::outcome::sent) {
                db_.mark_delivery_sent(row.id);
                ++tally_.sent;
                ++per_route.sent;
                log::info("escalation_delivered", {{"run_id", o_.run_id},
                                                   {"route", row.route},
                                                   {"action", row.action},
                                                   {"escalation_id", row.esc.id},
                                                   {"http_status", a.http_status}});
                co_return false;
            }
            const bool give_up = a.result == deliver::outcome::failed;
            const milliseconds wait = backoff(o_, row.attempts, a.retry_after);
            const auto next_at = now_unix() + std::chrono::ceil<std::chrono::seconds>(wait).count();
            const std::string status =
                db_.mark_delivery_failed(row.id, next_at, log::redact(a.error), give_up, o_.max_attempts);
            const bool failed = status == "failed";
            log::write(failed ? log::level::error : log::level::warn, "escalation_delivery_failed",
                       {{"run_id", o_.run_id}, {"route", row.route}, {"escalation_id", row.esc.id},
                        {"http_status", a.http_status}, {"attempts", row.attempts}, {"status", status},
                        {"error", log::redact(a.error)}});
            if (failed) {
                ++tally_.failed;
                ++per_route.failed;
                co_return false;
            }
            ++tally_.retried;
            ++per_route.retried;
            q.ready = clock_type::now() + wait;
            route_held_[row.route] = q.ready;
        } catch (const std::exception& e) {  // the row stays as it was: pending, tried again next time
            log::error("delivery_failed", {{"run_id", o_.run_id}, {"route", row.route}, {"error", log::redact(e.what())}});
            co_return false;
        }
        // Tried again in this step only if that fits in its budget and the
        // step's share of attempts; else pending for the next run.
        if (q.tried >= o_.attempts_per_step) {
            ++tally_.left_pending;
            co_return false;
        }
        co_return true;
    }

    store::outbox& db_;
    deliver::sender& sender_;
    const delivery_routes& routes_;
    const delivery_options& o_;
    clock_type::time_point deadline_;
    std::vector<queued> queue_;
    std::set<std::int64_t> handled_;
    std::map<std::string, clock_type::time_point> route_held_;
    delivery_tally tally_;
};

}  // namespace

delivery_routes read_delivery_routes(const escalations_config& cfg) {
    delivery_routes out;
    for (const auto& [team, routes] : cfg.routes) {
        for (std::size_t i = 0; i < routes.size(); ++i) {
            const auto& r = routes[i];
            const std::string key = "escalations.routes." + team + "[" + std::to_string(i) + "]." +
                                    (r.type == route_type::pagerduty ? "routing_key"
                                     : r.type == route_type::slack   ? "url"
                                                                     : "secret");
            deliver::endpoint ep{channel_of(r.type), r.name, r.url, {}};
            std::string secret = read_secret(r.secret, r.name + " " + key.substr(key.rfind('.') + 1), key);
            log::add_secret(secret);
            if (r.type == route_type::slack) {
                if (const auto why = delivery_url_problem(secret))
                    throw config_error(key + ": the Slack webhook URL read from its source is refused: " + *why);
                ep.url = std::move(secret);
            } else {
                ep.secret = std::move(secret);
            }
            out.endpoints.emplace(r.name, std::move(ep));
            out.team_routes[team].push_back(r.name);
        }
    }
    return out;
}

const char* severity_of(const std::string& kind) noexcept {
    // Money or access wrong for a paying customer now: critical; a user's
    // data wrong: error; the integration degraded: warning; hygiene: info.
    static const std::map<std::string, const char*, std::less<>> table{
        {"paid_without_entitlement_change", "critical"}, {"blast_radius_cap", "critical"},
        {"credits_not_granted", "error"},                {"refund_or_dispute", "error"},
        {"tier_mismatch", "error"},                      {"negative_or_stuck_balance", "error"},
        {"credits_not_decrementing", "error"},           {"amount_mismatch", "error"},
        {"currency_mismatch", "error"},                  {"missed_webhook", "error"},
        {"webhook_failed_twice", "error"},               {"webhook_signature_failures", "warning"},
        {"balance_drift", "warning"},                    {"unknown_price", "warning"},
        {"billing_portal_misconfigured", "warning"},     {"invalid_stripe_object", "warning"},
        {"orphan_local_payment", "warning"},             {"charge_without_invoice", "warning"},
        {"unknown_customer", "warning"},                 {"missing_correlation_id", "info"},
    };
    const auto it = table.find(kind);
    return it == table.end() ? "warning" : it->second;
}

deliver::escalation_event event_of(const store::outbox_delivery& row, const delivery_options& opts) {
    const store::escalation& e = row.esc;
    deliver::escalation_event ev;
    ev.what = row.action == "resolve" ? deliver::action::resolve : deliver::action::trigger;
    ev.escalation_id = e.id;
    ev.dedup_key = store::escalation_key(e);
    ev.team = e.team;
    ev.kind = e.kind;
    ev.subject = e.subject;
    ev.status = e.status;
    ev.severity = severity_of(e.kind);
    ev.summary = (ev.what == deliver::action::resolve ? "Resolved: " : "") + e.kind + " for " + e.subject + " (" +
                 e.team + ", seen " + std::to_string(e.occurrences) + (e.occurrences == 1 ? " time" : " times") +
                 " since " + e.first_seen + ")";
    ev.evidence = e.evidence;
    // "sub_1#evt_2": the Dashboard page of the object before the '#'.
    const std::string object = e.subject.substr(0, e.subject.find('#'));
    ev.dashboard_url = detail::dashboard_url(object, detail::dashboard_context{opts.livemode, opts.stripe_account});
    ev.first_seen = e.first_seen;
    ev.run_id = opts.run_id;
    // The outbox row: a reopen is a new row, so a receiver's idempotency key
    // tells it from the first trigger, while retries of one row share it.
    ev.delivery_id = std::to_string(row.id);
    return ev;
}

asio::awaitable<delivery_tally> deliver_due(store::outbox& db, deliver::sender& sender, const delivery_routes& routes,
                                            const delivery_options& opts) {
    if (routes.empty()) co_return delivery_tally{};
    step s(db, sender, routes, opts);
    co_return co_await s.run();
}

asio::awaitable<void> deliver_for_run(store::outbox& db, const escalations_config& cfg, const delivery_routes& routes,
                                      run_result& result) {
    if (routes.empty()) co_return;
    result.deliveries_configured = true;
    delivery_options o;
    o.run_id = result.run_id;
    o.max_attempts = cfg.max_attempts;
    o.budget = cfg.budget;
    o.livemode = result.livemode;
    o.stripe_account = result.stripe_account;
    try {
        // Named, not temporaries in a co_await expression: GCC 12 destroys those twice.
        const deliver::https_sender_options sender_opts{cfg.ca_file, cfg.deadline};
        const auto ex = co_await asio::this_coro::executor;
        const auto sender = deliver::make_https_sender(ex, sender_opts);
        const delivery_tally t = co_await deliver_due(db, *sender, routes, o);
        result.deliveries.sent = t.sent;
        result.deliveries.failed = t.failed;
        for (const auto& [route, n] : t.by_route) {
            result.deliveries_by_route[route].sent = n.sent;
            result.deliveries_by_route[route].failed = n.failed;
        }
        result.outbox_counts = db.count_deliveries();
        for (const auto& c : result.outbox_counts) {
            if (c.status != "pending") continue;
            result.deliveries.pending += c.count;
            result.deliveries_by_route[c.route].pending = c.count;
        }
    } catch (const std::exception& e) {  // a delivery problem never fails the run
        log::error("delivery_failed", {{"run_id", result.run_id}, {"error", log::redact(e.what())}});
    }
}

}  // namespace reconciler::pipeline
