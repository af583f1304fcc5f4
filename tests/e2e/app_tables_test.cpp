// database.app_tables on SQLite: the seeded app database with its tables and
// columns renamed (ALTER TABLE ... RENAME), run with the mapping, finds and
// corrects exactly what the default run finds on an unrenamed copy, writing
// the renamed columns; a mapped column the database lacks is a setup error
// (exit 2) naming its config key.
#include "e2e/app_tables_support.hpp"

using namespace e2e;

namespace {

// The app's tables as another app might name them (the reconciler's own
// tables' foreign keys follow a renamed table).
const char* const renames[] = {
    "ALTER TABLE users RENAME TO accounts",
    "ALTER TABLE accounts RENAME COLUMN plan TO tier",
    "ALTER TABLE accounts RENAME COLUMN plan_metadata TO meta",
    "ALTER TABLE accounts RENAME COLUMN email TO email_address",
    "ALTER TABLE payments RENAME TO billing_payments",
    "ALTER TABLE billing_payments RENAME COLUMN paid_at TO paid_on",
    "ALTER TABLE billing_payments RENAME COLUMN stripe_invoice_id TO invoice",
    "ALTER TABLE ai_usage RENAME TO usage_log",
    "ALTER TABLE usage_log RENAME COLUMN credits TO spent",
    "ALTER TABLE webhook_events RENAME TO stripe_webhooks",
    "ALTER TABLE stripe_webhooks RENAME COLUMN status TO outcome",
};
const char* const renames_back[] = {
    "ALTER TABLE accounts RENAME COLUMN tier TO plan",
    "ALTER TABLE accounts RENAME COLUMN meta TO plan_metadata",
    "ALTER TABLE accounts RENAME COLUMN email_address TO email",
    "ALTER TABLE accounts RENAME TO users",
    "ALTER TABLE billing_payments RENAME COLUMN paid_on TO paid_at",
    "ALTER TABLE billing_payments RENAME COLUMN invoice TO stripe_invoice_id",
    "ALTER TABLE billing_payments RENAME TO payments",
    "ALTER TABLE usage_log RENAME COLUMN spent TO credits",
    "ALTER TABLE usage_log RENAME TO ai_usage",
    "ALTER TABLE stripe_webhooks RENAME COLUMN outcome TO status",
    "ALTER TABLE stripe_webhooks RENAME TO webhook_events",
};

const std::string mapping =
    "  app_tables:\n"
    "    users: {table: accounts, columns: {plan: tier, plan_metadata: meta, email: email_address}}\n"
    "    payments: {table: billing_payments, columns: {paid_at: paid_on, stripe_invoice_id: invoice}}\n"
    "    ai_usage: {table: usage_log, columns: {credits: spent}}\n"
    "    webhook_events: {table: stripe_webhooks, columns: {status: outcome}}\n";

void exec_all(const fs::path& db_path, const auto& statements) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
    for (const char* s : statements) db.exec(s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_tables_e2e)

BOOST_AUTO_TEST_CASE(renamed_tables_and_columns_give_the_same_run_with_the_mapping) {
    e2e_env env;
    const fs::path renamed = env.dir / "renamed.db";
    env.snapshot_db(renamed);  // migrated, before any run
    const std::string before = app_state(renamed);
    exec_all(renamed, renames);

    // The default run, on the unrenamed database.
    const auto plain = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << plain.err);
    BOOST_REQUIRE_EQUAL(plain.exit_code, 0);
    const auto expected = outcomes(env.latest_report());
    BOOST_REQUIRE_GE(expected.size(), 4u);

    // The same run on the renamed one, through the mapping.
    const fs::path mapped_config = env.dir / "mapped.yaml";
    std::string text = e2e_env::config_text(env.sim->port(), "renamed.db", "reports-mapped");
    const std::string db_key = "database:\n  path: renamed.db\n";
    text.replace(text.find(db_key) + db_key.size(), 0, mapping);
    std::ofstream(mapped_config) << text;
    BOOST_REQUIRE_EQUAL(run(env.dir, "check-config --config " + mapped_config.string()).exit_code, 0);
    const auto mapped = run(env.dir, "run --config " + mapped_config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << mapped.err);
    BOOST_REQUIRE_EQUAL(mapped.exit_code, 0);
    const auto report = json::parse(slurp(env.dir / "reports-mapped" / "latest" / "report.json")).as_object();
    const auto found = outcomes(report);
    const std::string diff = outcome_diff(expected, found);
    BOOST_TEST(diff.empty(), diff);
    BOOST_TEST(report.at("totals").at("findings").as_int64() == env.latest_report().at("totals").at("findings").as_int64());

    // Its balances, tiers and payments went into the renamed columns: named
    // back, the database is the default run's, changed from before.
    exec_all(renamed, renames_back);
    const std::string after = app_state(renamed);
    BOOST_TEST(after != before);
    BOOST_TEST(after == app_state(env.dir / "app.db"));
}

BOOST_AUTO_TEST_CASE(a_mapped_column_the_database_lacks_is_a_setup_error) {
    e2e_env env;
    exec_all(env.dir / "app.db", std::vector<const char*>{"ALTER TABLE users RENAME TO accounts"});
    env.edit_config("  path: app.db\n", "  path: app.db\n  app_tables:\n    users: {table: accounts, columns: {plan: tier}}\n");
    const auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(unescaped(r.err).find(R"(database.app_tables.users.columns.plan: column "tier" not found in table "accounts")") !=
                   std::string::npos,
               r.err);
    // A table that is not there: named by its key too.
    env.edit_config("table: accounts", "table: acounts");
    const auto t = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST(t.exit_code == 2);
    BOOST_TEST(unescaped(t.err).find(R"(database.app_tables.users.table: table "acounts" not found)") != std::string::npos,
               t.err);
    BOOST_TEST(env.count("SELECT count(*) FROM recon_runs") == 0);  // refused before the run began
}

BOOST_AUTO_TEST_SUITE_END()
