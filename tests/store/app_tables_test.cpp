// store/app_tables: the app's names as the statements get them (quoted,
// validated, every placeholder known) and the setup errors of a database
// that lacks a mapped name.
#include <boost/test/unit_test.hpp>

#include "store/app_tables.hpp"

#include <stdexcept>
#include <string>

using namespace reconciler::store;

BOOST_AUTO_TEST_SUITE(app_tables_tests)

BOOST_AUTO_TEST_CASE(defaults_expand_to_the_runbooks_names_quoted) {
    const app_tables t;
    BOOST_TEST(t.expand("SELECT @users.plan@ FROM @users@ WHERE @users.id@ = ?") ==
               R"(SELECT "plan" FROM "users" WHERE "id" = ?)");
    BOOST_TEST(t.expand("INSERT INTO @payments@(@payments.paid_at@)") == R"(INSERT INTO "payments"("paid_at"))");
}

BOOST_AUTO_TEST_CASE(a_mapping_renames_only_what_it_names) {
    app_tables t;
    t.set_table("users", "accounts");
    t.set_column("users", "plan", "tier");
    t.set_table("payments", "billing.payments");
    BOOST_TEST(t.expand("SELECT @users.plan@, @users.email@ FROM @users@ u JOIN @payments@ p ON p.@payments.user_id@ = u.@users.id@") ==
               R"(SELECT "tier", "email" FROM "accounts" u JOIN "billing"."payments" p ON p."user_id" = u."id")");
}

BOOST_AUTO_TEST_CASE(extra_placeholders_and_sql_at_signs) {
    const app_tables t;
    // PostgreSQL's @schema@ goes through the same expansion; jsonb's @> and a
    // lone @ are SQL, not placeholders; values stay parameters.
    BOOST_TEST(t.expand("SELECT 1 FROM @schema@.recon_runs WHERE d @> $1 AND e = '@'", {{"schema", "\"recon\""}}) ==
               R"(SELECT 1 FROM "recon".recon_runs WHERE d @> $1 AND e = '@')");
    sql_templates s(t, {{"schema", "\"r\""}});
    const std::string& once = s("SELECT @users.id@ FROM @schema@.x");
    BOOST_TEST(once == R"(SELECT "id" FROM "r".x)");
    BOOST_TEST(&s("SELECT @users.id@ FROM @schema@.x") == &once);  // expanded once, then looked up
}

BOOST_AUTO_TEST_CASE(an_unknown_placeholder_is_a_programming_error) {
    const app_tables t;
    BOOST_CHECK_THROW(t.expand("SELECT @users.tier@ FROM @users@"), std::logic_error);
    BOOST_CHECK_THROW(t.expand("SELECT 1 FROM @accounts@"), std::logic_error);
    BOOST_CHECK_THROW(t.expand("SELECT 1 FROM @schema@.x"), std::logic_error);  // no extra given
}

BOOST_AUTO_TEST_CASE(identifier_rules) {
    BOOST_TEST(!identifier_problem("accounts", false));
    BOOST_TEST(!identifier_problem("_Tier2", false));
    BOOST_TEST(!identifier_problem("billing.accounts", true));
    BOOST_TEST(!identifier_problem(std::string(63, 'a'), false));
    BOOST_TEST(identifier_problem(std::string(64, 'a'), false).has_value());
    BOOST_TEST(identifier_problem("", false).has_value());
    BOOST_TEST(identifier_problem("2fa", false).has_value());
    BOOST_TEST(identifier_problem("a-b", false).has_value());
    BOOST_TEST(identifier_problem("a\"b", false).has_value());  // quoting could be escaped
    BOOST_TEST(identifier_problem("x; DROP TABLE users", false).has_value());
    BOOST_TEST(identifier_problem("billing.accounts", false).has_value());  // no schema for a column
    BOOST_TEST(identifier_problem("a.b.c", true).has_value());
    BOOST_TEST(identifier_problem(".accounts", true).has_value());
    app_tables t;
    BOOST_CHECK_THROW(t.set_table("users", "a b"), std::invalid_argument);
    BOOST_CHECK_THROW(t.set_table("customers", "a"), std::invalid_argument);
    BOOST_CHECK_THROW(t.set_column("users", "tier", "x"), std::invalid_argument);
    BOOST_TEST(t.expand("@users@") == R"("users")");  // unchanged by the refused calls
}

BOOST_AUTO_TEST_CASE(missing_names_are_reported_by_their_key) {
    app_tables t;
    t.set_table("users", "accounts");
    t.set_column("users", "plan", "tier");
    const app_table& users = *t.table("users");
    const auto m = missing_column_message(users, {"id", "email", "plan", "stripe_customer_id", "plan_metadata"}, true);
    BOOST_REQUIRE(m.has_value());
    BOOST_TEST(*m == R"(database.app_tables.users.columns.plan: column "tier" not found in table "accounts")");
    BOOST_TEST(!missing_column_message(users, {"ID", "Email", "TIER", "stripe_customer_id", "plan_metadata"}, false));
    BOOST_TEST(missing_column_message(users, {"ID", "Email", "TIER", "stripe_customer_id", "plan_metadata"}, true).has_value());
    BOOST_TEST(missing_table_message(users, "app.db").starts_with(
        R"(database.app_tables.users.table: table "accounts" not found in database app.db)"));
}

BOOST_AUTO_TEST_SUITE_END()
