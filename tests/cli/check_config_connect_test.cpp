// `reconciler check-config --connect` (the real binary) against the Stripe
// simulator: what it reaches, what it prints, and its exit codes.
#include "e2e/e2e_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace e2e;

BOOST_AUTO_TEST_SUITE(check_config_connect)

BOOST_AUTO_TEST_CASE(reaches_the_database_and_stripe_and_changes_nothing) {
    e2e_env env(30);
    const std::string cfg = " --config " + env.config.string();
    const auto requests_before = env.sim->stats().requests;
    const auto db_before = slurp(env.dir / "app.db");

    auto r = run(env.dir, "check-config --connect" + cfg);
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out.find(": ok (") != std::string::npos);
    BOOST_TEST(r.out.find("database " + (env.dir / "app.db").string() + ": ok (schema version") != std::string::npos);
    BOOST_TEST(r.out.find("stripe https://127.0.0.1:" + std::to_string(env.sim->port()) +
                          ": ok (GET /v1/events?limit=1") != std::string::npos);
    BOOST_TEST(env.sim->stats().requests == requests_before + 1);  // one cheap read
    BOOST_TEST(slurp(env.dir / "app.db") == db_before);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs") == 0);
    BOOST_TEST(!fs::exists(env.dir / "reports"));
    BOOST_TEST(r.out.find(api_key) == std::string::npos);
    BOOST_TEST(r.err.find(api_key) == std::string::npos);

    // Without --connect nothing is reached.
    r = run(env.dir, "check-config" + cfg);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out.find("stripe") == std::string::npos);
    BOOST_TEST(env.sim->stats().requests == requests_before + 1);
}

BOOST_AUTO_TEST_CASE(no_key_is_exit_2_and_stripe_gone_is_exit_1) {
    e2e_env env(30);
    const std::string cfg = " --config " + env.config.string();
    ::unsetenv("RECON_E2E_STRIPE_KEY");
    auto r = run(env.dir, "check-config --connect" + cfg);
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.err.find("RECON_E2E_STRIPE_KEY is not set") != std::string::npos);
    ::setenv("RECON_E2E_STRIPE_KEY", api_key.c_str(), 1);

    env.sim.reset();
    env.edit_config("  request_timeout: 5s\n", "  request_timeout: 1s\n  max_retries: 1\n");
    r = run(env.dir, "check-config --connect" + cfg);
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(r.out.find("database ") != std::string::npos);  // checked before Stripe
    // One line says why; before it, only the retries it waited for (request_retry log lines).
    std::istringstream lines(r.err);
    std::vector<std::string> err_lines;
    for (std::string line; std::getline(lines, line);) err_lines.push_back(line);
    BOOST_REQUIRE(!err_lines.empty());
    BOOST_TEST(err_lines.back().rfind("reconciler: check-config failed: ", 0) == 0u);
    for (std::size_t i = 0; i + 1 < err_lines.size(); ++i)
        BOOST_TEST(err_lines[i].find("\"event\":\"request_retry\"") != std::string::npos, err_lines[i]);
    BOOST_TEST(err_lines.size() <= 2u);  // max_retries: 1
}

// A PostgreSQL server that does not answer (nothing listens on the port):
// the check tries once and says so, exit 1, instead of waiting out
// database.connect_retry_for (60 s by default) as a run would.
BOOST_AUTO_TEST_CASE(a_database_that_does_not_answer_is_exit_1_at_once) {
    e2e_env env(e2e_options{.customers = 30, .faults = {}, .identity = std::nullopt, .migrate = false});
    {
        std::ofstream pw(env.dir / "db.password");
        pw << "not-used-secret-pw\n";
    }
    fs::permissions(env.dir / "db.password", fs::perms::owner_read | fs::perms::owner_write);
    env.edit_config("database:\n  path: app.db\n",
                    "database:\n  url: \"postgresql://reconciler@127.0.0.1:1/app?sslmode=disable\"\n"
                    "  password: { file: db.password }\n");
    const auto r = run(env.dir, "check-config --connect --config " + env.config.string());
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(r.err.find("reconciler: check-config failed: connect to PostgreSQL 127.0.0.1:1/app as reconciler") !=
               std::string::npos);
    BOOST_TEST(r.err.find("tried once; a run would wait for it up to 60s: database.connect_retry_for") !=
               std::string::npos);
    BOOST_TEST(r.err.find("database_connect_retry") == std::string::npos);  // no retry
    BOOST_TEST(r.out.find("stripe") == std::string::npos);                   // stopped at the database
    BOOST_TEST(r.err.find("not-used-secret-pw") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
