// Prepared statements of the hot paths (pages, findings, escalations,
// corrections), kept for the connection: a run records thousands of each,
// and preparing a statement costs more than running it.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

namespace reconciler::store::sqlite {

// A lease resets and unbinds its statement when it ends, so no cached
// statement keeps a read open or a value bound past its use.
class statement_lease {
public:
    explicit statement_lease(SQLite::Statement& s) : s_(s) {}
    statement_lease(const statement_lease&) = delete;
    statement_lease& operator=(const statement_lease&) = delete;
    ~statement_lease() {
        s_.tryReset();
        try {
            s_.clearBindings();
        } catch (const std::exception&) {  // only a statement that failed to prepare: none is cached
        }
    }
    SQLite::Statement* operator->() const { return &s_; }
    SQLite::Statement& operator*() const { return s_; }

private:
    SQLite::Statement& s_;
};

class statement_cache {
public:
    explicit statement_cache(SQLite::Database& db) : db_(db) {}
    // One lease per statement at a time (a statement is not reentrant).
    statement_lease get(const std::string& sql) {
        auto& slot = by_sql_[sql];
        if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
        return statement_lease(*slot);
    }

private:
    SQLite::Database& db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> by_sql_;
};

}  // namespace reconciler::store::sqlite
