// The one SQLite connection to the app's database that every area of the
// SQLite store works on. Opening refuses, before anything is written, a
// file that is read-only or not SQLite (schema_error: exit 2).
#pragma once

#include "store/sqlite/open.hpp"
#include "store/sqlite/statement_cache.hpp"

#include <SQLiteCpp/Database.h>

#include <map>
#include <string>
#include <vector>

namespace reconciler::store::sqlite {

class connection {
public:
    connection(const sqlite_options& opts, const app_tables& tables);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    SQLite::Database& db() noexcept { return db_; }
    const std::string& path() const noexcept { return path_; }
    // A cached prepared statement (see statement_cache).
    statement_lease cached(const std::string& sql) { return stmts_.get(sql); }
    // An app-table SQL template expanded with the configured names (app_tables.hpp).
    const std::string& sql(std::string_view tmpl) { return sql_(tmpl); }
    const app_tables& tables() const noexcept { return sql_.tables(); }
    // Switching to WAL writes the file: only once the database has passed
    // check_schema() or migrate()'s checks, so a refused one stays untouched.
    void enable_wal();
    // Each team's delivery routes for this store's life (outbox.hpp,
    // set_delivery_routes): an escalation that opens enqueues a trigger for each.
    std::map<std::string, std::vector<std::string>>& delivery_routes() noexcept { return routes_; }

private:
    std::string path_;
    sql_templates sql_;
    SQLite::Database db_;
    bool wal_ = false;
    std::map<std::string, std::vector<std::string>> routes_;
    statement_cache stmts_{db_};  // after db_: finalized before it closes
};

}  // namespace reconciler::store::sqlite
