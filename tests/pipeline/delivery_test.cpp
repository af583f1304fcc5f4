// The run's delivery step (pipeline/delivery.hpp) against a real SQLite
// outbox and a scripted in-process sender: retries, giving up, Retry-After,
// the step's time budget, secrets kept out of logs and the outbox.
#include "pipeline/delivery.hpp"

#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "store/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <random>

#include <unistd.h>

using namespace reconciler;
using namespace reconciler::pipeline;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Answers from a script (the last answer repeats), each after `delay`.
class fake_sender : public deliver::sender {
public:
    std::deque<deliver::attempt> script;
    std::chrono::milliseconds delay{0};
    std::vector<deliver::escalation_event> seen;
    std::vector<std::string> to;
    // One route that hangs: each attempt to it takes `hang` and gets no answer.
    std::string hanging_route;
    std::chrono::milliseconds hang{0};

    asio::awaitable<deliver::attempt> send(const deliver::endpoint& ep, const deliver::escalation_event& e) override {
        seen.push_back(e);
        to.push_back(ep.name);
        if (ep.name == hanging_route) {
            asio::steady_timer t(co_await asio::this_coro::executor, hang);
            co_await t.async_wait(asio::use_awaitable);
            co_return deliver::attempt{deliver::outcome::retry, 0, ep.name + ": no answer within the deadline", {}};
        }
        if (delay.count() > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor, delay);
            co_await t.async_wait(asio::use_awaitable);
        }
        deliver::attempt a = script.front();
        if (script.size() > 1) script.pop_front();
        co_return a;
    }
};

deliver::attempt retry(int status, std::chrono::seconds after = 0s) {
    return {deliver::outcome::retry, status, "devops/webhook: HTTP " + std::to_string(status), after};
}
const deliver::attempt sent{deliver::outcome::sent, 202, "", 0s};

struct outbox_db {
    fs::path dir = fs::temp_directory_path() / ("recon-delivery-" + std::to_string(std::random_device{}()));
    std::unique_ptr<store::store> db;
    delivery_routes routes;

    outbox_db() {
        fs::create_directories(dir);
        store::create_app_schema(dir / "app.db");
        db = store::open_sqlite_store({dir / "app.db", 5000ms, false});
        db->migrate();
        routes.endpoints["devops/webhook"] = deliver::endpoint{deliver::channel::webhook, "devops/webhook",
                                                               "https://hooks.example.com/x", "hmac-key"};
        routes.team_routes["devops"] = {"devops/webhook"};
        db->set_delivery_routes(routes.team_routes);
    }
    ~outbox_db() {
        db.reset();
        fs::remove_all(dir);
    }
    void raise(const std::string& subject) {
        db->raise({"devops", "webhook_failed_twice", subject, "{}", 0, true}, 1, 1);
    }
    long long count(const std::string& where) {
        SQLite::Database d((dir / "app.db").string(), SQLite::OPEN_READONLY);
        return d.execAndGet("SELECT COUNT(*) FROM recon_escalation_outbox WHERE " + where).getInt64();
    }
    std::string text(const std::string& sql) {
        SQLite::Database d((dir / "app.db").string(), SQLite::OPEN_READONLY);
        return d.execAndGet(sql).getString();
    }
};

delivery_options quick() {
    delivery_options o;
    o.run_id = 7;
    o.budget = 5s;
    o.backoff_base = 1ms;
    o.backoff_cap = 4ms;
    return o;
}

delivery_tally run_step(outbox_db& t, fake_sender& s, const delivery_options& o) {
    asio::io_context ioc;
    auto f = asio::co_spawn(ioc, deliver_due(*t.db, s, t.routes, o), asio::use_future);
    ioc.run();
    return f.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_step)

