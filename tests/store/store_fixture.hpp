// The store's tests, on either backend: a real app database per test
// (temp_db) and the values they share. RECONCILER_TEST_STORE=postgres runs
// them on PostgreSQL (a fresh database per test on ctest's throwaway server,
// tests/support/pg_test_db.hpp); otherwise on an SQLite file. The tests
// write and inspect the database through temp_db's backend-neutral helpers
// (exec, count, metadata), in SQL both backends read alike: on PostgreSQL the
// helper's session finds the reconciler's tables (schema recon) by name.
#pragma once

#include "core/timeutil.hpp"
#include "store/postgres/open.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"
#include "support/pg_test_db.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace reconciler;

namespace reconciler::store {
inline std::ostream& operator<<(std::ostream& os, apply_outcome o) { return os << to_string(o); }
}  // namespace reconciler::store

namespace store_test {

inline bool on_postgres() {
    const char* b = std::getenv("RECONCILER_TEST_STORE");
    return b && std::string(b) == "postgres";
}

// A test decorator for what only SQLite has (files beside the database,
// its locking, its query plans): *boost::unit_test::precondition(sqlite_only).
struct sqlite_only_t {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(!on_postgres());
        r.message() << "SQLite only (RECONCILER_TEST_STORE=postgres)";
        return r;
    }
};
inline const sqlite_only_t sqlite_only{};

struct temp_db {
    fs::path dir;
    fs::path path;  // SQLite: the app's database file
    std::unique_ptr<reconciler::test::pg_test_db> pg;
    std::unique_ptr<store::postgres::connection> pg_conn;  // the helpers' session

    temp_db() {
        dir = fs::temp_directory_path() / ("recon-store-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir);
        path = dir / "app.db";
        if (on_postgres()) {
            pg = std::make_unique<reconciler::test::pg_test_db>();
            store::create_postgres_app_schema(pg->options());
            pg_conn = std::make_unique<store::postgres::connection>(pg->options());
            pg_conn->exec("SET search_path TO recon, public");
        } else {
            store::create_app_schema(path);
        }
        exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES"
             " (1, 'a@example.com', 'pro', 'cus_1', '{\"ai_credits\":50,\"credit_events\":[],\"theme\":\"dark\"}', '2026-01-01T00:00:00Z'),"
             " (2, 'b@example.com', 'free', NULL, '{\"ai_credits\":0,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
    }
    ~temp_db() {
        pg_conn.reset();
        pg.reset();
        fs::remove_all(dir);
    }
    // The store, before migrate().
    std::unique_ptr<store::store> open_unmigrated() {
        if (pg) return store::open_postgres_store({pg->options(), "recon"});
        return store::open_sqlite_store({path, std::chrono::milliseconds(5000), false});
    }
    std::unique_ptr<store::store> open() {
        auto s = open_unmigrated();
        s->migrate();
        return s;
    }
    // SQL without results, as the app (or a person) would run it.
    void exec(const std::string& sql) {
        if (pg_conn) return pg_conn->exec(sql);
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE, 5000);
        db.exec(sql);
    }
    long long count(const std::string& sql) {
        if (pg_conn) return pg_conn->run(sql).int64(0, 0);
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }
    json::object metadata(int user_id) {
        const std::string sql = "SELECT plan_metadata" + std::string(pg_conn ? "::text" : "") +
                                " FROM users WHERE id = " + std::to_string(user_id);
        if (pg_conn) return json::parse(pg_conn->run(sql).text(0, 0)).as_object();
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        return json::parse(db.execAndGet(sql).getString()).as_object();
    }
    // A JSON column's member as text, in the backend's SQL.
    std::string json_member(const std::string& column, const std::string& key) const {
        return pg_conn ? "(" + column + "::jsonb->>'" + key + "')" : "json_extract(" + column + ", '$." + key + "')";
    }
};

inline proposed_correction grant(std::int64_t credits = 1000) {
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.ledger_key = "in_1";
    c.user_id = 1;
    c.credits = credits;
    c.source = "in_1";
    c.reason = "test";
    c.record_payment = local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", "2026-11-24T00:00:00Z"};
    return c;
}

inline std::string message_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace store_test

using namespace store_test;
