// The real binary on a PostgreSQL app database (issue 21): the generated
// dataset's app rows copied from the generator's SQLite file into a fresh
// database on the tests' throwaway server (the `postgres` fixture), then
// `reconciler migrate` and `reconciler run` against the simulator: the
// seeded findings, the truth's corrections applied once, a rerun applying
// nothing; and a second run while the run lock is held gets exit 3.
#include "e2e/pg_e2e_support.hpp"

#include <csignal>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <optional>
#include <regex>
#include <thread>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace e2e;

namespace {

// What legitimately differs between two runs of one seed on two databases:
// ids the database hands out, random correlation ids, the simulator's
// request ids, times and durations, the config's hash (path vs url).
// Everything else must be equal.
const std::set<std::string> volatile_keys{"id",         "run_id",          "correction_id",    "correlation_id",
                                          "request_id", "stripe_request_id", "started_at",     "finished_at",
                                          "duration_seconds", "first_seen", "last_seen",        "age_days",
                                          "config_hash"};

// A correlation or request id, or a run's number, quoted in a text.
std::string without_ids(const std::string& text) {
    static const std::regex ids(
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|req_[A-Za-z0-9]+|run [0-9]+");
    return std::regex_replace(text, ids, "<id>");
}

json::value normalised(const json::value& v) {
    if (v.is_string()) return json::value(without_ids(std::string(v.as_string())));
    if (v.is_object()) {
        json::object out;
        for (const auto& [k, field] : v.as_object())
            out[k] = volatile_keys.count(std::string(k)) ? json::value("<varies>") : normalised(field);
        return out;
    }
    if (v.is_array()) {
        json::array out;
        for (const auto& e : v.as_array()) out.push_back(normalised(e));
        return out;
    }
    return v;
}

// The first place two JSON values differ ("findings[3].evidence.amount: 1200 vs 1300"), or "".
std::string first_difference(const json::value& a, const json::value& b, const std::string& at = "") {
    if (a.is_object() && b.is_object()) {
        std::set<std::string> keys;
        for (const auto& [k, _] : a.as_object()) keys.insert(std::string(k));
        for (const auto& [k, _] : b.as_object()) keys.insert(std::string(k));
        for (const auto& k : keys) {
            const auto *x = a.as_object().if_contains(k), *y = b.as_object().if_contains(k);
            if (!x || !y) return at + "." + k + (x ? " only on PostgreSQL" : " only on SQLite");
            if (auto d = first_difference(*x, *y, at + "." + k); !d.empty()) return d;
        }
        return "";
    }
    if (a.is_array() && b.is_array()) {
        const auto &x = a.as_array(), &y = b.as_array();
        for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
            if (auto d = first_difference(x[i], y[i], at + "[" + std::to_string(i) + "]"); !d.empty()) return d;
        if (x.size() != y.size())
            return at + ": " + std::to_string(x.size()) + " items vs " + std::to_string(y.size());
        return "";
    }
    return a == b ? "" : at + ": " + json::serialize(a) + " vs " + json::serialize(b);
}

// The first line two report files differ in, ids aside, or "".
std::string first_line_difference(const std::string& pg_text, const std::string& sqlite_text) {
    std::istringstream a(without_ids(pg_text)), b(without_ids(sqlite_text));
    std::string x, y;
    for (int line = 1;; ++line) {
        const bool more_a = static_cast<bool>(std::getline(a, x)), more_b = static_cast<bool>(std::getline(b, y));
        if (!more_a && !more_b) return "";
        if (more_a != more_b || x != y)
            return "line " + std::to_string(line) + ": '" + (more_a ? x : "(end)") + "' vs '" + (more_b ? y : "(end)") +
                   "'";
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_e2e)

BOOST_AUTO_TEST_CASE(run_on_postgres_finds_the_seeded_set_applies_it_once_and_rerun_applies_nothing) {
    pg_e2e t;
    auto& env = t.env;
    const std::string& password = t.db.server().password;
    const auto migrate = run(env.dir, "migrate --config " + env.config.string());
    BOOST_TEST_INFO("stderr: " << migrate.err);
    BOOST_REQUIRE_EQUAL(migrate.exit_code, 0);
    BOOST_TEST(migrate.out.find("database postgresql://reconciler@127.0.0.1:") != std::string::npos, migrate.out);
    BOOST_TEST(t.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'recon'") >= 5);

    const auto check = run(env.dir, "check-config --connect --config " + env.config.string());
    BOOST_TEST_INFO("stderr: " << check.err);
    BOOST_TEST(check.exit_code == 0);
    BOOST_TEST(check.out.find("database postgresql://reconciler@127.0.0.1:") != std::string::npos, check.out);
    BOOST_TEST(check.out.find(": ok (schema version") != std::string::npos, check.out);

    const auto expected = truth_keys(env.truth);
    BOOST_REQUIRE_GE(expected.size(), 4u);
    const auto first = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << first.err);
    BOOST_REQUIRE_EQUAL(first.exit_code, 0);
    const auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("status").as_string() == "succeeded");
    const auto found = report_findings(report);
    BOOST_TEST(key_diff(expected, keys_of(found)).empty(), "findings: " << key_diff(expected, keys_of(found)));

    // Each correction of the truth applied once, as it says, in the app's PostgreSQL tables.
    long long corrections_expected = 0;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& tr = tv.as_object();
        if (tr.at("correction").is_null()) continue;
        ++corrections_expected;
        const std::string id(tr.at("subject_id").as_string());
        const std::string email(tr.at("user_email").as_string());
        const auto& c = tr.at("correction").as_object();
        const auto it = found.find({std::string(tr.at("kind").as_string()), id});
        if (it != found.end()) BOOST_TEST(it->second.at("disposition").as_string() == "applied", id);
        BOOST_TEST_INFO(tr.at("kind").as_string() << " " << id);
        if (c.at("kind").as_string() == "grant_credits") {
            BOOST_TEST(t.count("SELECT count(*) FROM users u, jsonb_array_elements(u.plan_metadata->'credit_events') e "
                               "WHERE e->>'source' = $1 AND e->>'kind' = 'grant'", id) == 1);
            BOOST_TEST(t.count("SELECT count(*) FROM payments WHERE stripe_invoice_id = $1", id) == 1);
        } else if (c.at("kind").as_string() == "revoke_credits") {
            BOOST_TEST(t.count("SELECT count(*) FROM users u, jsonb_array_elements(u.plan_metadata->'credit_events') e "
                               "WHERE e->>'source' = $1 AND e->>'kind' = 'revoke' AND (e->>'delta')::bigint = " +
                                   std::to_string(-c.at("credits").as_int64()), id) == 1);
        } else {
            BOOST_TEST(t.count("SELECT count(*) FROM users WHERE email = $1 AND plan = '" +
                                   std::string(c.at("to").as_string()) + "'", email) == 1);
        }
    }
    BOOST_TEST(corrections_expected > 0);
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") == corrections_expected);
    BOOST_TEST(report.at("totals").at("applied").as_int64() == corrections_expected);

    // The same seed on SQLite (as e2e_test.cpp runs it: the generator's app
    // database, the same simulator): the same report, findings with their
    // evidence, corrections, totals and escalations, up to ids and times.
    const fs::path sqlite_config = env.dir / "sqlite.yaml";
    std::ofstream(sqlite_config) << e2e_env::config_text(env.sim->port(), "app.db", "sqlite-reports");
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + sqlite_config.string()).exit_code, 0);
    const auto on_sqlite = run(env.dir, "run --config " + sqlite_config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << on_sqlite.err);
    BOOST_REQUIRE_EQUAL(on_sqlite.exit_code, 0);
    const fs::path pg_dir = fs::canonical(env.dir / "reports" / "latest");
    const fs::path sqlite_dir = fs::canonical(env.dir / "sqlite-reports" / "latest");
    const auto sqlite_report = json::parse(slurp(sqlite_dir / "report.json"));
    const std::string differs = first_difference(normalised(report), normalised(sqlite_report));
    BOOST_TEST(differs.empty(), "report.json on PostgreSQL vs SQLite: " << differs);
    for (const char* file : {"summary.md", "findings.csv"}) {
        const std::string d = first_line_difference(slurp(pg_dir / file), slurp(sqlite_dir / file));
        BOOST_TEST(d.empty(), file << " on PostgreSQL vs SQLite: " << d);
    }

    // The same window again: nothing applied.
    const auto second = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << second.err);
    BOOST_REQUIRE_EQUAL(second.exit_code, 0);
    BOOST_TEST(env.latest_report().at("totals").at("applied").as_int64() == 0);
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") == corrections_expected);
    BOOST_TEST(second.err.find("entitlement_change") == std::string::npos);

    // The database password never leaves its file.
    for (const auto* text : {&migrate.out, &migrate.err, &check.out, &check.err, &first.out, &first.err, &second.out, &second.err})
        BOOST_TEST(text->find(password) == std::string::npos);
    for (const auto& entry : fs::recursive_directory_iterator(env.dir / "reports"))
        if (entry.is_regular_file()) BOOST_TEST(slurp(entry.path()).find(password) == std::string::npos);
}

