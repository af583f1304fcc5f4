// The app's four tables as the reconciler names them: each a table name and
// its columns by their runbook role (defaults: the runbook's names, as
// sql/app/app_schema.sql creates them). Configured by database.app_tables;
// the same mapping serves SQLite and PostgreSQL.
//
// Every statement that touches an app table is written as a template
// (`SELECT @users.email@ FROM @users@ WHERE @users.id@ = ?`) and expanded
// once per store (sql_templates, below): names go in as double-quoted
// identifiers (both backends accept "ident"), values stay parameters. On
// SQLite a quoted name that matches no column would read as a string
// literal: which is why every mapped column is checked when the store opens.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace reconciler::store {

struct app_column {
    std::string role;  // the runbook's name: "plan"
    std::string name;  // the app's: "tier"
};

struct app_table {
    std::string role;  // "users"
    std::string name;  // the app's: "accounts" or, on PostgreSQL, "billing.accounts"
    std::vector<app_column> columns;

    const app_column* column(std::string_view role) const noexcept;
};

// What is wrong with `name` as a table (allow_schema: "schema.table") or
// column name: nullopt when it is fine. Rules: letters, digits and _, not
// starting with a digit, at most 63 characters (PostgreSQL's limit) per part.
std::optional<std::string> identifier_problem(std::string_view name, bool allow_schema);

// `name` double-quoted, "schema"."table" for a qualified table name.
// Precondition: identifier_problem(name, true) is nullopt.
std::string quote_identifier(std::string_view name);

// The setup errors of a store that opens on a database lacking a mapped
// name: they name the config key (database.app_tables.users.columns.plan)
// and the configured name. `have`: the table's columns as the database
// lists them (case_sensitive: PostgreSQL's quoted names; SQLite's are not).
std::string missing_table_message(const app_table& t, std::string_view database);
std::optional<std::string> missing_column_message(const app_table& t, const std::vector<std::string>& have,
                                                  bool case_sensitive);

class app_tables {
public:
    app_tables();  // the runbook's names

    const std::vector<app_table>& tables() const noexcept { return tables_; }
    const app_table* table(std::string_view role) const noexcept;
    std::vector<std::string_view> table_roles() const;
    std::vector<std::string_view> column_roles(std::string_view table_role) const;

    // Throw std::invalid_argument for an unknown role or a bad name (the
    // config checks both first, with the key path and line).
    void set_table(std::string_view role, std::string_view name);
    void set_column(std::string_view table_role, std::string_view column_role, std::string_view name);

    // `tmpl` with each @table@ and @table.column@ replaced by its quoted
    // name, and each @key@ of `extra` by its value (e.g. PostgreSQL's
    // @schema@). An @name@ that is neither is a programming error:
    // std::logic_error. An @ not followed by a name and @ (jsonb's @>) stays.
    std::string expand(std::string_view tmpl,
                       const std::vector<std::pair<std::string_view, std::string_view>>& extra = {}) const;

    // "database.app_tables.users.columns.plan": where a role is configured,
    // for the errors that name it.
    static std::string key_path(std::string_view table_role, std::string_view column_role = {});

private:
    app_table& mutable_table(std::string_view role);
    std::string replacement(std::string_view key,
                            const std::vector<std::pair<std::string_view, std::string_view>>& extra) const;
    std::vector<app_table> tables_;
};

// A store's SQL templates, each expanded once (the first time it is used,
// then looked up as the prepared-statement caches look up their text): the
// connection (SQLite) or session (PostgreSQL) owns one, every area asks it.
class sql_templates {
public:
    explicit sql_templates(app_tables tables, std::vector<std::pair<std::string, std::string>> extra = {})
        : tables_(std::move(tables)), extra_(std::move(extra)) {}
    const app_tables& tables() const noexcept { return tables_; }
    // The expansion of `tmpl` (see app_tables::expand); stable for the
    // object's life. Not thread-safe: used by the store's one writer.
    const std::string& operator()(std::string_view tmpl);

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    app_tables tables_;
    std::vector<std::pair<std::string, std::string>> extra_;
    std::unordered_map<std::string, std::string, hash, std::equal_to<>> expanded_;
};

}  // namespace reconciler::store
