// Reliability under faults (docs/RELIABILITY.md): the real `reconciler`
// binary against the simulator over HTTPS while the network misbehaves,
// while the app writes the same database, and with the secrets it is given.
#include "e2e/e2e_support.hpp"

#include "core/timeutil.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

using namespace e2e;

namespace {

// Findings as (kind, subject) -> disposition, the comparable part of a report.
std::map<finding_key, std::string> dispositions(const json::object& report) {
    std::map<finding_key, std::string> out;
    for (const auto& [k, f] : report_findings(report)) out[k] = std::string(f.at("disposition").as_string());
    return out;
}

json::object report_at(const fs::path& reports) {
    return json::parse(slurp(reports / "latest" / "report.json")).as_object();
}

// A second simulator on the same data and certificate, and a config that
// points a copy of `db` at it with its own report directory.
struct side_run {
    std::unique_ptr<reconciler::sim::server> sim;
    fs::path config, db, reports;

    side_run(const e2e_env& env, const std::string& name, reconciler::sim::fault_options faults, const fs::path& from_db,
             const std::string& stripe_extra) {
        auto so = env.server_opts;
        so.faults = faults;
        sim = std::make_unique<reconciler::sim::server>(so);
        db = env.dir / (name + ".db");
        reports = env.dir / (name + "-reports");
        fs::copy_file(from_db, db);
        auto text = e2e_env::config_text(sim->port(), db.filename().string(), reports.filename().string());
        const std::string t = "  request_timeout: 5s\n";
        text.replace(text.find(t), t.size(), stripe_extra);
        config = env.dir / (name + ".yaml");
        std::ofstream(config) << text;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(reliability)

// 20 % of all requests fail in every way the network can (the client's
// deadline is 1 s, a stall 2.5 s): the run must end exactly as a fault-free one.
BOOST_AUTO_TEST_CASE(faults_on_a_fifth_of_requests_change_nothing) {
    e2e_env env(60);
    const fs::path pristine = env.dir / "pristine.db";
    env.snapshot_db(pristine);
    // Half-hour slices: 48 of them, each with its own list requests, enough
    // requests for every kind of fault (the client pages a sparse list in one).
    std::ofstream(env.config, std::ios::app) << "window:\n  slice: 30m\n";

    // The reference: a fault-free run.
    auto clean = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << clean.err);
    BOOST_REQUIRE_EQUAL(clean.exit_code, 0);
    const auto clean_report = env.latest_report();
    BOOST_TEST(key_diff(truth_keys(env.truth), keys_of(report_findings(clean_report))).empty());
    const auto clean_state = app_state(env.dir / "app.db");

    reconciler::sim::fault_options f;
    f.seed = 2026;
    f.rate_429 = 0.04;        // half with Retry-After: 1, half without
    f.rate_5xx = 0.04;        // 500/502/503
    f.rate_reset = 0.03;      // connection closed without an answer
    f.rate_truncated = 0.03;  // half the body, then close
    f.rate_malformed = 0.03;  // 200 with a body that is not JSON
    f.rate_stall = 0.03;      // past the client's deadline
    f.stall = std::chrono::milliseconds(2500);
    side_run faulty(env, "faulty", f, pristine, "  request_timeout: 1s\n");
    std::ofstream(faulty.config, std::ios::app) << "window:\n  slice: 30m\n";

    const auto t0 = std::chrono::steady_clock::now();
    auto r = run(env.dir, "run --config " + faulty.config.string() + env.window_args());
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    const auto stats = faulty.sim->stats();
    BOOST_TEST_MESSAGE("faults: " << stats.faults_injected << " of " << stats.requests << " requests ("
                                  << stats.rate_limited << " 429s), run took " << secs << " s");
    // The faults really happened, at about the configured rate.
    BOOST_TEST(stats.faults_injected >= 25u);
    BOOST_TEST(stats.faults_injected * 100 >= stats.requests * 12);
    BOOST_TEST(stats.faults_injected * 100 <= stats.requests * 30);

    const auto report = report_at(faulty.reports);
    BOOST_TEST(report.at("run").at("status").as_string() == "succeeded");
    BOOST_TEST(report.at("run").at("retries").as_int64() >= static_cast<std::int64_t>(stats.faults_injected) / 2);
    // Every retry is on the log (request_retry, warn): which path, what came
    // back, the attempt it leads to and the wait; the metrics count them.
    const auto retried = log_events(r.err, "request_retry");
    BOOST_TEST(static_cast<std::int64_t>(retried.size()) == report.at("run").at("retries").as_int64());
    std::int64_t logged_429 = 0;
    for (const auto& l : retried) {
        BOOST_TEST(l.at("level").as_string() == "warn");
        BOOST_TEST(l.at("path").as_string().starts_with("/v1/"), json::serialize(l));
        BOOST_TEST(l.at("attempt").as_int64() >= 2);
        BOOST_TEST(l.at("wait_ms").as_int64() >= 0);
        BOOST_TEST((l.at("status").is_string() || l.at("status").is_int64()), json::serialize(l));
        if (l.at("status").is_int64() && l.at("status").as_int64() == 429) ++logged_429;
    }
    BOOST_TEST(logged_429 > 0);
    const std::string prom = slurp(faulty.reports / "reconciler.prom");
    BOOST_TEST(prom.find("stripe_reconciler_last_run_retries{mode=\"manual\"} " + std::to_string(retried.size()) + "\n") !=
               std::string::npos, prom);
    BOOST_TEST(prom.find("stripe_reconciler_last_run_rate_limited{mode=\"manual\"} " + std::to_string(logged_429) + "\n") !=
               std::string::npos, prom);
    // Exactly the ground truth, with the same dispositions as the fault-free run...
    BOOST_TEST(key_diff(truth_keys(env.truth), keys_of(report_findings(report))).empty(),
               key_diff(truth_keys(env.truth), keys_of(report_findings(report))));
    BOOST_TEST((dispositions(report) == dispositions(clean_report)));
    BOOST_TEST(report.at("totals").at("applied").as_int64() == clean_report.at("totals").at("applied").as_int64());
    // ...and the same database: plans, balances, credit events, payments, ledger.
    BOOST_TEST((app_state(faulty.db) == clean_state));
    BOOST_TEST(e2e_env::count_in(faulty.db, "SELECT covered_until FROM recon_checkpoints WHERE stream = 'window'") ==
               env.window_end);
}

// Every request fails past the retry budget: the run fails cleanly.
BOOST_AUTO_TEST_CASE(faults_past_the_retry_budget_fail_the_run_cleanly) {
    e2e_env env(30);
    const fs::path pristine = env.dir / "pristine.db";
    env.snapshot_db(pristine);
    const auto before = app_state(pristine);

    reconciler::sim::fault_options f;
    f.rate_5xx = 1.0;
    side_run broken(env, "broken", f, pristine, "  request_timeout: 1s\n  max_retries: 2\n");
    auto r = run(env.dir, "run --config " + broken.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(r.out.find("FAILED") != std::string::npos);
    BOOST_TEST(broken.sim->stats().faults_injected >= 3u);  // the first request and its two retries at least

    // Nothing half-applied: no correction, no credit event, no payment, no plan changed.
    BOOST_TEST(e2e_env::count_in(broken.db, "SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST((app_state(broken.db) == before));
    // The checkpoint is not past what was verified: nothing was.
    BOOST_TEST(e2e_env::count_in(broken.db, "SELECT COUNT(*) FROM recon_checkpoints WHERE covered_until > " +
                                                std::to_string(env.window_start)) == 0);
    BOOST_TEST(e2e_env::count_in(broken.db, "SELECT COUNT(*) FROM recon_runs WHERE status = 'failed'") == 1);

    // The report says so and names the unverified window (from the checkpoint, if any, to the end).
    const auto report = report_at(broken.reports);
    BOOST_TEST(report.at("run").at("status").as_string() == "failed");
    const auto notes = json::serialize(report.at("run").at("notes"));
    SQLite::Database bdb(broken.db.string(), SQLite::OPEN_READONLY);
    SQLite::Statement cp(bdb, "SELECT covered_until FROM recon_checkpoints WHERE stream = 'window'");
    const std::int64_t verified_until = cp.executeStep() ? cp.getColumn(0).getInt64() : env.window_start;
    const std::string unverified = "unverified: " + reconciler::format_rfc3339(std::max(verified_until, env.window_start)) +
                                   " .. " + reconciler::format_rfc3339(env.window_end);
    BOOST_TEST(notes.find(unverified) != std::string::npos, notes << " lacks " << unverified);
    // The error names the failed request, its status (the simulator picks a 5xx) and the retries spent.
    const std::string run_error(report.at("run").at("error").as_string());
    BOOST_TEST(std::regex_search(run_error, std::regex(R"(^fetch /v1/\S+ .*\(req_\w+\): 5\d\d .*gave up after 2 retries)")),
               run_error);
    BOOST_TEST(slurp(broken.reports / "reconciler.prom").find("stripe_reconciler_last_run_success{mode=\"manual\"} 0") !=
               std::string::npos);

    // The same window once Stripe is back: everything verified and applied once.
    side_run healthy(env, "healthy", {}, broken.db, "  request_timeout: 5s\n");
    auto again = run(env.dir, "run --config " + healthy.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << again.err);
    BOOST_REQUIRE_EQUAL(again.exit_code, 0);
    BOOST_TEST(key_diff(truth_keys(env.truth), keys_of(report_findings(report_at(healthy.reports)))).empty());
    BOOST_TEST(e2e_env::count_in(healthy.db, "SELECT covered_until FROM recon_checkpoints WHERE stream = 'window'") ==
               env.window_end);
}


// Stripe goes away half-way through a run that verifies its window in
// hour-long slices: what was applied is whole (each correction with its ledger
// row and credit event), the checkpoint is exactly what was verified, the
// report names the rest, and a rerun ends where an uninterrupted run does.
BOOST_AUTO_TEST_CASE(stripe_lost_mid_run_leaves_nothing_half_applied) {
    reconciler::sim::fault_options slow;
    slow.latency = std::chrono::milliseconds(20);
    e2e_env env(30, slow);
    std::ofstream(env.config, std::ios::app) << "window:\n  slice: 1h\n";
    const fs::path pristine = env.dir / "pristine.db";
    env.snapshot_db(pristine);
    side_run lost(env, "lost", slow, pristine, "  request_timeout: 1s\n  max_retries: 1\n");
    std::ofstream(lost.config, std::ios::app) << "window:\n  slice: 1h\n";

    const pid_t pid = spawn({"run", "--config", lost.config.string(), "--since", std::to_string(env.window_start),
                             "--until", std::to_string(env.window_end)},
                            env.dir / "lost.out", env.dir / "lost.err");
    // Pull the plug once a few slices are checkpointed.
    std::int64_t seen = 0;
    for (int i = 0; i < 3000 && seen < env.window_start + 4 * 3600; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        seen = e2e_env::count_in(lost.db, "SELECT COALESCE(MAX(covered_until), 0) FROM recon_checkpoints");
    }
    lost.sim.reset();
    const int code = wait_exit(pid);
    BOOST_TEST_INFO("stderr: " << slurp(env.dir / "lost.err"));
    BOOST_REQUIRE_GT(seen, env.window_start);
    BOOST_TEST(code == 1);

    const auto cp = e2e_env::count_in(lost.db, "SELECT covered_until FROM recon_checkpoints WHERE stream = 'window'");
    BOOST_TEST(cp >= seen);
    BOOST_TEST(cp < env.window_end);
    // Whole corrections only: every ledger row has its effect, and every
    // change against the pristine database has its ledger row.
    SQLite::Database db(lost.db.string(), SQLite::OPEN_READONLY, 5000);
    db.exec("ATTACH DATABASE '" + pristine.string() + "' AS p");
    auto count = [&](const std::string& sql) { return db.execAndGet(sql).getInt64(); };
    const std::string events = "json_each(u.plan_metadata, '$.credit_events') e";
    BOOST_TEST(count("SELECT COUNT(*) FROM recon_corrections") > 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM recon_corrections c WHERE c.credit_event_id IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM main.users u, " + events + " WHERE json_extract(e.value, '$.id') = "
                     "c.credit_event_id)") == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM recon_corrections c WHERE c.payment_recorded = 1 AND NOT EXISTS "
                     "(SELECT 1 FROM main.payments WHERE stripe_invoice_id = c.stripe_object)") == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM main.users u, " + events + " WHERE json_extract(e.value, '$.id') NOT IN "
                     "(SELECT json_extract(e.value, '$.id') FROM p.users u, " + events + ") AND "
                     "json_extract(e.value, '$.id') NOT IN (SELECT credit_event_id FROM recon_corrections "
                     "WHERE credit_event_id IS NOT NULL)") == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM main.payments WHERE stripe_invoice_id NOT IN "
                     "(SELECT stripe_invoice_id FROM p.payments) AND stripe_invoice_id NOT IN "
                     "(SELECT stripe_object FROM recon_corrections WHERE payment_recorded = 1)") == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM main.users u JOIN p.users pu ON pu.id = u.id WHERE u.plan != pu.plan "
                     "AND NOT EXISTS (SELECT 1 FROM recon_corrections c WHERE c.user_id = u.id AND "
                     "c.kind = 'set_tier')") == 0);
    const auto report = report_at(lost.reports);
    BOOST_TEST(report.at("run").at("status").as_string() == "failed");
    const auto notes = json::serialize(report.at("run").at("notes"));
    const std::string unverified =
        "unverified: " + reconciler::format_rfc3339(cp) + " .. " + reconciler::format_rfc3339(env.window_end);
    BOOST_TEST(notes.find(unverified) != std::string::npos, notes << " lacks " << unverified);