// Another run holds the advisory lock (here: this test's session, as a run's
// would): the run stops before it writes anything, exit 3, naming the holder.
BOOST_AUTO_TEST_CASE(a_second_run_on_postgres_gets_the_locked_exit_code) {
    pg_e2e t;
    auto& env = t.env;
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    pg::connect_options o = t.db.options();
    o.application_name = "other-reconciler";
    std::optional<pg::connection> holder(std::in_place, o);
    BOOST_REQUIRE(holder->run("SELECT pg_try_advisory_lock(hashtext('stripe-reconciler run'), hashtext('recon'))")
                      .boolean(0, 0));
    const auto locked = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << locked.err);
    BOOST_TEST(locked.exit_code == 3);
    BOOST_TEST(locked.err.find("another run holds the lock on postgresql://reconciler@127.0.0.1:") != std::string::npos);
    BOOST_TEST(locked.err.find("other-reconciler, server pid ") != std::string::npos);
    BOOST_TEST(locked.err.find("since ") != std::string::npos);
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_runs") == 0);  // nothing started

    // The holder's session ends (a run killed): the lock is the server's to release.
    holder.reset();
    const auto free_run = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << free_run.err);
    BOOST_TEST(free_run.exit_code == 0);
}

// A run SIGKILLed while it holds the lock: the server ends its session and
// with it the lock, so the next run goes through (no stale lock, no exit 3)
// and reaches the state of an uninterrupted run, nothing applied twice.
BOOST_AUTO_TEST_CASE(a_killed_run_leaves_no_lock_and_the_rerun_finishes_its_work) {
    reconciler::sim::fault_options slow;
    slow.latency = std::chrono::milliseconds(15);  // a run long enough to be killed mid-way
    pg_e2e t(slow);
    auto& env = t.env;
    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    const std::string grant_events = "SELECT count(*) FROM users u, jsonb_array_elements(u.plan_metadata->"
                                     "'credit_events') e WHERE e->>'kind' = 'grant'";
    const long long grants_before = t.count(grant_events);
    const pid_t pid = spawn({"run", "--config", env.config.string(), "--since", std::to_string(env.window_start),
                             "--until", std::to_string(env.window_end)},
                            env.dir / "killed.out", env.dir / "killed.err",
                            {"RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=25"});
    BOOST_REQUIRE(pid > 0);
    const std::string held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                             "classid = hashtext('stripe-reconciler run')::oid";
    bool locked = false;
    for (int i = 0; i < 400 && !locked; ++i) {
        locked = t.count(held) == 1;
        if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    BOOST_REQUIRE_MESSAGE(locked, "the run never took the lock: " << slurp(env.dir / "killed.err"));
    BOOST_TEST(kill_after(pid, 300), "the run finished before it was killed");

    const auto rerun = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << rerun.err);
    BOOST_REQUIRE_EQUAL(rerun.exit_code, 0);  // 3 would be a stale lock
    long long corrections_expected = 0;
    for (const auto& tv : env.truth.at("findings").as_array())
        if (!tv.as_object().at("correction").is_null()) ++corrections_expected;
    BOOST_TEST(t.count("SELECT count(*) FROM recon.recon_corrections") == corrections_expected);
    // Each grant's credit event once, whichever run applied it.
    const long long applied_grants = t.count("SELECT count(*) FROM recon.recon_corrections WHERE credits_delta > 0");
    BOOST_TEST(t.count(grant_events) == grants_before + applied_grants);
    BOOST_TEST(t.count(held) == 0);
}

