#include "store/postgres/schema.hpp"

#include "core/timeutil.hpp"
#include "store/errors.hpp"
#include "store/postgres/embedded_sql.hpp"
#include "store/postgres/pg_transaction.hpp"

namespace reconciler::store::postgres {

int postgres_schema::latest_schema_version() const { return static_cast<int>(migrations().size()); }

int postgres_schema::schema_version() {
    const auto t = s_.conn().run("SELECT to_regclass($1) IS NOT NULL",
                                 params().add(s_.quoted_schema() + ".recon_schema_migrations"));
    if (!t.boolean(0, 0)) return 0;
    return static_cast<int>(s_.run("SELECT COALESCE(MAX(version), 0) FROM @schema@.recon_schema_migrations").int64(0, 0));
}

std::string postgres_schema::where() const {
    return "database " + s_.conn().describe() + " (schema " + s_.schema_name() + ")";
}

void postgres_schema::check_app_tables() {
    s_.check_app_tables();
}

int postgres_schema::migrate() {
    check_app_tables();
    transaction tx(s_.conn());
    // Held to the transaction's end: a second migrate waits here, then finds
    // the migrations applied. Keyed by the schema, so two reconcilers with
    // schemas of their own in one database do not wait for each other.
    s_.conn().run("SELECT pg_advisory_xact_lock(hashtext('stripe-reconciler migrate'), hashtext($1))",
                  params().add(s_.schema_name()));
    // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
    // schema is there: a role given a schema of its own (README) has not.
    if (s_.conn().run("SELECT 1 FROM pg_namespace WHERE nspname = $1", params().add(s_.schema_name())).rows() == 0)
        s_.conn().exec(s_.sql("CREATE SCHEMA @schema@"));
    s_.conn().exec(s_.sql("CREATE TABLE IF NOT EXISTS @schema@.recon_schema_migrations ("
                          " version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)"));
    const int current = schema_version();
    if (current > latest_schema_version()) throw schema_error(ahead_message(current));
    int applied = 0;
    for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        s_.conn().exec(s_.sql(m.sql));
        s_.run("INSERT INTO @schema@.recon_schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
               params().add(m.version).add(m.name).add(format_rfc3339(now_unix())));
        ++applied;
    }
    tx.commit();
    return applied;
}

std::string postgres_schema::ahead_message(int current) const {
    return where() + " is at reconciler schema version " + std::to_string(current) + ", newer than this build's " +
           std::to_string(latest_schema_version()) + ": upgrade stripe-reconciler";
}

void postgres_schema::check_schema() {
    check_app_tables();
    const int v = schema_version();
    if (v == 0) throw schema_error(where() + " has no reconciler schema: run `reconciler migrate --config FILE`");
    if (v < latest_schema_version())
        throw schema_error(where() + " is at reconciler schema version " + std::to_string(v) + ", this build needs " +
                           std::to_string(latest_schema_version()) + ": run `reconciler migrate --config FILE`");
    if (v > latest_schema_version()) throw schema_error(ahead_message(v));
}

}  // namespace reconciler::store::postgres
