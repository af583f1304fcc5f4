// The SQLite store's tests: a real app database file per test (temp_db)
// and the values they share.
#pragma once

#include "core/timeutil.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
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

struct temp_db {
    fs::path dir;
    fs::path path;
    temp_db() {
        dir = fs::temp_directory_path() / ("recon-store-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir);
        path = dir / "app.db";
        store::create_app_schema(path);
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES"
                " (1, 'a@example.com', 'pro', 'cus_1', '{\"ai_credits\":50,\"credit_events\":[],\"theme\":\"dark\"}', '2026-01-01T00:00:00Z'),"
                " (2, 'b@example.com', 'free', NULL, '{\"ai_credits\":0,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
    }
    ~temp_db() { fs::remove_all(dir); }
    std::unique_ptr<store::store> open() {
        auto s = store::open_sqlite_store({path, std::chrono::milliseconds(5000), false});
        s->migrate();
        return s;
    }
    json::object metadata(int user_id) {
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT plan_metadata FROM users WHERE id = ?");
        q.bind(1, user_id);
        q.executeStep();
        return json::parse(q.getColumn(0).getString()).as_object();
    }
    long long count(const std::string& sql) {
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
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