    // Back online: rerunning the window ends where an uninterrupted run does.
    side_run back(env, "back", {}, lost.db, "  request_timeout: 5s\n");
    std::ofstream(back.config, std::ios::app) << "window:\n  slice: 1h\n";
    auto rerun = run(env.dir, "run --config " + back.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << rerun.err);
    BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);
    side_run whole(env, "whole", {}, pristine, "  request_timeout: 5s\n");
    std::ofstream(whole.config, std::ios::app) << "window:\n  slice: 1h\n";
    BOOST_REQUIRE_EQUAL(run(env.dir, "run --config " + whole.config.string() + env.window_args()).exit_code, 0);
    BOOST_TEST((app_state(back.db) == app_state(whole.db)));
}

// The app keeps writing while a run applies corrections (slowed down by the
// crash-test knob): nobody sees "database is locked", nothing is lost.
BOOST_AUTO_TEST_CASE(app_writes_during_a_run_are_neither_blocked_nor_lost) {
    e2e_env env(60);
    const fs::path pristine = env.dir / "pristine.db";
    env.snapshot_db(pristine);
    // The reference: the same run without the writer, on a copy.
    side_run reference(env, "reference", {}, pristine, "  request_timeout: 5s\n");
    BOOST_REQUIRE_EQUAL(run(env.dir, "run --config " + reference.config.string() + env.window_args()).exit_code, 0);

    // The writer touches the users the run corrects (contention on the same
    // rows), but not those with a clawback, whose amount depends on the balance.
    std::set<std::string> clawback_emails, corrected_emails;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& t = tv.as_object();
        const auto* e = t.if_contains("user_email");
        const std::string email = e && e->is_string() ? std::string(e->as_string()) : "";
        if (t.at("kind").as_string() == "refund_or_dispute") clawback_emails.insert(email);
        else if (!t.at("correction").is_null()) corrected_emails.insert(email);
    }
    std::vector<std::int64_t> users;
    {
        SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT id, email FROM users ORDER BY id");
        while (q.executeStep())
            if (!clawback_emails.count(q.getColumn(1).getString()) &&
                (corrected_emails.count(q.getColumn(1).getString()) || users.size() < 4))
                users.push_back(q.getColumn(0).getInt64());
    }
    BOOST_REQUIRE_GE(users.size(), 5u);

    std::atomic<bool> stop{false};
    std::vector<std::string> writer_errors;
    std::map<std::int64_t, std::int64_t> consumed;  // user -> credits the writer consumed
    long long writes = 0;
    std::thread writer([&] {
        // As the app would: its own connection, a busy timeout, ordinary transactions.
        SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READWRITE, 5000);
        SQLite::Statement usage(db, "INSERT INTO ai_usage(user_id, credits, request_id, created_at) "
                                    "VALUES (?, 1, ?, '2020-01-01T00:00:00Z')");
        SQLite::Statement consume(db,
                                  "UPDATE users SET plan_metadata = json_set(json_insert(plan_metadata, "
                                  "'$.credit_events[#]', json(?)), '$.ai_credits', "
                                  "json_extract(plan_metadata, '$.ai_credits') - 1) WHERE id = ?");
        while (!stop) {
            const auto user = users[static_cast<std::size_t>(writes) % users.size()];
            const std::string id = "app-writer-" + std::to_string(writes);
            try {
                SQLite::Transaction tx(db);
                usage.bind(1, user);
                usage.bind(2, id);
                usage.exec();
                usage.reset();
                consume.bind(1, "{\"id\":\"" + id + "\",\"delta\":-1,\"kind\":\"consume\",\"reason\":\"ai_usage\","
                                "\"source\":\"" + id + "\",\"at\":\"2020-01-01T00:00:00Z\"}");
                consume.bind(2, user);
                consume.exec();
                consume.reset();
                tx.commit();
                ++consumed[user];
                ++writes;
            } catch (const std::exception& e) {
                writer_errors.emplace_back(e.what());
                usage.reset();
                consume.reset();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });

    const pid_t pid = spawn({"run", "--config", env.config.string(), "--since", std::to_string(env.window_start),
                             "--until", std::to_string(env.window_end)},
                            env.dir / "run.out", env.dir / "run.err", {"RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=40"});
    const int code = wait_exit(pid);
    stop = true;
    writer.join();
    const auto err = slurp(env.dir / "run.err");
    BOOST_TEST_INFO("stderr: " << err);
    BOOST_TEST(code == 0);
    BOOST_TEST_MESSAGE("app writer committed " << writes << " transactions during the run");
    BOOST_TEST(writes >= 50);
    std::string first_error = writer_errors.empty() ? "" : writer_errors.front();
    BOOST_TEST(writer_errors.empty(), writer_errors.size() << " writer errors, first: " << first_error);
    BOOST_TEST(err.find("locked") == std::string::npos);
    BOOST_TEST(err.find("busy") == std::string::npos);

    // Every writer row is there...
    BOOST_TEST(env.count("SELECT COUNT(*) FROM ai_usage WHERE request_id LIKE 'app-writer-%'") == writes);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM users u, json_each(u.plan_metadata, '$.credit_events') e "
                         "WHERE json_extract(e.value, '$.source') LIKE 'app-writer-%'") == writes);
    // ...and every correction: the same ledger as the reference run, and each
    // balance is the reference's minus what the writer consumed (no lost update).
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections") ==
               e2e_env::count_in(reference.db, "SELECT COUNT(*) FROM recon_corrections"));
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections") > 0);
    SQLite::Database ref(reference.db.string(), SQLite::OPEN_READONLY);
    SQLite::Database now((env.dir / "app.db").string(), SQLite::OPEN_READONLY);
    SQLite::Statement a(ref, "SELECT id, plan, json_extract(plan_metadata, '$.ai_credits') FROM users ORDER BY id");
    SQLite::Statement b(now, "SELECT id, plan, json_extract(plan_metadata, '$.ai_credits') FROM users ORDER BY id");
    while (a.executeStep()) {
        BOOST_REQUIRE(b.executeStep());
        const auto user = a.getColumn(0).getInt64();
        BOOST_TEST_INFO("user " << user);
        BOOST_TEST(a.getColumn(1).getString() == b.getColumn(1).getString());
        BOOST_TEST(a.getColumn(2).getInt64() - consumed[user] == b.getColumn(2).getInt64());
    }
    SQLite::Statement led_a(ref, "SELECT group_concat(stripe_object || kind || credits_delta, ';') FROM "
                                 "(SELECT * FROM recon_corrections ORDER BY stripe_object, kind)");
    SQLite::Statement led_b(now, "SELECT group_concat(stripe_object || kind || credits_delta, ';') FROM "
                                 "(SELECT * FROM recon_corrections ORDER BY stripe_object, kind)");
    BOOST_REQUIRE(led_a.executeStep() && led_b.executeStep());
    BOOST_TEST(led_a.getColumn(0).getString() == led_b.getColumn(0).getString());
}


