// The PostgreSQL backend: how to open it.
//
// The app's tables (users, payments, ai_usage, webhook_events, or the names
// `tables` maps them to) are read and written where the
// connection's search_path finds them (or in the schema a mapped name gives); the reconciler's
// own tables live in a schema of their own (`recon` unless configured),
// created by migrate(), and every statement names them with that schema.
// Every write to the app's users re-reads the row with SELECT ... FOR UPDATE
// in the write's own transaction, so an app write meanwhile is never lost.
#pragma once

#include "store/app_tables.hpp"
#include "store/postgres/pg_connection.hpp"

#include <memory>
#include <string>

namespace reconciler::store {

class store;

struct postgres_options {
    postgres::connect_options connect;
    // The reconciler's schema: lowercase letters, digits and _, not starting
    // with a digit or pg_, at most 63 characters (quoted in every statement).
    std::string schema = "recon";
};

// Throws schema_error for an invalid schema name, refused credentials or a
// missing database; postgres::connection_lost when the server does not answer.
// `tables`: the app's table and column names (database.app_tables); a table
// may be schema-qualified, else the search_path finds it.
std::unique_ptr<store> open_postgres_store(const postgres_options& opts, const app_tables& tables = app_tables{});

// Creates the app's tables (sql/postgres/app_schema.sql) in the search_path's
// first schema (demo and tests only).
void create_postgres_app_schema(const postgres::connect_options& opts);

}  // namespace reconciler::store
