// The app's users table as the store reads and writes it: a row with its
// plan_metadata, {"ai_credits": N, "credit_events": [...]}, kept whole (the
// app may keep other keys there that must not be dropped).
#pragma once

#include "core/model.hpp"
#include "store/sqlite/connection.hpp"

#include <boost/json/object.hpp>

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace reconciler::store::sqlite {

struct metadata {
    boost::json::object raw;  // preserved: the app may keep other keys we must not drop
    std::int64_t ai_credits = 0;
    std::vector<credit_event> events;
};

// The columns read_user() reads, in its order; a query appends its WHERE.
// A template (connection::sql expands it).
inline constexpr const char* user_columns =
    "SELECT @users.id@, @users.email@, @users.plan@, @users.stripe_customer_id@, @users.plan_metadata@ FROM @users@ ";

std::string str_field(const boost::json::object& o, std::string_view k);

// `sources`: keep only the credit events with one of these sources (all when null).
metadata parse_metadata(const std::string& text, std::int64_t user_id,
                        const std::unordered_set<std::string_view>* sources = nullptr);

// The current row of a statement that selects user_columns.
local_user read_user(SQLite::Statement& q, const std::unordered_set<std::string_view>* sources = nullptr);

// A credit event to append, in plan_metadata's key order (views: the
// strings are copied once, into the JSON).
struct new_credit_event {
    std::string_view id;
    std::int64_t delta = 0;
    std::string_view kind, reason, source, correlation_id, at;
};

// Appends `e` to m.raw's credit events and sets m.raw's ai_credits to
// `balance_after` (m.ai_credits stays the balance before).
void add_credit_event(metadata& m, const new_credit_event& e, std::int64_t balance_after);

// UPDATE users: the plan_metadata of m.raw, or the plan.
void write_metadata(connection& c, std::int64_t user_id, const metadata& m);
void write_plan(connection& c, std::int64_t user_id, const std::string& plan);

}  // namespace reconciler::store::sqlite
