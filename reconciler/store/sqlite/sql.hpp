// Small SQLite helpers every area uses: key lists as IN (...) chunks, the
// time text the app's columns hold.
#pragma once

#include "core/timeutil.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace reconciler::store::sqlite {

inline std::string now_text() { return format_rfc3339(now_unix()); }

inline bool table_exists(SQLite::Database& db, const char* name) {
    SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, name);
    return q.executeStep();
}

// Runs `fn(chunk)` over `ids` in chunks small enough for SQLite's parameter limit.
template <class Id, class Fn>
void for_chunks(const std::vector<Id>& ids, Fn&& fn) {
    constexpr std::size_t chunk = 500;
    for (std::size_t i = 0; i < ids.size(); i += chunk) {
        const auto end = std::min(ids.size(), i + chunk);
        fn(std::span<const Id>(ids.data() + i, end - i));
    }
}

// Binds each of `keys` to ?1, ?2, ... (as text: SQLite copies it; a view
// goes through a string, SQLiteCpp binding text from strings only).
template <class Id>
void bind_keys(SQLite::Statement& q, std::span<const Id> keys) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if constexpr (std::is_same_v<Id, std::string>) q.bind(static_cast<int>(i + 1), keys[i]);
        else q.bind(static_cast<int>(i + 1), std::string(keys[i]));
    }
}

// "?,?,...": n placeholders.
inline std::string placeholders(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
    return s;
}

}  // namespace reconciler::store::sqlite