// The password's source is a setup error (exit 2) naming database.password;
// a wrong password is refused by the server, and shown nowhere.
BOOST_AUTO_TEST_CASE(a_missing_or_wrong_database_password_is_a_setup_error) {
    pg_e2e t;
    auto& env = t.env;
    const fs::path pw = env.dir / "db.password";
    fs::rename(pw, env.dir / "moved");
    const auto missing = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST(missing.exit_code == 2);
    BOOST_TEST(missing.err.find("database password") != std::string::npos, missing.err);
    BOOST_TEST(missing.err.find("db.password") != std::string::npos, missing.err);

    const std::string wrong = "Wrong-Password-7c1e";
    std::ofstream(pw) << wrong << "\n";
    fs::permissions(pw, fs::perms::owner_read | fs::perms::owner_write);
    for (const char* cmd : {"migrate", "run"}) {
        const auto refused = run(env.dir, std::string(cmd) + " --config " + env.config.string() +
                                              (std::string(cmd) == "run" ? env.window_args() : ""));
        BOOST_TEST_INFO(cmd << " stderr: " << refused.err);
        BOOST_TEST(refused.exit_code == 2);
        BOOST_TEST(refused.err.find("password authentication failed") != std::string::npos);
        BOOST_TEST(refused.err.find(wrong) == std::string::npos);
        BOOST_TEST(refused.out.find(wrong) == std::string::npos);
    }
}

