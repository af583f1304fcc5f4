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

session::session(const postgres_options& opts)
    : conn_(opts.connect), schema_(opts.schema), quoted_(quoted_schema_name(opts.schema)) {
    // migrate()'s IF NOT EXISTS would print a NOTICE on every run's stderr.
    conn_.exec("SET client_min_messages = warning");
    detect_plan_metadata();
}

std::string session::sql(std::string_view text) const {
    static constexpr std::string_view token = "@schema@";
    std::string out;
    out.reserve(text.size() + 16);
    for (std::size_t pos = 0;;) {
        const auto hit = text.find(token, pos);
        out.append(text.substr(pos, hit == std::string_view::npos ? std::string_view::npos : hit - pos));
        if (hit == std::string_view::npos) return out;
        out += quoted_;
        pos = hit + token.size();
    }
}

// The users table the statements will reach (the search_path's, as they
// resolve it) and its plan_metadata column's type.
void session::detect_plan_metadata() {
    const auto r = conn_.run(
        "SELECT format_type(a.atttypid, NULL) FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass('users') AND a.attname = 'plan_metadata' AND NOT a.attisdropped");
    if (r.rows() == 0) return;
    const std::string_view type = r.text(0, 0);
    if (type == "jsonb") metadata_ = metadata_type::jsonb;
    else if (type == "json") metadata_ = metadata_type::json;
    else if (type == "text" || type == "character varying") metadata_ = metadata_type::text;
    else
        throw schema_error("users.plan_metadata on " + conn_.describe() + " is of type " + std::string(type) +
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

std::vector<std::string> session::missing_app_tables() {
    std::vector<std::string> missing;
    const auto r = conn_.run(
        "SELECT t FROM unnest(ARRAY['users','payments','ai_usage','webhook_events']) AS t WHERE to_regclass(t) IS NULL");
    for (int i = 0; i < r.rows(); ++i) missing.emplace_back(r.text(i, 0));
    return missing;
}

}  // namespace reconciler::store::postgres
