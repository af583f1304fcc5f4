#include "store/postgres/pg_session.hpp"

#include "store/errors.hpp"

namespace reconciler::store::postgres {

std::string quoted_schema_name(std::string_view name) {
    const auto plain = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; };
    bool ok = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9') && !name.starts_with("pg_");
    for (char ch : name) ok = ok && plain(ch);
    if (!ok)
        throw schema_error("reconciler schema name '" + std::string(name) +
                           "' is not allowed: use lowercase letters, digits and _, not starting with a digit or "
                           "pg_, at most 63 characters (default: recon)");
    return "\"" + std::string(name) + "\"";
}

namespace {

template <class S>
std::string array_literal(const std::vector<S>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char ch : std::string_view(values[i])) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace

std::string text_array(const std::vector<std::string_view>& values) { return array_literal(values); }
std::string text_array(const std::vector<std::string>& values) { return array_literal(values); }

session::session(const postgres_options& opts, const app_tables& tables)
    : conn_(opts.connect),
      schema_(opts.schema),
      quoted_(quoted_schema_name(opts.schema)),
      sql_(tables, {{"schema", quoted_}}) {
    // migrate()'s IF NOT EXISTS would print a NOTICE on every run's stderr.
    conn_.exec("SET client_min_messages = warning");
    detect_plan_metadata();
}

// The users table the statements will reach (the search_path's, as they
// resolve it) and its plan_metadata column's type.
void session::detect_plan_metadata() {
    const auto& users = *tables().table("users");
    const auto r = conn_.run(
        "SELECT format_type(a.atttypid, NULL) FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped",
        params().add(quote_identifier(users.name)).add(users.column("plan_metadata")->name));
    if (r.rows() == 0) return;
    const std::string_view type = r.text(0, 0);
    if (type == "jsonb") metadata_ = metadata_type::jsonb;
    else if (type == "json") metadata_ = metadata_type::json;
    else if (type == "text" || type == "character varying") metadata_ = metadata_type::text;
    else
        throw schema_error(app_tables::key_path("users", "plan_metadata") + ": column \"" +
                           users.column("plan_metadata")->name + "\" on " + conn_.describe() + " is of type " + std::string(type) +
                           ": the reconciler reads it as jsonb, json or text");
}

const char* session::metadata_cast() const noexcept {
    switch (metadata_.value_or(metadata_type::text)) {
        case metadata_type::jsonb: return "jsonb";
        case metadata_type::json: return "json";
        case metadata_type::text: return "text";
    }
    return "text";
}

void session::check_app_tables() {
    for (const auto& t : tables().tables()) {
        const std::string quoted = quote_identifier(t.name);
        if (!conn_.run("SELECT to_regclass($1) IS NOT NULL", params().add(quoted)).boolean(0, 0)) {
            if (t.name == t.role)
                throw schema_error("database " + conn_.describe() + " is not the app's database: table " + t.name +
                                   " is missing from the search_path (check database.url in the config)");
            throw schema_error(missing_table_message(t, conn_.describe()));
        }
        const auto r = conn_.run("SELECT attname::text FROM pg_attribute"
                                 " WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                                 params().add(quoted));
        std::vector<std::string> columns;
        for (int i = 0; i < r.rows(); ++i) columns.emplace_back(r.text(i, 0));
        if (auto m = missing_column_message(t, columns, true)) throw schema_error(*m + " (database " + conn_.describe() + ")");
    }
}

}  // namespace reconciler::store::postgres
