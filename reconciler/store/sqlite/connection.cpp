#include "store/sqlite/connection.hpp"

#include "store/errors.hpp"
#include "store/sqlite/sql.hpp"

#include <sqlite3.h>

namespace reconciler::store::sqlite {

connection::connection(const sqlite_options& opts, const app_tables& tables)
    : path_(opts.path.string()),
      sql_(tables),
      db_(path_, opts.create_if_missing ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READWRITE,
          static_cast<int>(opts.busy_timeout.count())) {
    // SQLite silently opens a file it may not write read-only.
    if (sqlite3_db_readonly(db_.getHandle(), "main") == 1)
        throw schema_error("database " + path_ +
                           " is read-only for this user: the reconciler writes corrections and its run "
                           "records there (give this user write access to the file and its directory, or "
                           "run as the app's user)");
    try {
        (void)table_exists(db_, "users");  // the first read: a non-SQLite file fails here
    } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() == SQLITE_NOTADB)
            throw schema_error("database " + path_ + " is not an SQLite database (check database.path in the config)");
        throw;
    }
    if (opts.create_if_missing) enable_wal();
    db_.exec("PRAGMA foreign_keys = ON");
    db_.exec("PRAGMA synchronous = NORMAL");
}

void connection::enable_wal() {
    if (wal_) return;
    db_.exec("PRAGMA journal_mode = WAL");
    wal_ = true;
}

}  // namespace reconciler::store::sqlite
