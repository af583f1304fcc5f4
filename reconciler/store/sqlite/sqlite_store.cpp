#include "store/sqlite/sqlite_store.hpp"

#include "store/embedded_sql.hpp"

#include <SQLiteCpp/Transaction.h>

#include <sqlite3.h>

namespace reconciler::store {

std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts, const app_tables& tables) {
    if (!opts.create_if_missing && !std::filesystem::exists(opts.path))
        throw schema_error("open database " + opts.path.string() + ": no such file (check database.path in the config)");
    try {
        return std::make_unique<sqlite::sqlite_store>(opts, tables);
    } catch (const SQLite::Exception& e) {
        throw store_error("open database " + opts.path.string() + ": " + e.what());
    }
}

bool is_busy(const std::exception& e) noexcept {
    const auto* se = dynamic_cast<const SQLite::Exception*>(&e);
    const int primary = se != nullptr ? se->getErrorCode() & 0xff : 0;  // extended codes keep it in the low byte
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

std::string busy_message(const std::filesystem::path& db, std::chrono::milliseconds busy_timeout) {
    return "database " + db.string() + " is locked: another writer held it for longer than database.busy_timeout (" +
           std::to_string(busy_timeout.count()) +
           " ms): the app or a second tool (an sqlite3 shell, a backup, a migration); retry later or raise "
           "database.busy_timeout";
}

void create_app_schema(const std::filesystem::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    SQLite::Transaction tx(db);
    db.exec(std::string(app_schema_sql()));
    tx.commit();
}

}  // namespace reconciler::store
