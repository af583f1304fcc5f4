// database: the app's database, SQLite (`path`) or PostgreSQL (`url`), exactly
// one. A PostgreSQL URL is checked here, at load, so that a typo is a config
// error with a line number rather than a libpq message at the first run; and
// a URL carrying a password is refused without ever being echoed.
#include "config/sections.hpp"

#include "config/validate.hpp"
#include "core/text.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace reconciler::config_detail {
namespace {

constexpr std::string_view url_what = "a postgresql:// URL such as postgresql://user@host:5432/app?sslmode=verify-full";
constexpr std::array<std::string_view, 6> sslmodes{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The value is shown only when it cannot hold a password (no user info).
std::string shown(std::string_view url) {
    return url.find('@') == std::string_view::npos ? quote(url) : "a value not shown (it may hold a password)";
}

void check_url(const yaml_reader& r, const YAML::Node& at, const std::string& url) {
    const std::string path = "database.url";
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed) r.fail(at, path + ": expected " + std::string(url_what) + ", got " + shown(url));
    const boost::urls::url_view& u = *parsed;
    const std::string scheme = lower(u.scheme());
    if (scheme != "postgresql" && scheme != "postgres")
        r.fail(at, path + ": expected " + std::string(url_what) + ", got " + shown(url));
    if (u.has_password())
        r.fail(at, path + ": must not contain a password (user:password@); put the password in database.password "
                          "({ env: PGPASSWORD } or a file or a systemd credential) (the URL is not shown)");
    if (!u.has_authority()) r.fail(at, path + ": expected " + std::string(url_what) + ", got " + shown(url));
    if (u.has_port()) {
        const std::string port = u.port();
        if (port.empty() || port.size() > 5 || std::stoul(port) == 0 || std::stoul(port) > 65535)
            r.fail(at, path + ": port must be a number in 1..65535, got " + shown(url));
    }
    for (const auto& p : u.params()) {
        const std::string key = lower(p.key);
        if (key == "password")
            r.fail(at, path + ": must not contain a password (?password=); put it in database.password "
                              "({ env: PGPASSWORD } or a file or a systemd credential) (the URL is not shown)");
        if (key == "sslmode" && std::find(sslmodes.begin(), sslmodes.end(), p.value) == sslmodes.end())
            r.fail(at, path + ": sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got " +
                           quote(p.value));
    }
}

// As the PostgreSQL store quotes it (store/postgres/pg_session.cpp): checked
// here too so that a bad name is a config error with its line.
bool is_schema_name(std::string_view s) {
    if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s.front())) || s.starts_with("pg_"))
        return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return (c >= 'a' && c <= 'z') || std::isdigit(c) || c == '_'; });
}

// A mapping whose keys are among `allowed` (the roles: "did you mean" for a near miss).
yaml_reader::section open_roles(const yaml_reader& r, const YAML::Node& n, const std::string& path,
                                const std::vector<std::string_view>& allowed, std::string_view what) {
    yaml_reader::section s = r.open_map(n, path, what);
    if (!n.IsMap()) return s;
    for (const auto& kv : n) {
        const std::string& key = kv.first.Scalar();
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        const std::vector<std::string> names(allowed.begin(), allowed.end());
        std::string message = "unknown key " + yaml_reader::child_path(path, key) + " (allowed: " + join(names) + ")";
        if (const auto best = closest_name(key, allowed))
            message += "; did you mean " + yaml_reader::child_path(path, *best) + "?";
        r.fail(kv.first, message);
    }
    return s;
}