// The README's grants ("Your app on PostgreSQL") and nothing more: a role
// that owns no app table migrates and runs to the same findings. Roles are
// the cluster's, so the superuser (trusted on the server's socket) makes one
// and drops it after.
BOOST_AUTO_TEST_CASE(the_readmes_minimal_grants_are_enough) {
    struct role_guard {
        reconciler::test::pg_server server = reconciler::test::pg_server::from_env();
        std::string name = "recon_min_" + std::to_string(::getpid());
        pg::connect_options superuser(const std::string& dbname) const {
            std::string port;
            std::ifstream(server.dir / "port") >> port;
            pg::connect_options o;
            o.url = "host=" + server.dir.string() + " port=" + port + " user=postgres dbname=" + dbname;
            return o;
        }
        ~role_guard() {
            try {
                pg::connection(superuser("postgres")).exec("DROP ROLE IF EXISTS " + name);
            } catch (...) {
            }
        }
    } role;  // declared first: dropped after the database that holds its schema
    pg_e2e t;
    auto& env = t.env;
    const std::string password = "min-" + std::to_string(::getpid()) + "-pw";
    {
        pg::connection su(role.superuser(t.db.name()));
        su.exec("DROP ROLE IF EXISTS " + role.name);
        su.exec("CREATE ROLE " + role.name + " LOGIN PASSWORD '" + password + "'");
        for (const char* grant :
             {"GRANT USAGE ON SCHEMA public TO @", "GRANT SELECT ON users, payments, ai_usage, webhook_events TO @",
              "GRANT UPDATE (plan, plan_metadata) ON users TO @", "GRANT INSERT ON payments TO @",
              "CREATE SCHEMA recon AUTHORIZATION @"}) {
            std::string sql = grant;
            sql.replace(sql.find('@'), 1, role.name);
            su.exec(sql);
        }
    }
    std::ofstream(env.dir / "db.password", std::ios::trunc) << password << "\n";
    env.edit_config("postgresql://reconciler@", "postgresql://" + role.name + "@");

    const auto migrate = run(env.dir, "migrate --config " + env.config.string());
    BOOST_TEST_INFO("stderr: " << migrate.err);
    BOOST_REQUIRE_EQUAL(migrate.exit_code, 0);
    const auto first = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << first.err);
    BOOST_REQUIRE_EQUAL(first.exit_code, 0);
    const auto report = env.latest_report();
    const auto expected = truth_keys(env.truth);
    BOOST_TEST(key_diff(expected, keys_of(report_findings(report))).empty());
    BOOST_TEST(report.at("totals").at("applied").as_int64() > 0);
    BOOST_TEST(pg::connection(role.superuser(t.db.name())).run("SELECT count(*) FROM recon.recon_corrections").int64(0, 0) ==
               report.at("totals").at("applied").as_int64());
    const auto second = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << second.err);
    BOOST_REQUIRE_EQUAL(second.exit_code, 0);
    BOOST_TEST(env.latest_report().at("totals").at("applied").as_int64() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