// Every command, with a recognisable key and webhook secret: neither appears
// in any output, report, metrics file, database file or command line; what
// the reconciler creates is not readable by other users.
BOOST_AUTO_TEST_CASE(secrets_never_leave_their_source_and_files_are_private) {
    const std::string webhook_secret = "whsec_E2E_WEBHOOK_do_not_leak_77b1e0";
    e2e_env env(30);
    // The app's database is private to the app (as it would be in production).
    ::chmod((env.dir / "app.db").c_str(), 0640);
    // A simulator that also receives webhooks (signed with the secret) for replay.
    auto so = env.server_opts;
    so.webhook_secret = webhook_secret;
    env.restart_sim(so);
    std::ofstream(env.config, std::ios::app) << "webhook:\n  secret: { env: RECON_E2E_WEBHOOK_SECRET }\n";
    ::setenv("RECON_E2E_WEBHOOK_SECRET", webhook_secret.c_str(), 1);
    const std::string cfg = " --config " + env.config.string();

    std::vector<std::pair<std::string, process_result>> outputs;
    auto cmd = [&](const std::string& args, int expected) {
        auto r = run(env.dir, args);
        BOOST_TEST_INFO(args << "\nstderr: " << r.err);
        BOOST_TEST(r.exit_code == expected);
        outputs.emplace_back(args, r);
    };
    std::string email;
    {
        SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READONLY);
        email = db.execAndGet("SELECT email FROM users ORDER BY id LIMIT 1").getString();
    }
    const std::string event_id(json::parse(slurp(env.dir / "data" / "events.json")).as_array().at(0).at("id").as_string());

    cmd("run" + cfg + env.window_args(), 0);
    cmd("run --dry-run" + cfg + env.window_args(), 0);
    cmd("inspect" + cfg + " --user " + email, 0);
    cmd("inspect --json" + cfg + " --user " + email, 0);
    cmd("adjust" + cfg + " --user " + email + " --grant-credits 5 --reason secrets-test", 0);
    cmd("replay " + event_id + cfg + " --forward-to https://127.0.0.1:" + std::to_string(env.sim->port()) +
            "/webhook --ca-file " + (env.dir / "ca.pem").string(),
        0);
    BOOST_TEST(env.sim->stats().webhooks.size() == 1u);
    // A secret on the command line is refused without being echoed.
    cmd("run" + cfg + " --api-key " + api_key, 2);
    // A key file anyone can read is refused without being echoed.
    std::ofstream(env.dir / "stripe.key") << api_key << "\n";
    ::chmod((env.dir / "stripe.key").c_str(), 0644);
    const fs::path keyfile_cfg = env.dir / "keyfile.yaml";
    {
        auto text = slurp(env.config);
        const std::string from = "key: { env: RECON_E2E_STRIPE_KEY }";
        text.replace(text.find(from), from.size(), "key: { file: stripe.key }");
        std::ofstream(keyfile_cfg) << text;
    }
    cmd("run --config " + keyfile_cfg.string() + env.window_args(), 2);

    // The daemon, briefly; its command line while it runs.
    const pid_t pid = spawn({"daemon", "--config", env.config.string(), "--every", "1h"}, env.dir / "daemon.out",
                            env.dir / "daemon.err");
    for (int i = 0; i < 300 && slurp(env.dir / "daemon.err").find("daemon_next_run") == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Read while it waits for its next run: a read right after fork sees the
    // test's own command line, one inside execve an empty one.
    const std::string cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    BOOST_TEST(cmdline.find("daemon") != std::string::npos);
    ::kill(pid, SIGTERM);
    BOOST_TEST(wait_exit(pid) == 0);

    // A failing run (Stripe gone), with its report.
    env.sim.reset();
    env.edit_config("  request_timeout: 5s\n", "  request_timeout: 1s\n  max_retries: 1\n");
    cmd("run" + cfg + env.window_args(), 1);

    for (const auto& [args, r] : outputs)
        for (const auto* secret : {&api_key, &webhook_secret}) {
            BOOST_TEST(r.out.find(*secret) == std::string::npos, args << ": stdout has a secret");
            BOOST_TEST(r.err.find(*secret) == std::string::npos, args << ": stderr has a secret");
        }
    for (const auto* secret : {&api_key, &webhook_secret}) BOOST_TEST(cmdline.find(*secret) == std::string::npos);
    // Every file in the test directory (reports, metrics, the database and its
    // WAL, logs, the lock) except the key file the test wrote itself.
    int scanned = 0;
    for (const auto& entry : fs::recursive_directory_iterator(env.dir)) {
        if (!entry.is_regular_file() || entry.path() == env.dir / "stripe.key") continue;
        const auto bytes = slurp(entry.path());
        ++scanned;
        for (const auto* secret : {&api_key, &webhook_secret})
            BOOST_TEST(bytes.find(*secret) == std::string::npos, entry.path() << " holds a secret");
    }
    BOOST_TEST(scanned > 20);

    // Modes: reports and metrics 0640 (directories 0750), and what SQLite and
    // the lock create beside the database is not readable by other users.
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(env.dir / "reports")) {
        if (entry.is_symlink()) continue;
        struct stat st {};
        BOOST_REQUIRE(::stat(entry.path().c_str(), &st) == 0);
        const unsigned mode = st.st_mode & 07777;
        // The metrics file holds counts, no customer data, and node_exporter
        // (another user) reads it: 0644.
        const bool metrics = entry.path().extension() == ".prom";
        BOOST_TEST((mode & (metrics ? 0022 : 0027)) == 0u, entry.path() << " mode " << std::oct << mode);
        ++checked;
    }
    BOOST_TEST(checked > 10);
    for (const char* f : {"app.db", "app.db-wal", "app.db-shm", "app.db.reconciler.lock", "reports"}) {
        struct stat st {};
        if (::stat((env.dir / f).c_str(), &st) != 0) continue;  // SQLite removes the WAL on a clean close
        BOOST_TEST((st.st_mode & 0007) == 0u, f << " mode " << std::oct << (st.st_mode & 07777));
    }
}

BOOST_AUTO_TEST_SUITE_END()
