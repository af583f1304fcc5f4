// The app's users table as the PostgreSQL store reads and writes it.
// plan_metadata is parsed as on SQLite (sqlite/users.hpp: kept whole, the
// app's other keys preserved) from its text, whatever its column type; a
// credit event is appended in SQL when the column is jsonb (jsonb_set and
// ||: only the event and the balance are sent), and as the whole document
// otherwise, on a row the caller has locked (SELECT ... FOR UPDATE).
#pragma once

#include "core/model.hpp"
#include "store/postgres/pg_session.hpp"
#include "store/sqlite/users.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace reconciler::store::postgres {

using sqlite::metadata;
using sqlite::new_credit_event;
using sqlite::parse_metadata;

// The columns read_user() reads, in its order; a query appends its WHERE.
// A template (session::sql expands it).
inline constexpr const char* user_columns =
    "SELECT @users.id@, @users.email@, @users.plan@, @users.stripe_customer_id@, @users.plan_metadata@::text"
    " FROM @users@ ";

// Row `row` of a result that selects user_columns.
local_user read_user(const result& r, int row, const std::unordered_set<std::string_view>* sources = nullptr);

// The user's row locked until the caller's transaction ends, with its
// plan_metadata parsed; nullopt when there is no such user.
struct locked_user {
    local_user user;
    metadata m;
};
std::optional<locked_user> lock_user(session& s, std::int64_t user_id);

// Appends `e` to the user's credit events and sets ai_credits to
// `balance_after`; `m` is the locked row's document (m.ai_credits stays the
// balance before, m.raw gets the event as well).
void append_credit_event(session& s, std::int64_t user_id, metadata& m, const new_credit_event& e,
                         std::int64_t balance_after);
void write_plan(session& s, std::int64_t user_id, const std::string& plan);

}  // namespace reconciler::store::postgres
