// The libpq layer (store/postgres) against a real PostgreSQL server: what the
// PostgreSQL store relies on for "every statement parameterised, prepared
// once", "rolled back unless committed", and errors a person can act on.
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_transaction.hpp"
#include "support/pg_test_db.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pg = reconciler::store::postgres;
using reconciler::test::pg_server;
using reconciler::test::pg_test_db;

BOOST_AUTO_TEST_SUITE(pg_connection)

BOOST_AUTO_TEST_CASE(a_statement_is_prepared_once_and_values_never_become_sql) {
    pg_test_db db;
    pg::connection c(db.options());
    c.exec("CREATE TABLE notes (id bigint PRIMARY KEY, body text)");
    const std::string hostile = "x'); DROP TABLE notes; --";
    for (std::int64_t i = 1; i <= 3; ++i)
        c.run("INSERT INTO notes(id, body) VALUES ($1, $2)", pg::params().add(i).add(hostile));
    const auto r = c.run("SELECT count(*), min(body) FROM notes WHERE body = $1", pg::params().add(hostile));
    BOOST_TEST(r.int64(0, 0) == 3);
    BOOST_TEST(r.text(0, 1) == hostile);
    const auto prepared =
        c.run("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO notes%'");
    BOOST_TEST(prepared.int64(0, 0) == 1);
}

BOOST_AUTO_TEST_CASE(nulls_and_optionals_round_trip) {
    pg_test_db db;
    pg::connection c(db.options());
    const auto r = c.run("SELECT $1::bigint, $2::text, $3::bigint",
                         pg::params().add(std::optional<std::int64_t>{}).null().add(std::optional<std::int64_t>{7}));
    BOOST_TEST(!r.opt_int64(0, 0).has_value());
    BOOST_TEST(!r.opt_text(0, 1).has_value());
    BOOST_TEST(r.opt_int64(0, 2).value_or(0) == 7);
    BOOST_CHECK_THROW(r.int64(0, 0), reconciler::store::store_error);  // NULL where a number is required
}

// A search_path the URL sets (the app's schema) survives a statement
// timeout from the config: both reach the server.
BOOST_AUTO_TEST_CASE(the_statement_timeout_keeps_the_urls_options) {
    pg_test_db db;
    pg::connect_options o = db.options();
    o.url += " options='-c search_path=app_side,public'";
    o.statement_timeout = std::chrono::milliseconds(4'000);
    pg::connection c(o);
    BOOST_TEST(c.run("SHOW search_path").text(0, 0) == "app_side,public");
    BOOST_TEST(c.run("SHOW statement_timeout").text(0, 0) == "4s");
    o.statement_timeout = std::chrono::milliseconds(0);
    pg::connection plain(o);
    BOOST_TEST(plain.run("SHOW search_path").text(0, 0) == "app_side,public");
}

BOOST_AUTO_TEST_CASE(a_transaction_is_rolled_back_unless_committed) {
    pg_test_db db;
    pg::connection c(db.options());
    c.exec("CREATE TABLE t (v int)");
    {
        pg::transaction tx(c);
        c.run("INSERT INTO t VALUES ($1)", pg::params().add(1));
    }  // no commit
    {
        pg::transaction tx(c);
        c.run("INSERT INTO t VALUES ($1)", pg::params().add(2));
        tx.commit();
    }
    BOOST_TEST(!c.in_transaction());
    BOOST_TEST(c.run("SELECT string_agg(v::text, ',') FROM t").text(0, 0) == "2");
}

BOOST_AUTO_TEST_CASE(an_sql_error_names_the_action_and_the_sqlstate) {
    pg_test_db db;
    pg::connection c(db.options());
    try {
        c.run("SELECT * FROM no_such_table WHERE id = $1", pg::params().add(1));
        BOOST_FAIL("expected an error");
    } catch (const pg::connection_lost&) {
        BOOST_FAIL("an SQL error is not a lost connection");
    } catch (const reconciler::store::store_error& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("prepare SELECT * FROM no_such_table") != std::string::npos, m);
        BOOST_TEST(m.find("42P01") != std::string::npos, m);
        BOOST_TEST(m.find(db.name()) != std::string::npos, m);
    }
}

BOOST_AUTO_TEST_CASE(a_wrong_password_is_a_setup_error_that_does_not_show_it) {
    pg_test_db db;
    auto o = db.options();
    o.password = "not-the-password-4711";
    try {
        pg::connection c(o);
        BOOST_FAIL("expected a refusal");
    } catch (const reconciler::store::schema_error& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("password authentication failed") != std::string::npos, m);
        BOOST_TEST(m.find("4711") == std::string::npos, m);
        BOOST_TEST(m.find(db.server().password) == std::string::npos, m);
    }
}

// A server of its own: restarting the shared one would disturb tests running
// beside this one.
BOOST_AUTO_TEST_CASE(a_server_restart_is_a_lost_connection_and_a_new_one_works) {
    const auto dir = std::filesystem::temp_directory_path() / ("pg_restart_" + std::to_string(::getpid()));
    const std::string script = std::string(RECONCILER_SOURCE_DIR) + "/tools/pg_cluster.sh";
    BOOST_REQUIRE_EQUAL(std::system((script + " start " + dir.string()).c_str()), 0);
    struct stop_after {
        std::string cmd;
        ~stop_after() {
            if (std::system(cmd.c_str()) != 0) {}
        }
    } stop{script + " stop " + dir.string() + " && rm -rf " + dir.string()};
    const pg_server server(dir);
    pg::connection c(server.options());
    BOOST_TEST(c.run("SELECT 1 + $1::int", pg::params().add(1)).int64(0, 0) == 2);
    BOOST_REQUIRE_EQUAL(std::system((script + " restart " + dir.string()).c_str()), 0);
    BOOST_CHECK_THROW(c.run("SELECT 1 + $1::int", pg::params().add(1)), pg::connection_lost);
    pg::connection again(server.options());
    BOOST_TEST(again.run("SELECT 1 + $1::int", pg::params().add(2)).int64(0, 0) == 3);
}

BOOST_AUTO_TEST_SUITE_END()
