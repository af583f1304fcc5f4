// database: SQLite (path) or PostgreSQL (url, password, schema,
// statement_timeout, connect_retry_for): exactly one, and a password never in the URL nor in
// any message.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config_test_support.hpp"

using namespace reconciler;
using namespace std::chrono_literals;

namespace {

const std::string rest = "output: {dir: r}\nprices: {p: {credits: 1}}\n";

// Every case here varies only the database section.
std::string error_of(const std::string& yaml) { return config_test::error_of(yaml + rest); }
void check_error(const std::string& yaml, std::initializer_list<std::string_view> parts) {
    config_test::check_error(yaml + rest, parts);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(database_config_tests)

BOOST_AUTO_TEST_CASE(postgres_url_with_its_keys) {
    const config c = parse_config("database:\n  url: postgresql://recon@db.internal:5432/app?sslmode=verify-full\n"
                                  "  password: { env: APP_DB_PASSWORD }\n  schema: reconciler\n"
                                  "  statement_timeout: 30s\n" + rest, "demo.yaml");
    BOOST_TEST(c.database.is_postgres());
    BOOST_TEST(c.database.url == "postgresql://recon@db.internal:5432/app?sslmode=verify-full");
    BOOST_TEST(c.database.path.empty());
    BOOST_REQUIRE(c.database.password.has_value());
    BOOST_TEST(c.database.password->env == "APP_DB_PASSWORD");
    BOOST_TEST(c.database.schema == "reconciler");
    BOOST_TEST(c.database.statement_timeout.count() == 30'000);

    // Defaults: schema recon, no password source (peer, cert, .pgpass), the server's timeout.
    const config d = parse_config("database: {url: \"postgres:///app?host=/run/postgresql\"}\n" + rest, "demo.yaml");
    BOOST_TEST(d.database.schema == "recon");
    BOOST_TEST(!d.database.password.has_value());
    BOOST_TEST(d.database.statement_timeout.count() == 0);
    // A SQLite config is not PostgreSQL.
    BOOST_TEST(!parse_config("database: {path: a.db}\n" + rest, "demo.yaml").database.is_postgres());
}

BOOST_AUTO_TEST_CASE(exactly_one_of_path_and_url) {
    check_error("database:\n  path: a.db\n  url: postgresql://u@h/app\n",
                {"config demo.yaml:3: database: expected exactly one of database.path (SQLite) and database.url",
                 "found both"});
    check_error("database:\n  schema: recon\n",
                {"config demo.yaml:2: missing required key database.path", "or database.url"});
    // A PostgreSQL key under a SQLite path, and the other way round.
    check_error("database:\n  path: a.db\n  schema: recon\n", {"demo.yaml:3: database.schema: is for PostgreSQL"});
    check_error("database:\n  path: a.db\n  password: {env: X}\n", {"database.password: is for PostgreSQL"});
    check_error("database:\n  url: postgresql://u@h/app\n  busy_timeout: 5s\n",
                {"database.busy_timeout: is for SQLite", "database.statement_timeout"});
}

BOOST_AUTO_TEST_CASE(a_password_in_the_url_is_refused_and_never_shown) {
    const std::string pw = "hunter2SECRETpw";
    for (const std::string& url : {"postgresql://recon:" + pw + "@db:5432/app",
                                   "postgresql://recon@db:5432/app?sslmode=require&password=" + pw,
                                   "postgresql://recon:" + pw + "@db:99999/app", "mysql://recon:" + pw + "@db/app"}) {
        const std::string msg = error_of("database:\n  url: \"" + url + "\"\n");
        BOOST_TEST(msg.find("database.url") != std::string::npos, msg);
        BOOST_TEST(msg.find(pw) == std::string::npos, "the password leaked: " << msg);
    }
    check_error("database:\n  url: postgresql://recon:" + pw + "@db:5432/app\n",
                {"config demo.yaml:2: database.url: must not contain a password", "use", "database.password"});
    check_error("database:\n  url: postgresql://recon@db/app?password=" + pw + "\n",
                {"must not contain a password", "database.password"});
}

BOOST_AUTO_TEST_CASE(url_and_keys_are_checked) {
    check_error("database:\n  url: mysql://u@h/app\n", {"demo.yaml:2: database.url: expected a postgresql:// URL"});
    check_error("database:\n  url: db.internal:5432\n", {"database.url: expected a postgresql:// URL", "\"db.internal:5432\""});
    check_error("database:\n  url: \"postgresql://h:99999/app\"\n", {"database.url: port must be a number in 1..65535"});
    check_error("database:\n  url: postgresql://h/app?sslmode=verify\n",
                {"database.url: sslmode must be one of", "verify-full", "got \"verify\""});
    check_error("database:\n  url: postgresql://h/app\n  schema: Recon\n", {"demo.yaml:3: database.schema: expected a schema name"});
    check_error("database:\n  url: postgresql://h/app\n  schema: pg_recon\n", {"database.schema: expected a schema name"});
    check_error("database:\n  url: postgresql://h/app\n  password: hunter2\n",
                {"database.password: expected a mapping with exactly one of env, file, credential"});
    check_error("database:\n  url: postgresql://h/app\n  statement_timeout: 2h\n",
                {"database.statement_timeout: expected a duration of at most 1h"});
}

// database.app_tables: only what differs from the runbook's names, for
// either backend; an unknown role or a bad name is refused with its key path.
BOOST_AUTO_TEST_CASE(app_tables_mapping) {
    const config c = parse_config("database:\n  path: a.db\n  app_tables:\n"
                                  "    users: {table: accounts, columns: {plan: tier, plan_metadata: meta}}\n"
                                  "    payments: {table: billing.payments}\n" + rest, "demo.yaml");
    const auto& t = c.database.app_tables;
    BOOST_TEST(t.expand("@users@ @users.plan@ @users.plan_metadata@ @users.email@ @payments@ @ai_usage@") ==
               R"("accounts" "tier" "meta" "email" "billing"."payments" "ai_usage")");
    const config pg = parse_config("database:\n  url: postgresql://u@h/app\n  app_tables:\n"
                                   "    webhook_events: {columns: {last_error: error}}\n" + rest, "demo.yaml");
    BOOST_TEST(pg.database.app_tables.expand("@webhook_events.last_error@ @webhook_events@") == R"("error" "webhook_events")");
    // Without the key: the runbook's names.
    BOOST_TEST(parse_config("database: {path: a.db}\n" + rest, "demo.yaml").database.app_tables.expand("@users.plan@") ==
               R"("plan")");
}

BOOST_AUTO_TEST_CASE(app_tables_errors_name_the_key) {
    check_error("database:\n  path: a.db\n  app_tables:\n    user: {table: accounts}\n",
                {"config demo.yaml:4: unknown key database.app_tables.user", "did you mean database.app_tables.users?"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {columns: {plna: tier}}\n",
                {"demo.yaml:4: unknown key database.app_tables.users.columns.plna",
                 "did you mean database.app_tables.users.columns.plan?"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {tabel: accounts}\n",
                {"unknown key database.app_tables.users.tabel", "did you mean database.app_tables.users.table?"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {table: \"accounts; DROP TABLE x\"}\n",
                {"demo.yaml:4: database.app_tables.users.table: expected a table name"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {columns: {plan: 1tier}}\n",
                {"database.app_tables.users.columns.plan: expected a column name"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {columns: {plan: a.tier}}\n",
                {"database.app_tables.users.columns.plan: expected a column name"});
    check_error("database:\n  path: a.db\n  app_tables:\n    users: {columns: {plan: \"" + std::string(64, 'a') + "\"}}\n",
                {"database.app_tables.users.columns.plan: expected a column name"});
    check_error("database:\n  path: a.db\n  app_tables: [users]\n", {"database.app_tables: expected a mapping"});
}

// How long a server that does not answer at connect time is retried: 60s
// unless set, 0 for not at all, at most an hour; PostgreSQL's only.
BOOST_AUTO_TEST_CASE(connect_retry_for_defaults_to_a_minute_and_zero_turns_it_off) {
    const std::string url = "database:\n  url: postgresql://u@h/app\n";
    BOOST_TEST(parse_config(url + rest, "demo.yaml").database.connect_retry_for.count() == 60);
    BOOST_TEST(parse_config(url + "  connect_retry_for: 2m30s\n" + rest, "demo.yaml")
                   .database.connect_retry_for.count() == 150);
    for (const char* off : {"0s", "0"})
        BOOST_TEST(parse_config(url + "  connect_retry_for: " + off + "\n" + rest, "demo.yaml")
                       .database.connect_retry_for.count() == 0);
    check_error(url + "  connect_retry_for: 2h\n", {"demo.yaml:3: database.connect_retry_for: expected a duration of "
                                                    "at most 1h"});
    check_error(url + "  connect_retry_for: soon\n", {"demo.yaml:3: database.connect_retry_for:"});
    check_error("database:\n  path: a.db\n  connect_retry_for: 10s\n",
                {"demo.yaml:3: database.connect_retry_for: is for PostgreSQL"});
}

BOOST_AUTO_TEST_SUITE_END()
