// The store, schema: the reconciler schema: checks, migrations, what they leave behind.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_schema)

BOOST_AUTO_TEST_CASE(schema_checks_name_the_fix) {
    temp_db t;
    auto s = t.open_unmigrated();
    auto msg = message_of([&] { s->check_schema(); });
    BOOST_TEST(msg.find("reconciler migrate") != std::string::npos);
    BOOST_TEST(s->migrate() == s->latest_schema_version());
    BOOST_TEST(s->migrate() == 0);  // idempotent
    BOOST_CHECK_NO_THROW(s->check_schema());
    t.exec("INSERT INTO recon_schema_migrations VALUES (99, 'future', '2030-01-01T00:00:00Z')");
    msg = message_of([&] { s->check_schema(); });
    BOOST_TEST(msg.find("newer than this build") != std::string::npos);
    msg = message_of([&] { s->migrate(); });
    BOOST_TEST(msg.find("newer than this build") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_sqlite_file_that_is_not_the_apps_is_refused, *boost::unit_test::precondition(sqlite_only)) {
    temp_db t;
    std::string msg;

    const fs::path other = t.dir / "other.db";
    { SQLite::Database db(other.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); db.exec("CREATE TABLE x(a)"); }
    auto o = store::open_sqlite_store({other, std::chrono::milliseconds(1000), false});
    msg = message_of([&] { o->migrate(); });
    BOOST_TEST(msg.find("not the app's database") != std::string::npos);

    msg = message_of([&] { store::open_sqlite_store({t.dir / "missing.db", std::chrono::milliseconds(1), false}); });
    BOOST_TEST(msg.find("missing.db") != std::string::npos);
    BOOST_TEST(!fs::exists(t.dir / "missing.db"));  // never created by a typo
}

// Migration 3's index makes an email match a lookup (not a scan of every
// user per query); a database whose owners dropped it is matched as before.
BOOST_AUTO_TEST_CASE(email_matching_uses_the_migrated_index_and_works_without_it,
                     *boost::unit_test::precondition(sqlite_only)) {
    temp_db t;
    auto s = t.open();
    const auto plan = [&] {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "EXPLAIN QUERY PLAN SELECT id FROM users WHERE email COLLATE NOCASE IN ('x@y.z', 'B@example.com')");
        std::string text;
        while (q.executeStep()) text += q.getColumn(3).getString() + "\n";
        return text;
    };
    BOOST_TEST(plan().find("INDEX recon_users_email_nocase") != std::string::npos, plan());
    store::local_query q;
    q.emails = {"B@EXAMPLE.com"};
    q.window_rules = false;
    q.window_payments = false;
    BOOST_REQUIRE_EQUAL(s->load_local(q).users.size(), 1u);
    { SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE); db.exec("DROP INDEX recon_users_email_nocase"); }
    BOOST_TEST(plan().find("recon_users_email_nocase") == std::string::npos);
    auto snap = s->load_local(q);
    BOOST_REQUIRE_EQUAL(snap.users.size(), 1u);
    BOOST_TEST(snap.users[0].id == 2);
    BOOST_TEST(s->schema_version() == s->latest_schema_version());  // a dropped index is not a schema to redo
}

BOOST_AUTO_TEST_SUITE_END()