// database.app_tables: only what differs from the runbook's names, e.g.
// users: {table: accounts, columns: {plan: tier}}. Names are checked here
// (identifier rules) and against the database when the store opens.
void read_app_tables(const yaml_reader& r, const YAML::Node& n, store::app_tables& out) {
    const std::string path = "database.app_tables";
    const auto tables = open_roles(r, n, path, out.table_roles(),
                                   "a mapping of the app's tables (users, payments, ai_usage, webhook_events)");
    for (const auto& [role, node] : tables) {
        const std::string tpath = path + "." + role;
        const auto t = r.open_section(node, tpath, {"table", "columns"});
        if (const auto it = t.find("table"); it != t.end()) {
            const std::string what = "a table name (letters, digits and _, not starting with a digit, at most 63 "
                                     "characters; schema.table allowed)";
            const std::string& name = r.scalar(it->second, tpath + ".table", what);
            if (store::identifier_problem(name, true)) r.expected(it->second, tpath + ".table", what);
            out.set_table(role, name);
        }
        const auto it = t.find("columns");
        if (it == t.end()) continue;
        const auto columns = open_roles(r, it->second, tpath + ".columns", out.column_roles(role),
                                        "a mapping of " + role + "'s columns by their runbook name");
        for (const auto& [column, value] : columns) {
            const std::string cpath = tpath + ".columns." + column;
            const std::string what = "a column name (letters, digits and _, not starting with a digit, at most 63 "
                                     "characters)";
            const std::string& name = r.scalar(value, cpath, what);
            if (store::identifier_problem(name, false)) r.expected(value, cpath, what);
            out.set_column(role, column, name);
        }
    }
}

void read_postgres(const yaml_reader& r, const yaml_reader::section& db, database_config& out) {
    const YAML::Node& url = db.at("url");
    out.url = r.scalar(url, "database.url", url_what);
    check_url(r, url, out.url);
    if (const auto it = db.find("password"); it != db.end()) {
        out.password.emplace();
        read_secret_source(r, it->second, *out.password, "database.password", "PGPASSWORD");
    }
    if (const auto it = db.find("schema"); it != db.end()) {
        const std::string what = "a schema name (lowercase letters, digits and _, not starting with a digit or pg_, "
                                 "at most 63 characters)";
        out.schema = r.scalar(it->second, "database.schema", what);
        if (!is_schema_name(out.schema)) r.expected(it->second, "database.schema", what);
    }
    if (const auto it = db.find("statement_timeout"); it != db.end())
        out.statement_timeout = r.duration(it->second, "database.statement_timeout", std::chrono::hours(1), "1h");
    if (const auto it = db.find("connect_retry_for"); it != db.end()) {
        // 0 turns the retry off (a duration is otherwise more than zero).
        const bool off = it->second.IsScalar() && (it->second.Scalar() == "0" || it->second.Scalar() == "0s");
        out.connect_retry_for = off ? std::chrono::seconds(0)
                                    : r.duration(it->second, "database.connect_retry_for", std::chrono::hours(1), "1h");
    }
    if (const auto it = db.find("busy_timeout"); it != db.end())
        r.fail(it->second, "database.busy_timeout: is for SQLite (database.path); with database.url use "
                           "database.statement_timeout");
}

}  // namespace

void read_database(const yaml_reader& r, const YAML::Node& n, database_config& out) {
    const yaml_reader::section db =
        r.open_section(n, "database", {"path", "busy_timeout", "url", "password", "schema", "statement_timeout",
                                       "connect_retry_for", "app_tables"});
    const bool has_path = db.contains("path"), has_url = db.contains("url");
    if (has_path && has_url)
        r.fail(db.at("url"), "database: expected exactly one of database.path (SQLite) and database.url (PostgreSQL), "
                             "found both");
    if (!has_path && !has_url)
        r.fail(n, "missing required key database.path (the app's SQLite database file) or database.url (a "
                  "postgresql:// URL)");
    if (const auto it = db.find("app_tables"); it != db.end()) read_app_tables(r, it->second, out.app_tables);
    if (has_url) return read_postgres(r, db, out);
    for (const char* key : {"password", "schema", "statement_timeout", "connect_retry_for"})
        if (const auto it = db.find(key); it != db.end())
            r.fail(it->second, std::string("database.") + key + ": is for PostgreSQL (database.url); database.path is "
                                                                   "a SQLite file");
    out.path = r.path_value(db.at("path"), "database.path", "the path of the app's SQLite database");
    if (const auto it = db.find("busy_timeout"); it != db.end()) {
        // SQLite takes an int of milliseconds; an hour is far beyond any useful wait.
        out.busy_timeout = r.duration(it->second, "database.busy_timeout", std::chrono::hours(1), "1h");
    }
}

}  // namespace reconciler::config_detail
