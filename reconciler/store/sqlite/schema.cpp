#include "store/sqlite/schema.hpp"

#include "store/embedded_sql.hpp"
#include "store/errors.hpp"
#include "store/sqlite/sql.hpp"

#include <SQLiteCpp/Transaction.h>

namespace reconciler::store::sqlite {

int sqlite_schema::latest_schema_version() const { return static_cast<int>(migrations().size()); }

int sqlite_schema::schema_version() {
    if (!table_exists(c_.db(), "recon_schema_migrations")) return 0;
    SQLite::Statement q(c_.db(), "SELECT COALESCE(MAX(version), 0) FROM recon_schema_migrations");
    q.executeStep();
    return q.getColumn(0).getInt();
}

namespace {

// The columns of an app table (a view will do) as SQLite lists them: none
// when there is no such table. "schema.table": an attached database's.
std::vector<std::string> app_table_columns(SQLite::Database& db, const std::string& name) {
    const auto dot = name.find('.');
    SQLite::Statement q(db, dot == std::string::npos ? "SELECT name FROM pragma_table_info(?1)"
                                                     : "SELECT name FROM pragma_table_info(?1, ?2)");
    q.bind(1, dot == std::string::npos ? name : name.substr(dot + 1));
    if (dot != std::string::npos) q.bind(2, name.substr(0, dot));
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
}

}  // namespace

// Every mapped table and column (database.app_tables) before anything is
// written: a missing one is a setup error naming its config key.
void sqlite_schema::check_app_tables() {
    for (const auto& t : c_.tables().tables()) {
        const auto columns = app_table_columns(c_.db(), t.name);
        if (columns.empty() && t.name == t.role)
            throw schema_error("database " + c_.path() + " is not the app's database: table " + t.name +
                               " is missing (check database.path in the config)");
        if (columns.empty()) throw schema_error(missing_table_message(t, c_.path()));
        if (auto m = missing_column_message(t, columns, false)) throw schema_error(*m + " (database " + c_.path() + ")");
    }
}

int sqlite_schema::migrate() {
    check_app_tables();
    SQLite::Database& db = c_.db();
    db.exec("CREATE TABLE IF NOT EXISTS recon_schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const int current = schema_version();
    if (current > latest_schema_version()) throw schema_error(ahead_message(current));
    c_.enable_wal();
    // A migration may rebuild a table others refer to (0004: recon_runs):
    // SQLite's procedure for that runs with foreign keys off (the pragma is
    // a no-op inside a transaction) and checks them before it commits.
    db.exec("PRAGMA foreign_keys = OFF");
    struct keys_back_on {
        SQLite::Database& db;
        ~keys_back_on() {
            try {
                db.exec("PRAGMA foreign_keys = ON");
            } catch (const SQLite::Exception&) {  // the connection is closed right after a migrate
            }
        }
    } restore{db};
    int applied = 0;
    for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(std::string(m.sql));
        SQLite::Statement ins(db, "INSERT INTO recon_schema_migrations(version, name, applied_at) VALUES (?,?,?)");
        ins.bind(1, m.version);
        ins.bind(2, std::string(m.name));
        ins.bind(3, now_text());
        ins.exec();
        // The reconciler's own tables only: the app's are not ours to judge.
        for (const char* t : {"recon_pages", "recon_findings", "recon_checkpoints", "recon_corrections"}) {
            SQLite::Statement broken(db, std::string("PRAGMA foreign_key_check(") + t + ")");
            if (broken.executeStep())
                throw schema_error("migrate database " + c_.path() + " to version " + std::to_string(m.version) +
                                   ": " + t + " would refer to a missing row (nothing was changed)");
        }
        tx.commit();
        ++applied;
    }
    return applied;
}

std::string sqlite_schema::ahead_message(int current) const {
    return "database " + c_.path() + " is at reconciler schema version " + std::to_string(current) +
           ", newer than this build's " + std::to_string(latest_schema_version()) + ": upgrade stripe-reconciler";
}

void sqlite_schema::check_schema() {
    check_app_tables();
    const int v = schema_version();
    if (v == 0)
        throw schema_error("database " + c_.path() + " has no reconciler schema: run `reconciler migrate --config FILE`");
    if (v < latest_schema_version())
        throw schema_error("database " + c_.path() + " is at reconciler schema version " + std::to_string(v) +
                           ", this build needs " + std::to_string(latest_schema_version()) +
                           ": run `reconciler migrate --config FILE`");
    if (v > latest_schema_version()) throw schema_error(ahead_message(v));
    c_.enable_wal();
}

}  // namespace reconciler::store::sqlite
