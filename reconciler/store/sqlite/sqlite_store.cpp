#include "store/sqlite/sqlite_store.hpp"

#include "store/embedded_sql.hpp"

#include <SQLiteCpp/Transaction.h>

namespace reconciler::store {

std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts) {
    if (!opts.create_if_missing && !std::filesystem::exists(opts.path))
        throw schema_error("open database " + opts.path.string() + ": no such file (check database.path in the config)");
    try {
        return std::make_unique<sqlite::sqlite_store>(opts);
    } catch (const SQLite::Exception& e) {
        throw store_error("open database " + opts.path.string() + ": " + e.what());
    }
}

void create_app_schema(const std::filesystem::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    SQLite::Transaction tx(db);
    db.exec(std::string(app_schema_sql()));
    tx.commit();
}

}  // namespace reconciler::store
