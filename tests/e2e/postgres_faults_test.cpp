// The real binary on PostgreSQL under faults (issue 21): the server restarted
// mid-run, the run lock's session killed, a statement timeout, SIGKILLs at
// random points, and the app writing with its own connections while the run
// applies. Each ends in the state of an uninterrupted run, nothing applied
// twice, nothing of the app's lost.
#include "e2e/pg_e2e_support.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

using namespace e2e;
using reconciler::test::pg_server;

namespace {

// A PostgreSQL server of the tests' own (tools/pg_cluster.sh), for the
// tests that restart or stop it: the fixture's server is shared with tests
// running in parallel.
struct own_cluster {
    fs::path dir = fs::temp_directory_path() / ("recon-pg-own-" + std::to_string(::getpid()) + "-" +
                                                std::to_string(std::random_device{}() % 100000));
    own_cluster() { BOOST_REQUIRE_EQUAL(cluster("start"), 0); }
    ~own_cluster() {
        cluster("stop");
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    int cluster(const std::string& cmd, const std::string& port = "") const {
        const std::string line =
            std::string(PG_CLUSTER_SH) + " " + cmd + " " + dir.string() + " " + port + " >/dev/null";
        const int status = std::system(line.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    pg_server server() const { return pg_server(dir); }
    std::string port() const {
        std::string p;
        std::ifstream(dir / "port") >> p;
        return p;
    }
    // Started again after a stop, on the port the tests' URLs name.
    int start_again() const { return cluster("start", port()); }
    // Up, whatever the last test that stopped it left.
    void ensure_up() const {
        if (!fs::exists(dir / "data" / "postmaster.pid")) BOOST_REQUIRE_EQUAL(start_again(), 0);
    }
};

// The one such server of this process (initdb takes seconds), for the
// tests that restart or stop it; each test has its own database on it.
own_cluster& restartable_cluster() {
    static own_cluster c;
    c.ensure_up();
    return c;
}

// The database_connect_retry lines (the last line of a failed command is its plain error).
long long retry_lines(const std::string& err) {
    long long n = 0;
    for (auto at = err.find("\"event\":\"database_connect_retry\""); at != std::string::npos;
         at = err.find("\"event\":\"database_connect_retry\"", at + 1))
        ++n;
    return n;
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

// Polls `done` every 20 ms for up to `ms`; whether it came true.
template <class F>
bool wait_until(F done, int ms) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

pid_t spawn_run(const fs::path& config, const e2e_env& env, const char* pause_ms, const std::string& name) {
    return spawn({"run", "--config", config.string(), "--since", std::to_string(env.window_start), "--until",
                  std::to_string(env.window_end)},
                 env.dir / (name + ".out"), env.dir / (name + ".err"),
                 {std::string("RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=") + pause_ms});
}

std::string run_args(const fs::path& config, const e2e_env& env) {
    return "run --config " + config.string() + env.window_args();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_faults)

// The server restarts while the run applies (paused after each correction):
// the run fails cleanly (exit 1, naming what it was doing, the database and
// the server's reason, never the password), the rerun goes through (no
// stale lock) and ends in the uninterrupted run's state, nothing twice.
BOOST_AUTO_TEST_CASE(server_restart_mid_run_fails_cleanly_and_the_rerun_reaches_the_uninterrupted_state) {
    own_cluster& cluster = restartable_cluster();
    pg_e2e t({}, cluster.server());
    auto& env = t.env;
    pg_clone ref(t.db.server(), t.db.name(), t.db.name() + "_ref");
    const fs::path ref_config = t.config_for(ref.name());
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + ref_config.string()).exit_code, 0);
    const auto whole = run(env.dir, run_args(ref_config, env));
    BOOST_TEST_INFO("stderr: " << whole.err);
    BOOST_REQUIRE_EQUAL(whole.exit_code, 0);
    const std::string expected = pg_app_state(ref.options());
    const long long corrections = pg_e2e::count_in(ref.options(), "SELECT count(*) FROM recon.recon_corrections");
    BOOST_REQUIRE_GE(corrections, 3);

    const pid_t pid = spawn_run(env.config, env, "400", "restarted");
    const bool applying = wait_until([&] {
        try {
            return t.count("SELECT count(*) FROM recon.recon_corrections") >= 1;
        } catch (const std::exception&) {  // not migrated yet as seen from here: keep polling
            return false;
        }
    }, 20'000);
    BOOST_REQUIRE_MESSAGE(applying, "the run applied nothing: " << slurp(env.dir / "restarted.err"));
    BOOST_REQUIRE_EQUAL(cluster.cluster("restart"), 0);
    const int code = wait_exit(pid);
    const std::string err = slurp(env.dir / "restarted.err");
    BOOST_TEST_INFO("stderr: " << err);
    BOOST_TEST(code == 1);
    for (const auto& failed : log_events(err, "run_failed")) BOOST_TEST_MESSAGE("run_failed: " << failed.at("error"));
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") < corrections, "the run finished anyway");
    // What, where and why: the action, host:port/database, the server's reason.
    std::string port;
    std::ifstream(cluster.dir / "port") >> port;
    BOOST_TEST(err.find("on 127.0.0.1:" + port + "/" + t.db.name() + " as reconciler") != std::string::npos);
    BOOST_TEST((err.find("57P01") != std::string::npos || err.find("server closed the connection") != std::string::npos ||
                err.find("terminating connection") != std::string::npos));
    BOOST_TEST(err.find("rolled back") != std::string::npos);
    BOOST_TEST((err.find("\"error\":\"settle the slice ") != std::string::npos ||
                err.find("\"error\":\"fetch the slice ") != std::string::npos ||
                err.find("\"error\":\"settle the window part: ") != std::string::npos));
    BOOST_TEST(err.find(t.db.server().password) == std::string::npos);
    const auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("status").as_string() == "failed");
    BOOST_TEST(json::serialize(report.at("run").at("notes")).find("connection was lost") != std::string::npos);

    const auto rerun = run(env.dir, run_args(env.config, env));
    BOOST_TEST_INFO("stderr: " << rerun.err);
    BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);  // 3 would be a stale lock
    BOOST_TEST(pg_app_state(t.db.options()) == expected);
    BOOST_TEST(pg_duplicate_grants(t.db.options()) == 0);
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_runs WHERE status = 'abandoned'") == 1);
}

// The run lock's own session dies (pg_terminate_backend, as an idle-session
// timeout or a middlebox would) while the run's connection lives: the run
// stops before its next slice's writes rather than run unlocked.
BOOST_AUTO_TEST_CASE(a_lost_run_lock_session_stops_the_run_before_the_next_slice) {
    pg_e2e t;
    auto& env = t.env;
    std::ofstream(env.config, std::ios::app) << "window:\n  slice: 1h\n";
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    const pid_t pid = spawn_run(env.config, env, "300", "unlocked");
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return t.count("SELECT count(*) FROM recon.recon_corrections") >= 1; },
                                     20'000),
                          "the run applied nothing: " << slurp(env.dir / "unlocked.err"));
    BOOST_REQUIRE_EQUAL(t.count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                                "application_name = 'stripe-reconciler run' AND datname = $1", t.db.name()),
                        1);
    const int code = wait_exit(pid);
    const std::string err = slurp(env.dir / "unlocked.err");
    BOOST_TEST_INFO("stderr: " << err);
    BOOST_TEST(code == 1);
    for (const auto& failed : log_events(err, "run_failed")) BOOST_TEST_MESSAGE("run_failed: " << failed.at("error"));
    BOOST_TEST(err.find("check the run lock on " + t.url + ": its session ended") != std::string::npos);
    BOOST_TEST(env.latest_report().at("run").at("status").as_string() == "failed");

    const auto rerun = run(env.dir, run_args(env.config, env));
    BOOST_TEST_INFO("stderr: " << rerun.err);
    BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);
    long long corrections_expected = 0;
    for (const auto& tv : env.truth.at("findings").as_array())
        if (!tv.as_object().at("correction").is_null()) ++corrections_expected;
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") == corrections_expected);
    BOOST_TEST(pg_duplicate_grants(t.db.options()) == 0);
}

