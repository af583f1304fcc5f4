// What every area of the PostgreSQL store shares: the one connection, the
// reconciler's schema (validated and quoted once) and the type the app keeps
// plan_metadata in (detected once, when the store opens).
#pragma once

#include "store/postgres/open.hpp"
#include "store/postgres/pg_connection.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::store::postgres {

enum class metadata_type { jsonb, json, text };

// `name` as a quoted identifier ("recon"); throws schema_error naming the
// rule when it is not a plain lowercase name (so quoting can never be
// escaped and the name means the same quoted or not).
std::string quoted_schema_name(std::string_view name);

// A text[] (or bigint[]) parameter: {"a","b"} with " and \ escaped.
std::string text_array(const std::vector<std::string_view>& values);
std::string text_array(const std::vector<std::string>& values);

class session {
public:
    session(const postgres_options& opts, const app_tables& tables);
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    connection& conn() noexcept { return conn_; }
    // `text` with "@schema@" replaced by the quoted schema name and the app
    // tables' placeholders by their configured names (app_tables.hpp),
    // expanded once per text.
    const std::string& sql(std::string_view text) { return sql_(text); }
    const app_tables& tables() const noexcept { return sql_.tables(); }
    // One statement of `text` (see sql()), prepared once.
    result run(std::string_view text, const params& p = {}) { return conn_.run(sql(text), p); }
    const std::string& schema_name() const noexcept { return schema_; }
    const std::string& quoted_schema() const noexcept { return quoted_; }

    // The app's plan_metadata type; nullopt when there is no users table
    // (not the app's database: check_schema() and migrate() say so).
    std::optional<metadata_type> plan_metadata_type() const noexcept { return metadata_; }
    // "jsonb", "json" or "text": the cast a written document needs.
    const char* metadata_cast() const noexcept;
    // Each mapped app table and column there, else the schema_error naming
    // the first missing one (database.app_tables.<table>...).
    void check_app_tables();
    // Each team's delivery routes for this store's life (outbox.hpp,
    // set_delivery_routes): an escalation that opens enqueues a trigger for each.
    std::map<std::string, std::vector<std::string>>& delivery_routes() noexcept { return routes_; }

private:
    void detect_plan_metadata();

    connection conn_;
    std::string schema_, quoted_;
    sql_templates sql_;
    std::optional<metadata_type> metadata_;
    std::map<std::string, std::vector<std::string>> routes_;
};

}  // namespace reconciler::store::postgres