BOOST_AUTO_TEST_CASE(retried_then_sent_within_the_run) {
    outbox_db t;
    t.raise("evt_1");
    fake_sender s;
    s.script = {retry(503), retry(0), sent};
    const auto tally = run_step(t, s, quick());
    BOOST_TEST(s.seen.size() == 3u);
    BOOST_TEST(tally.sent == 1);
    BOOST_TEST(tally.retried == 2);
    BOOST_TEST(tally.by_route.at("devops/webhook").sent == 1);
    BOOST_TEST(t.count("status = 'sent' AND attempts = 3") == 1);
    // The event: stable key, severity, one-line summary, the run.
    const auto& e = s.seen.back();
    BOOST_TEST(e.dedup_key == "webhook_failed_twice:evt_1");
    BOOST_TEST(e.severity == "error");
    BOOST_TEST((e.what == deliver::action::trigger));
    BOOST_TEST(e.summary.find("webhook_failed_twice for evt_1") != std::string::npos);
    BOOST_TEST(e.run_id == 7);
    // Nothing is due any more: a second step sends nothing.
    BOOST_TEST(run_step(t, s, quick()).sent == 0);
    BOOST_TEST(s.seen.size() == 3u);
}

BOOST_AUTO_TEST_CASE(eight_retries_fail_the_delivery_not_the_step) {
    outbox_db t;
    t.raise("evt_1");
    t.raise("evt_2");
    fake_sender s;
    s.script = {retry(500)};
    delivery_tally tally;
    auto o = quick();
    o.attempts_per_step = 100;  // all eight in one step
    BOOST_CHECK_NO_THROW(tally = run_step(t, s, o));
    BOOST_TEST(s.seen.size() == 16u);  // 8 attempts each
    BOOST_TEST(tally.failed == 2);
    BOOST_TEST(tally.sent == 0);
    BOOST_TEST(t.count("status = 'failed' AND attempts = 8 AND last_error = 'devops/webhook: HTTP 500'") == 2);
    // A refusal for good (a 4xx) fails at once.
    t.raise("evt_3");
    s.script = {deliver::attempt{deliver::outcome::failed, 400, "devops/webhook: HTTP 400", 0s}};
    BOOST_TEST(run_step(t, s, quick()).failed == 1);
    BOOST_TEST(s.seen.size() == 17u);
}

// A receiver down for a whole run costs a delivery only attempts_per_step of
// its max_attempts: it is still pending, and delivered, in the next runs.
BOOST_AUTO_TEST_CASE(an_outage_of_one_run_leaves_attempts_for_the_next) {
    outbox_db t;
    t.raise("evt_1");
    fake_sender s;
    s.script = {retry(503)};
    const auto down = run_step(t, s, quick());
    BOOST_TEST(s.seen.size() == 3u);
    BOOST_TEST(down.failed == 0);
    BOOST_TEST(down.left_pending == 1);
    BOOST_TEST(t.count("status = 'pending' AND attempts = 3") == 1);
    ::sleep(2);  // next_attempt_at has whole seconds
    s.script = {sent};
    BOOST_TEST(run_step(t, s, quick()).sent == 1);
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_within_the_run_and_across_runs) {
    outbox_db t;
    t.raise("evt_1");
    fake_sender s;
    s.script = {retry(429, 1s), sent};
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(run_step(t, s, quick()).sent == 1);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 1s));
    // Asked to wait longer than the step may: left pending for the next run, not before then.
    t.raise("evt_2");
    s.script = {retry(429, 120s), sent};
    auto o = quick();
    o.budget = 300ms;
    const auto before = now_unix();
    const auto tally = run_step(t, s, o);
    BOOST_TEST(tally.left_pending == 1);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
    BOOST_TEST(t.count("status = 'pending' AND attempts = 1 AND next_attempt_at >= " + std::to_string(before + 120)) == 1);
    BOOST_TEST(run_step(t, s, quick()).sent == 0);  // not due yet
}

BOOST_AUTO_TEST_CASE(the_step_stops_at_its_budget_and_leaves_the_rest_pending) {
    outbox_db t;
    for (int i = 0; i < 6; ++i) t.raise("evt_" + std::to_string(i));
    fake_sender s;
    s.script = {retry(0)};  // a receiver that hangs until the sender's deadline
    s.delay = 150ms;
    auto o = quick();
    o.budget = 400ms;
    const auto start = std::chrono::steady_clock::now();
    const auto tally = run_step(t, s, o);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST((took < 1500ms));  // the budget, one attempt in flight, slack for a loaded machine (unbounded: ~7 s)
    BOOST_TEST(s.seen.size() <= 4u);
    BOOST_TEST(tally.failed == 0);
    BOOST_TEST(t.count("status = 'pending'") == 6);
}

