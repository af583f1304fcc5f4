// database.app_tables on PostgreSQL (issue 21): the app's tables renamed, one
// moved to a schema of its own (schema.table), columns renamed, run with the
// mapping: the same findings and corrections as the default run on an
// unrenamed clone, written into the renamed columns; a mapped column the
// database lacks is a setup error (exit 2) naming its config key.
#include "e2e/app_tables_support.hpp"
#include "e2e/pg_e2e_support.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace e2e;

namespace {

const char* const pg_renames[] = {
    "CREATE SCHEMA billing",
    "ALTER TABLE users RENAME TO accounts",
    "ALTER TABLE accounts RENAME COLUMN plan TO tier",
    "ALTER TABLE accounts RENAME COLUMN plan_metadata TO meta",
    "ALTER TABLE payments SET SCHEMA billing",
    "ALTER TABLE billing.payments RENAME COLUMN paid_at TO paid_on",
    "ALTER TABLE billing.payments RENAME COLUMN stripe_invoice_id TO invoice",
    "ALTER TABLE ai_usage RENAME COLUMN credits TO spent",
    "ALTER TABLE webhook_events RENAME TO stripe_webhooks",
    "ALTER TABLE stripe_webhooks RENAME COLUMN status TO outcome",
};
const char* const pg_renames_back[] = {
    "ALTER TABLE accounts RENAME COLUMN tier TO plan",
    "ALTER TABLE accounts RENAME COLUMN meta TO plan_metadata",
    "ALTER TABLE accounts RENAME TO users",
    "ALTER TABLE billing.payments RENAME COLUMN paid_on TO paid_at",
    "ALTER TABLE billing.payments RENAME COLUMN invoice TO stripe_invoice_id",
    "ALTER TABLE billing.payments SET SCHEMA public",
    "ALTER TABLE ai_usage RENAME COLUMN spent TO credits",
    "ALTER TABLE stripe_webhooks RENAME COLUMN outcome TO status",
    "ALTER TABLE stripe_webhooks RENAME TO webhook_events",
};

const std::string pg_mapping =
    "  app_tables:\n"
    "    users: {table: accounts, columns: {plan: tier, plan_metadata: meta}}\n"
    "    payments: {table: billing.payments, columns: {paid_at: paid_on, stripe_invoice_id: invoice}}\n"
    "    ai_usage: {columns: {credits: spent}}\n"
    "    webhook_events: {table: stripe_webhooks, columns: {status: outcome}}\n";

void exec_all(const pg::connect_options& o, const auto& statements) {
    pg::connection c(o);
    for (const char* s : statements) c.exec(s);
}

// A copy of the config on database `dbname` with `mapping` under database:.
fs::path mapped_config(const pg_e2e& t, const std::string& dbname, const std::string& mapping) {
    const fs::path p = t.config_for(dbname);
    std::string text = slurp(p);
    const std::string key = "  statement_timeout: 60s\n";
    text.replace(text.find(key) + key.size(), 0, mapping);
    std::ofstream(p, std::ios::trunc) << text;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_mapping)

BOOST_AUTO_TEST_CASE(renamed_tables_and_columns_give_the_same_run_with_the_mapping) {
    pg_e2e t;
    auto& env = t.env;
    pg_clone renamed(t.db.server(), t.db.name(), t.db.name() + "_mapped");  // before anything ran
    exec_all(renamed.options(), pg_renames);

    BOOST_REQUIRE_EQUAL(run(env.dir, "migrate --config " + env.config.string()).exit_code, 0);
    const auto plain = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << plain.err);
    BOOST_REQUIRE_EQUAL(plain.exit_code, 0);
    const auto expected = outcomes(env.latest_report());
    BOOST_REQUIRE_GE(expected.size(), 4u);

    const fs::path config = mapped_config(t, renamed.name(), pg_mapping);
    const auto migrate = run(env.dir, "migrate --config " + config.string());
    BOOST_TEST_INFO("stderr: " << migrate.err);
    BOOST_REQUIRE_EQUAL(migrate.exit_code, 0);
    const auto mapped = run(env.dir, "run --config " + config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << mapped.err);
    BOOST_REQUIRE_EQUAL(mapped.exit_code, 0);
    const std::string diff = outcome_diff(expected, outcomes(env.latest_report()));
    BOOST_TEST(diff.empty(), diff);

    // Named back, the renamed database is the default run's.
    exec_all(renamed.options(), pg_renames_back);
    BOOST_TEST(pg_app_state(renamed.options()) == pg_app_state(t.db.options()));
}

BOOST_AUTO_TEST_CASE(a_mapped_column_the_database_lacks_is_a_setup_error) {
    pg_e2e t;
    auto& env = t.env;
    exec_all(t.db.options(), std::vector<const char*>{"ALTER TABLE users RENAME TO accounts"});
    const fs::path config = mapped_config(t, t.db.name(), "  app_tables:\n    users: {table: accounts, columns: {plan: tier}}\n");
    const auto r = run(env.dir, "migrate --config " + config.string());
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(unescaped(r.err).find(R"(database.app_tables.users.columns.plan: column "tier" not found in table "accounts")") !=
                   std::string::npos,
               r.err);
    BOOST_TEST(t.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'recon'") == 0);  // nothing created
}

BOOST_AUTO_TEST_SUITE_END()
