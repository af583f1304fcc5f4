// What only the PostgreSQL store has, against a real server: the user's row
// locked against the app's concurrent writes, migrate() under an advisory
// lock, plan_metadata as jsonb, json or text, the reconciler's schema name.
// (The ports' contract on PostgreSQL: tests/store, test_store_on_postgres.)
#include "store/postgres/open.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_transaction.hpp"
#include "store/store.hpp"
#include "support/pg_test_db.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>

namespace reconciler::store {
inline std::ostream& operator<<(std::ostream& os, apply_outcome o) { return os << to_string(o); }
}  // namespace reconciler::store

namespace pg = reconciler::store::postgres;
namespace json = boost::json;
namespace bdata = boost::unit_test::data;
using namespace reconciler;
using reconciler::test::pg_test_db;

namespace {

// A fresh app database: the two users store_fixture.hpp has, plan_metadata
// of `type` (the app's choice: jsonb, json or text).
struct app_db {
    pg_test_db db;
    pg::connection app{db.options()};  // the app's own session

    explicit app_db(const std::string& type = "jsonb") {
        store::create_postgres_app_schema(db.options());
        if (type != "jsonb")
            app.exec("ALTER TABLE users ALTER COLUMN plan_metadata DROP DEFAULT,"
                     " ALTER COLUMN plan_metadata TYPE " + type + " USING plan_metadata::" + type);
        app.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES"
                 " (1, 'a@example.com', 'pro', 'cus_1', '{\"ai_credits\":50,\"credit_events\":[],\"theme\":\"dark\"}',"
                 " '2026-01-01T00:00:00Z'),"
                 " (2, 'b@example.com', 'free', NULL, '{\"ai_credits\":0,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
    }
    std::unique_ptr<store::store> open(const std::string& schema = "recon") {
        auto s = store::open_postgres_store({db.options(), schema});
        s->migrate();
        return s;
    }
    json::object metadata(int id) {
        return json::parse(app.run("SELECT plan_metadata::text FROM users WHERE id = $1", pg::params().add(id)).text(0, 0))
            .as_object();
    }
    std::int64_t count(const std::string& sql) { return app.run(sql).int64(0, 0); }
};

proposed_correction grant_in_1() {
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.ledger_key = "in_1";
    c.user_id = 1;
    c.credits = 1000;
    c.source = "in_1";
    c.reason = "test";
    c.record_payment = local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", "2026-11-24T00:00:00Z"};
    return c;
}

const char* const metadata_types[] = {"jsonb", "json", "text"};

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_store)

// The app consumes 5 credits in its own transaction while a grant applies:
// the grant waits for the app's row lock, then re-reads the row, so the
// balance is 50 - 5 + 1000 and both credit events are there.
BOOST_DATA_TEST_CASE(a_correction_never_loses_a_concurrent_app_write, bdata::make(metadata_types), type) {
    app_db a(type);
    auto s = a.open();
    const std::string cast = std::string("::") + type;
    auto tx = std::make_unique<pg::transaction>(a.app);
    a.app.exec("UPDATE users SET plan_metadata = ('{\"ai_credits\":45,\"theme\":\"dark\",\"credit_events\":"
               "[{\"id\":\"ce_app\",\"delta\":-5,\"kind\":\"consume\",\"source\":\"req_1\"}]}')" + cast + " WHERE id = 1");
    auto applied = std::async(std::launch::async, [&] { return s->apply(grant_in_1(), 0, "corr-1"); });
    BOOST_TEST((applied.wait_for(std::chrono::milliseconds(500)) == std::future_status::timeout));  // waits for the app
    tx->commit();
    const auto r = applied.get();
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(r.balance_after == 1045);
    const auto m = a.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 1045);
    BOOST_TEST(m.at("theme").as_string() == "dark");
    const auto& events = m.at("credit_events").as_array();
    BOOST_REQUIRE_EQUAL(events.size(), 2u);
    BOOST_TEST(events.at(0).at("id").as_string() == "ce_app");
    BOOST_TEST(events.at(1).at("source").as_string() == "in_1");
}