// One receiver that hangs must not starve the others: its route is held
// after a failed attempt, so it costs one deadline per backoff, not per row.
BOOST_AUTO_TEST_CASE(a_hanging_route_does_not_starve_the_others) {
    outbox_db t;
    t.routes.endpoints["data_platform/slack"] =
        deliver::endpoint{deliver::channel::slack, "data_platform/slack", "https://hooks.slack.example/x", {}};
    t.routes.team_routes["data_platform"] = {"data_platform/slack"};
    t.db->set_delivery_routes(t.routes.team_routes);
    for (int i = 0; i < 6; ++i) t.raise("evt_" + std::to_string(i));  // devops/webhook, queued first
    for (int i = 0; i < 3; ++i)
        t.db->raise({"data_platform", "balance_drift", "user" + std::to_string(i) + "@example.com", "{}", 0, false}, 1, 1);
    fake_sender s;
    s.script = {sent};
    s.hanging_route = "devops/webhook";
    s.hang = 300ms;
    auto o = quick();
    o.backoff_base = 500ms;
    o.backoff_cap = 2s;
    o.budget = 1200ms;
    const auto tally = run_step(t, s, o);
    BOOST_TEST(tally.by_route.at("data_platform/slack").sent == 3);
    BOOST_TEST(std::count(s.to.begin(), s.to.end(), "devops/webhook") <= 3);
    BOOST_TEST(t.count("route = 'devops/webhook' AND status = 'pending'") == 6);
}

BOOST_AUTO_TEST_CASE(secrets_are_read_once_and_never_logged_or_stored) {
    const std::string key = "R0UTINGKEYsecretVALUE42";
    ::setenv("RECON_TEST_PD_KEY", key.c_str(), 1);
    ::setenv("RECON_TEST_SLACK", "http://example.com/services/T/B/x", 1);
    escalations_config cfg;
    cfg.routes["devops"].push_back({route_type::pagerduty, "devops/pagerduty", "https://events.pagerduty.com/v2/enqueue",
                                    secret_source{.env = "RECON_TEST_PD_KEY", .file = {}, .credential = {}}});
    const auto routes = read_delivery_routes(cfg);
    BOOST_TEST(routes.endpoints.at("devops/pagerduty").secret == key);
    BOOST_TEST((routes.team_routes.at("devops") == std::vector<std::string>{"devops/pagerduty"}));
    // A Slack URL that is not https: refused, and not echoed.
    escalations_config bad;
    bad.routes["devops"].push_back(
        {route_type::slack, "devops/slack", "", secret_source{.env = "RECON_TEST_SLACK", .file = {}, .credential = {}}});
    try {
        (void)read_delivery_routes(bad);
        BOOST_ERROR("expected config_error");
    } catch (const config_error& e) {
        BOOST_TEST(std::string(e.what()).find("escalations.routes.devops[0].url") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("services/T/B") == std::string::npos, e.what());
    }

    outbox_db t;
    t.routes = routes;
    t.db->set_delivery_routes(routes.team_routes);
    t.raise("evt_1");
    std::vector<std::string> lines;
    log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
    fake_sender s;  // a sender that breaks the contract and echoes the key
    s.script = {deliver::attempt{deliver::outcome::failed, 400, "devops/pagerduty: bad key " + key, 0s}};
    run_step(t, s, quick());
    log::set_sink({});
    BOOST_TEST(!lines.empty());
    for (const auto& l : lines) BOOST_TEST(l.find(key) == std::string::npos, l);
    BOOST_TEST(t.text("SELECT last_error FROM recon_escalation_outbox").find(key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(severity_per_kind) {
    BOOST_TEST(std::string(severity_of("paid_without_entitlement_change")) == "critical");
    BOOST_TEST(std::string(severity_of("balance_drift")) == "warning");
    BOOST_TEST(std::string(severity_of("missing_correlation_id")) == "info");
    BOOST_TEST(std::string(severity_of("something_new")) == "warning");
}

BOOST_AUTO_TEST_SUITE_END()