// database.statement_timeout: 1s, and a user's row held by the app longer
// than that: the correction waiting for it fails with the server's 57014 and
// a message naming the setting; the others apply; released, the rerun
// applies it, once.
BOOST_AUTO_TEST_CASE(a_statement_timeout_names_the_setting_and_the_rerun_applies_what_it_held) {
    pg_e2e t;
    auto& env = t.env;
    env.edit_config("statement_timeout: 60s", "statement_timeout: 1s");
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    std::string email;
    long long corrections_expected = 0;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& f = tv.as_object();
        if (f.at("correction").is_null()) continue;
        ++corrections_expected;
        if (email.empty() && f.at("correction").at("kind").as_string() == "grant_credits")
            email = std::string(f.at("user_email").as_string());
    }
    BOOST_REQUIRE(!email.empty());
    std::optional<pg::connection> app(std::in_place, t.db.options());
    app->exec("BEGIN");
    BOOST_REQUIRE_EQUAL(app->run("SELECT id FROM users WHERE email = $1 FOR UPDATE", pg::params().add(email)).rows(), 1);

    const auto held = run(env.dir, run_args(env.config, env));
    BOOST_TEST_INFO("stderr: " << held.err);
    BOOST_TEST(held.exit_code == 0);  // one correction failed, reported; the run went on
    const auto failed = log_events(held.err, "correction_failed");
    BOOST_REQUIRE_EQUAL(failed.size(), 1u);
    BOOST_TEST(failed[0].at("finding").as_string() == "credits_not_granted");
    const std::string why(failed[0].at("error").as_string());
    BOOST_TEST(why.find("57014 ERROR: canceling statement due to statement timeout") != std::string::npos, why);
    BOOST_TEST(why.find("(database.statement_timeout is 1000 ms: raise it") != std::string::npos, why);
    BOOST_TEST(why.find("/" + t.db.name() + " as reconciler") != std::string::npos, why);
    const long long applied = t.count("SELECT count(*) FROM recon.recon_corrections");
    BOOST_TEST(applied < corrections_expected);
    BOOST_TEST(applied > 0);

    app.reset();  // the app commits (here: its session ends)
    const auto rerun = run(env.dir, run_args(env.config, env));
    BOOST_TEST_INFO("stderr: " << rerun.err);
    BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") == corrections_expected);
    BOOST_TEST(pg_duplicate_grants(t.db.options()) == 0);
}