// Two reconcilers apply the same correction at once (both have read the
// ledger before either writes): one applies it, the other waits for the
// user's row and then reports it already applied; one ledger row, one grant.
BOOST_AUTO_TEST_CASE(the_same_correction_applied_twice_at_once_applies_once) {
    app_db a;
    auto s1 = a.open();
    auto s2 = a.open();
    auto hold = std::make_unique<pg::transaction>(a.app);  // the app holds the row: both applies queue behind it
    a.app.run("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", pg::params().add(1));
    auto r1 = std::async(std::launch::async, [&] { return s1->apply(grant_in_1(), 0, "corr-1"); });
    auto r2 = std::async(std::launch::async, [&] { return s2->apply(grant_in_1(), 0, "corr-2"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    hold->commit();
    std::multiset<std::string> outcomes{store::to_string(r1.get().outcome), store::to_string(r2.get().outcome)};
    BOOST_TEST((outcomes == std::multiset<std::string>{"applied", "already_applied"}));
    BOOST_TEST(a.count("SELECT count(*) FROM recon.recon_corrections") == 1);
    BOOST_TEST(a.metadata(1).at("ai_credits").as_int64() == 1050);
    BOOST_TEST(a.metadata(1).at("credit_events").as_array().size() == 1u);
}

// jsonb, json or text: read, corrected (grant, revert, adjust) and found by
// the window's balance check alike; the app's other keys are kept.
BOOST_DATA_TEST_CASE(plan_metadata_as_jsonb_json_or_text, bdata::make(metadata_types), type) {
    app_db a(type);
    auto s = a.open();
    const auto r = s->apply(grant_in_1(), 0, "corr-1");
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(s->apply(grant_in_1(), 0, "corr-2").outcome == store::apply_outcome::already_applied);
    auto m = a.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 1050);
    BOOST_TEST(m.at("theme").as_string() == "dark");
    BOOST_TEST(m.at("credit_events").as_array().size() == 1u);
    BOOST_TEST(s->revert(r.correction_id, "corr-rev").credits_delta == -1000);
    store::adjustment adj;
    adj.user_id = 1;
    adj.grant = 7;
    adj.reason = "goodwill";
    BOOST_TEST(s->adjust(adj, "corr-adj").balance_after == 57);
    m = a.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 57);
    BOOST_TEST(m.at("credit_events").as_array().size() == 3u);
    // The window's balance check reads the column whatever its type: user 1's
    // 50 credits never came from an event (broken), user 2's 0 matches its
    // events until the app sets 9 credits without one.
    store::local_query q;
    q.start = 0;
    q.end = 1;
    const auto active_ids = [&] {
        std::vector<std::int64_t> ids;
        for (const auto& u : s->load_local(q).users) ids.push_back(u.id);
        std::sort(ids.begin(), ids.end());
        return ids;
    };
    BOOST_TEST(active_ids() == std::vector<std::int64_t>{1}, boost::test_tools::per_element());
    a.app.exec(std::string("UPDATE users SET plan_metadata = '{\"ai_credits\":9,\"credit_events\":[]}'::") + type +
               " WHERE id = 2");
    BOOST_TEST(active_ids() == (std::vector<std::int64_t>{1, 2}), boost::test_tools::per_element());
}

// Two migrates at once (two reconcilers started together): one applies the
// migrations, the other waits for its transaction and finds them applied.
BOOST_AUTO_TEST_CASE(two_migrates_at_once_apply_each_migration_once) {
    app_db a;
    for (int round = 0; round < 3; ++round) {
        const std::string schema = "recon_race_" + std::to_string(round);
        auto s1 = store::open_postgres_store({a.db.options(), schema});
        auto s2 = store::open_postgres_store({a.db.options(), schema});
        std::barrier start(2);
        auto migrate = [&](store::store& s) {
            start.arrive_and_wait();
            return s.migrate();
        };
        auto m1 = std::async(std::launch::async, migrate, std::ref(*s1));
        auto m2 = std::async(std::launch::async, migrate, std::ref(*s2));
        const int applied = m1.get() + m2.get();  // rethrows a migrate's error
        BOOST_TEST(applied == s1->latest_schema_version());
        BOOST_CHECK_NO_THROW(s1->check_schema());
        BOOST_CHECK_NO_THROW(s2->check_schema());
    }
}

// The reconciler's tables live in the configured schema and nowhere else;
// two schemas in one database are two independent ledgers.
BOOST_AUTO_TEST_CASE(the_reconciler_schema_is_configurable_and_its_name_checked) {
    app_db a;
    auto r = a.open("recon");
    auto other = a.open("billing_recon");
    BOOST_TEST(r->apply(grant_in_1(), 0, "corr-1").outcome == store::apply_outcome::applied);
    BOOST_TEST(a.count("SELECT count(*) FROM recon.recon_corrections") == 1);
    BOOST_TEST(a.count("SELECT count(*) FROM billing_recon.recon_corrections") == 0);
    BOOST_TEST(a.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'recon%'") == 0);
    const auto run = other->begin_run(store::run_record{0, 100, false, "h", "v"});
    other->advance_checkpoint("events", 0, 100, run);
    BOOST_TEST(!r->checkpoint("events").has_value());
    BOOST_TEST(other->checkpoint("events").value() == 100);
    for (const char* bad : {"", "Recon", "recon\"; DROP TABLE users; --", "pg_recon", "1recon", "re con"}) {
        try {
            store::open_postgres_store({a.db.options(), bad});
            BOOST_ERROR("schema name accepted: " << bad);
        } catch (const store::schema_error& e) {
            BOOST_TEST(std::string(e.what()).find("lowercase letters") != std::string::npos, e.what());
        }
    }
    BOOST_TEST(a.count("SELECT count(*) FROM users") == 2);
}

// The app's tables are wherever the connection's search_path finds them
// (here a schema `app`, set in the URL's options): read and corrected
// there, while the reconciler's own tables stay in theirs.
BOOST_AUTO_TEST_CASE(the_apps_tables_are_found_through_the_search_path) {
    pg_test_db db;
    auto opts = db.options();
    {
        pg::connection admin(opts);
        admin.exec("CREATE SCHEMA app");
    }
    opts.url += " options='-c search_path=app'";
    store::create_postgres_app_schema(opts);
    pg::connection app(opts);
    app.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES"
             " (1, 'a@example.com', 'pro', 'cus_1', '{\"ai_credits\":50,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
    auto s = store::open_postgres_store({opts, "recon"});
    s->migrate();
    BOOST_TEST(s->apply(grant_in_1(), 0, "corr-1").outcome == store::apply_outcome::applied);
    BOOST_TEST(app.run("SELECT count(*) FROM app.payments WHERE stripe_invoice_id = 'in_1'").int64(0, 0) == 1);
    BOOST_TEST(app.run("SELECT count(*) FROM recon.recon_corrections").int64(0, 0) == 1);
    BOOST_TEST(app.run("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").int64(0, 0) == 0);
    BOOST_TEST(s->find_user_by_email("A@example.com").value().ai_credits == 1050);
}

// Key lists travel as one array parameter: an id with the array syntax's
// own characters in it is matched as itself, never split or unquoted.
BOOST_AUTO_TEST_CASE(array_parameters_keep_every_key_whole) {
    app_db a;
    const std::string odd = R"(cus_"a\b,{c} d)";
    a.app.run("UPDATE users SET stripe_customer_id = $1 WHERE id = 2", pg::params().add(odd));
    auto s = a.open();
    store::local_query q;
    q.customer_ids = {odd, "cus_\"a", "d"};
    q.window_rules = false;
    q.window_payments = false;
    const auto snap = s->load_local(q);
    BOOST_REQUIRE_EQUAL(snap.users.size(), 1u);
    BOOST_TEST(snap.users[0].id == 2);
    BOOST_TEST(snap.users[0].stripe_customer_id == odd);
}

// A database without the app's tables is refused before anything is created.
BOOST_AUTO_TEST_CASE(a_database_without_the_apps_tables_is_refused) {
    pg_test_db db;
    auto s = store::open_postgres_store({db.options(), "recon"});
    try {
        s->migrate();
        BOOST_ERROR("migrate accepted a database without the app's tables");
    } catch (const store::schema_error& e) {
        BOOST_TEST(std::string(e.what()).find("not the app's database") != std::string::npos, e.what());
    }
    pg::connection c(db.options());
    BOOST_TEST(c.run("SELECT count(*) FROM pg_namespace WHERE nspname = 'recon'").int64(0, 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