// The SQLite crash campaign (e2e_test's sigkill_at_random_points...) on
// PostgreSQL, fewer kills: each run killed at a random point (mid-fetch,
// mid-apply: each correction pauses), then rerun: every time the
// uninterrupted run's state, no grant twice, no stale lock.
BOOST_AUTO_TEST_CASE(sigkill_at_random_points_then_rerun_reaches_the_uninterrupted_state_on_postgres) {
    reconciler::sim::fault_options slow;
    slow.latency = std::chrono::milliseconds(15);
    pg_e2e t(slow, pg_server::from_env(), 30);
    auto& env = t.env;
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    std::optional<pg_clone> work;
    const auto restore = [&] {
        work.reset();
        work.emplace(t.db.server(), t.db.name(), t.db.name() + "_w");
    };
    restore();
    const fs::path config = t.config_for(work->name());
    const auto t0 = std::chrono::steady_clock::now();
    const auto whole = run(env.dir, run_args(config, env));
    const auto run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST_INFO("stderr: " << whole.err);
    BOOST_REQUIRE_EQUAL(whole.exit_code, 0);
    const std::string expected = pg_app_state(work->options());

    const char* env_kills = std::getenv("RECONCILER_PG_KILL_ITERATIONS");
    const int iterations = env_kills ? std::atoi(env_kills) : 10;
    std::mt19937 rng(4242);
    const int max_kill_ms = static_cast<int>(std::max<long long>(run_ms.count(), 300));
    int killed = 0, mid_apply = 0;
    for (int i = 0; i < iterations; ++i) {
        restore();
        const pid_t pid = spawn_run(config, env, "25", "killed");
        BOOST_REQUIRE(pid > 0);
        if (kill_after(pid, std::uniform_int_distribution<int>(0, max_kill_ms)(rng))) ++killed;
        try {
            if (pg_e2e::count_in(work->options(), "SELECT count(*) FROM recon.recon_corrections") > 0) ++mid_apply;
        } catch (const std::exception&) {  // killed before migrate's check: nothing there yet
        }
        const auto rerun = run(env.dir, run_args(config, env));
        BOOST_TEST_INFO("iteration " << i << ": " << rerun.err);
        BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);  // 3 would be a stale lock
        BOOST_TEST(pg_app_state(work->options()) == expected, "iteration " << i << ": final state differs");
        BOOST_TEST(pg_duplicate_grants(work->options()) == 0, "iteration " << i);
    }
    BOOST_TEST_MESSAGE("uninterrupted run " << run_ms.count() << " ms; killed mid-run " << killed << " of "
                                            << iterations << ", " << mid_apply << " after some corrections committed");
    BOOST_TEST(killed >= iterations / 2);
    BOOST_TEST(mid_apply > 0);
}

// The app keeps writing with its own connection while the run applies
// (slowed by the crash-test knob), on the very users the run corrects: no
// app write is refused or lost, and every balance is the reference run's
// minus what the app consumed. plan_metadata is `json` here, so the run
// writes each user's whole document: only the FOR UPDATE re-read in each
// correction's transaction keeps the app's changes (jsonb is appended to in
// SQL, which a concurrent write could not lose anyway).
BOOST_AUTO_TEST_CASE(app_writes_during_a_run_on_postgres_are_never_lost) {
    pg_e2e t;
    auto& env = t.env;
    pg::connection(t.db.options()).exec("ALTER TABLE users ALTER plan_metadata TYPE json USING plan_metadata::json");
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    pg_clone ref(t.db.server(), t.db.name(), t.db.name() + "_ref");
    const auto reference = run(env.dir, run_args(t.config_for(ref.name()), env));
    BOOST_TEST_INFO("stderr: " << reference.err);
    BOOST_REQUIRE_EQUAL(reference.exit_code, 0);

    // Not the users with a clawback, whose amount depends on the balance.
    std::set<std::string> clawback_emails, corrected_emails;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& f = tv.as_object();
        const auto* e = f.if_contains("user_email");
        const std::string email = e && e->is_string() ? std::string(e->as_string()) : "";
        if (f.at("kind").as_string() == "refund_or_dispute") clawback_emails.insert(email);
        else if (!f.at("correction").is_null()) corrected_emails.insert(email);
    }
    std::vector<std::int64_t> users;
    {
        pg::connection c(t.db.options());
        const auto r = c.run("SELECT id, email FROM users ORDER BY id");
        for (int i = 0; i < r.rows(); ++i) {
            const std::string email(r.text(i, 1));
            if (!clawback_emails.count(email) && (corrected_emails.count(email) || users.size() < 4))
                users.push_back(r.int64(i, 0));
        }
    }
    BOOST_REQUIRE_GE(users.size(), 5u);

    // One app session per user, each holding its user's row most of the time
    // (a transaction doing work before its commit): a correction that read a
    // row unlocked would write over the change in flight.
    std::atomic<bool> stop{false};
    std::vector<std::string> writer_errors(users.size());
    std::vector<long long> consumed_by(users.size(), 0);
    std::vector<std::thread> writers;
    for (std::size_t w = 0; w < users.size(); ++w)
        writers.emplace_back([&, w] {
            pg::connection db(t.db.options());
            for (long long n = 0; !stop; ++n) {
                const std::string id = "app-writer-" + std::to_string(w) + "-" + std::to_string(n);
                try {
                    pg::transaction tx(db);
                    db.run("INSERT INTO ai_usage(user_id, credits, request_id, created_at) VALUES ($1, 1, $2, "
                           "'2020-01-01T00:00:00Z')", pg::params().add(users[w]).add(id));
                    db.run("UPDATE users SET plan_metadata = jsonb_set(jsonb_set(plan_metadata::jsonb, "
                           "'{credit_events}', COALESCE(plan_metadata::jsonb->'credit_events', '[]'::jsonb) || "
                           "jsonb_build_array($1::jsonb)), '{ai_credits}', "
                           "to_jsonb((plan_metadata->>'ai_credits')::bigint - 1))::json WHERE id = $2",
                           pg::params().add("{\"id\":\"" + id + "\",\"delta\":-1,\"kind\":\"consume\",\"reason\":"
                                            "\"ai_usage\",\"source\":\"" + id + "\",\"at\":\"2020-01-01T00:00:00Z\"}")
                               .add(users[w]));
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    tx.commit();
                    ++consumed_by[w];
                } catch (const std::exception& e) {
                    if (writer_errors[w].empty()) writer_errors[w] = e.what();
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
    const int code = wait_exit(spawn_run(env.config, env, "40", "contended"));
    stop = true;
    for (auto& w : writers) w.join();
    long long writes = 0;
    std::map<std::int64_t, std::int64_t> consumed;  // user -> credits the app consumed
    std::string first_error;
    for (std::size_t w = 0; w < users.size(); ++w) {
        writes += consumed_by[w];
        consumed[users[w]] = consumed_by[w];
        if (first_error.empty()) first_error = writer_errors[w];
    }
    const std::string err = slurp(env.dir / "contended.err");
    BOOST_TEST_INFO("stderr: " << err);
    BOOST_TEST(code == 0);
    BOOST_TEST_MESSAGE("the app committed " << writes << " transactions during the run");
    BOOST_TEST(writes >= 50);
    BOOST_TEST(first_error.empty(), "an app write failed: " << first_error);

    BOOST_TEST(t.count("SELECT count(*) FROM ai_usage WHERE request_id LIKE 'app-writer-%'") == writes);
    BOOST_TEST(t.count("SELECT count(*) FROM users u, json_array_elements(u.plan_metadata->'credit_events') e "
                       "WHERE e->>'source' LIKE 'app-writer-%'") == writes);
    const std::string ledger = "SELECT string_agg(stripe_object || kind || credits_delta, ';' ORDER BY stripe_object, "
                               "kind) FROM recon.recon_corrections";
    const std::string balances = "SELECT id, plan, (plan_metadata->>'ai_credits')::bigint FROM users ORDER BY id";
    pg::connection a(ref.options()), b(t.db.options());
    BOOST_TEST(a.run(ledger).text(0, 0) == b.run(ledger).text(0, 0));
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") > 0);
    const auto ra = a.run(balances), rb = b.run(balances);
    BOOST_REQUIRE_EQUAL(ra.rows(), rb.rows());
    for (int i = 0; i < ra.rows(); ++i) {
        const auto user = ra.int64(i, 0);
        BOOST_TEST_INFO("user " << user);
        BOOST_TEST(ra.text(i, 1) == rb.text(i, 1));
        BOOST_TEST(ra.int64(i, 2) - consumed[user] == rb.int64(i, 2));
    }
}

// The server is down when the run starts (a failover, a restart at 03:00)
// and back ~2 s later: the run waits for it (database.connect_retry_for,
// 60 s by default), one warn line a retry naming the database, the reason
// and the next delay, never the password; then it runs as any other.
BOOST_AUTO_TEST_CASE(a_run_started_while_the_server_is_down_waits_for_it_and_succeeds) {
    own_cluster& cluster = restartable_cluster();
    pg_e2e t({}, cluster.server());
    auto& env = t.env;
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    BOOST_REQUIRE_EQUAL(cluster.cluster("stop"), 0);
    const pid_t pid = spawn_run(env.config, env, "0", "waited");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    BOOST_REQUIRE_EQUAL(cluster.start_again(), 0);
    const int code = wait_exit(pid);
    const std::string err = slurp(env.dir / "waited.err");
    BOOST_TEST_INFO("stderr: " << err);
    BOOST_TEST(code == 0);
    const auto retries = log_events(err, "database_connect_retry");
    BOOST_REQUIRE_GE(retries.size(), 1u);
    BOOST_TEST(retries[0].at("level").as_string() == "warn");
    BOOST_TEST(retries[0].at("database").as_string() ==
               "127.0.0.1:" + cluster.port() + "/" + t.db.name() + " as reconciler");
    BOOST_TEST(!retries[0].at("reason").as_string().empty());
    BOOST_TEST(retries[0].at("retry_in").as_string().ends_with("s"));
    BOOST_TEST(err.find(t.db.server().password) == std::string::npos);
    BOOST_TEST(env.latest_report().at("run").at("status").as_string() == "succeeded");
}

// A server that is up and refuses the password: retrying cannot help, so
// the run fails at once (exit 2, the server's reason), no retry line.
BOOST_AUTO_TEST_CASE(a_wrong_password_fails_at_once_without_retrying) {
    pg_e2e t;
    auto& env = t.env;
    std::ofstream(env.dir / "db.password", std::ios::trunc) << "not-the-password\n";
    const auto t0 = std::chrono::steady_clock::now();
    const auto refused = run(env.dir, run_args(env.config, env));
    const long long took = elapsed_ms(t0);
    BOOST_TEST_INFO("stderr: " << refused.err);
    BOOST_TEST(refused.exit_code == 2);
    BOOST_TEST(took < 2000, "took " << took << " ms");
    BOOST_TEST(refused.err.find("password authentication failed") != std::string::npos);
    BOOST_TEST(refused.err.find("database_connect_retry") == std::string::npos);
    BOOST_TEST(refused.err.find("not-the-password") == std::string::npos);
}

// No server at all behind the URL and database.connect_retry_for: 2s: the
// run gives up after about 2 s with a setup error (exit 2) saying how long
// it tried. And the daemon, waiting for that server, stops at once on
// SIGTERM rather than at the end of the wait.
BOOST_AUTO_TEST_CASE(connect_retry_for_bounds_the_wait_and_sigterm_ends_it) {
    pg_e2e t;
    auto& env = t.env;
    std::string free_port;  // one nothing listens on
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        free_port = std::to_string(ntohs(a.sin_port));
        ::close(fd);  // bound, never listened: connecting is refused
    }
    const std::string down = "postgresql://reconciler@127.0.0.1:" + free_port + "/" + t.db.name() + "?sslmode=disable";
    env.edit_config(t.url, down);
    env.edit_config("statement_timeout: 60s", "statement_timeout: 60s\n  connect_retry_for: 2s");
    const auto t0 = std::chrono::steady_clock::now();
    const auto gave_up = run(env.dir, run_args(env.config, env));
    const long long took = elapsed_ms(t0);
    BOOST_TEST_INFO("stderr: " << gave_up.err);
    BOOST_TEST(gave_up.exit_code == 2);
    BOOST_TEST(took >= 2000);
    BOOST_TEST(took < 4500, "took " << took << " ms");
    BOOST_TEST(retry_lines(gave_up.err) >= 2);
    BOOST_TEST(gave_up.err.find("connect to PostgreSQL 127.0.0.1:" + free_port + "/" + t.db.name() +
                                " as reconciler: ") != std::string::npos);
    BOOST_TEST(gave_up.err.find("gave up after trying for 2.") != std::string::npos, gave_up.err);
    BOOST_TEST(gave_up.err.find("database.connect_retry_for is 2s") != std::string::npos, gave_up.err);

    env.edit_config("connect_retry_for: 2s", "connect_retry_for: 10m");
    const pid_t daemon = spawn({"daemon", "--config", env.config.string(), "--every", "1h"}, env.dir / "daemon.out",
                               env.dir / "daemon.err");
    BOOST_REQUIRE(wait_until([&] { return slurp(env.dir / "daemon.err").find("database_connect_retry") !=
                                          std::string::npos; }, 10'000));
    ::kill(daemon, SIGTERM);
    int status = 0;
    const bool exited = wait_until([&] { return ::waitpid(daemon, &status, WNOHANG) == daemon; }, 1000);
    if (!exited) kill_after(daemon, 0);  // still waiting for the server: failed below
    const std::string err = slurp(env.dir / "daemon.err");
    BOOST_TEST_INFO("daemon stderr: " << err);
    BOOST_TEST(exited, "the daemon was still waiting for the database 1 s after SIGTERM");
    BOOST_TEST((exited && WIFEXITED(status) && WEXITSTATUS(status) == 0));
    BOOST_TEST(err.find("stopped by a signal while waiting for PostgreSQL 127.0.0.1:" + free_port) !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
