#include "store/app_tables.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace reconciler::store {

namespace {

app_table runbook_table(std::string role, std::initializer_list<const char*> columns) {
    app_table t{role, role, {}};
    for (const char* c : columns) t.columns.push_back(app_column{c, c});
    return t;
}

bool ident_start(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
bool ident_char(char ch) { return ident_start(ch) || (ch >= '0' && ch <= '9'); }

std::optional<std::string> part_problem(std::string_view part) {
    if (part.empty()) return "is empty";
    if (part.size() > 63) return "is longer than 63 characters";
    if (!ident_start(part.front())) return "must start with a letter or _";
    for (char ch : part)
        if (!ident_char(ch)) return "may hold only letters, digits and _";
    return std::nullopt;
}

}  // namespace

const app_column* app_table::column(std::string_view r) const noexcept {
    for (const auto& c : columns)
        if (c.role == r) return &c;
    return nullptr;
}

std::optional<std::string> identifier_problem(std::string_view name, bool allow_schema) {
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) return part_problem(name);
    if (!allow_schema) return "may hold only letters, digits and _ (no schema for a column)";
    if (name.find('.', dot + 1) != std::string_view::npos) return "may be table or schema.table, no more";
    if (auto p = part_problem(name.substr(0, dot))) return "schema part " + *p;
    if (auto p = part_problem(name.substr(dot + 1))) return "table part " + *p;
    return std::nullopt;
}

std::string quote_identifier(std::string_view name) {
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) return "\"" + std::string(name) + "\"";
    return "\"" + std::string(name.substr(0, dot)) + "\".\"" + std::string(name.substr(dot + 1)) + "\"";
}

// Only the columns the reconciler reads or writes: each is checked at open.
app_tables::app_tables()
    : tables_{runbook_table("users", {"id", "email", "plan", "stripe_customer_id", "plan_metadata"}),
              runbook_table("payments", {"stripe_invoice_id", "stripe_customer_id", "user_id", "amount", "currency",
                                         "status", "paid_at"}),
              runbook_table("ai_usage", {"user_id", "credits", "request_id", "created_at"}),
              runbook_table("webhook_events",
                            {"stripe_event_id", "type", "received_at", "status", "attempts", "last_error"})} {}

const app_table* app_tables::table(std::string_view role) const noexcept {
    for (const auto& t : tables_)
        if (t.role == role) return &t;
    return nullptr;
}

std::vector<std::string_view> app_tables::table_roles() const {
    std::vector<std::string_view> out;
    for (const auto& t : tables_) out.emplace_back(t.role);
    return out;
}

std::vector<std::string_view> app_tables::column_roles(std::string_view table_role) const {
    std::vector<std::string_view> out;
    if (const auto* t = table(table_role))
        for (const auto& c : t->columns) out.emplace_back(c.role);
    return out;
}

app_table& app_tables::mutable_table(std::string_view role) {
    for (auto& t : tables_)
        if (t.role == role) return t;
    throw std::invalid_argument("no app table role " + std::string(role));
}

void app_tables::set_table(std::string_view role, std::string_view name) {
    if (auto p = identifier_problem(name, true)) throw std::invalid_argument(key_path(role) + ": " + *p);
    mutable_table(role).name = name;
}

void app_tables::set_column(std::string_view table_role, std::string_view column_role, std::string_view name) {
    if (auto p = identifier_problem(name, false))
        throw std::invalid_argument(key_path(table_role, column_role) + ": " + *p);
    for (auto& c : mutable_table(table_role).columns)
        if (c.role == column_role) {
            c.name = name;
            return;
        }
    throw std::invalid_argument("no column role " + key_path(table_role, column_role));
}

std::string missing_table_message(const app_table& t, std::string_view database) {
    return app_tables::key_path(t.role) + ": table \"" + t.name + "\" not found in database " + std::string(database) +
           " (check database.app_tables in the config)";
}

namespace {

bool same_name(std::string_view a, std::string_view b, bool case_sensitive) {
    if (case_sensitive) return a == b;
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) ==
                                                  std::tolower(static_cast<unsigned char>(y)); });
}

}  // namespace

std::optional<std::string> missing_column_message(const app_table& t, const std::vector<std::string>& have,
                                                  bool case_sensitive) {
    for (const auto& c : t.columns) {
        const bool found = std::any_of(have.begin(), have.end(),
                                       [&](const std::string& h) { return same_name(h, c.name, case_sensitive); });
        if (found) continue;
        std::string out = app_tables::key_path(t.role, c.role) + ": column \"" + c.name + "\" not found in table \"" +
                          t.name + "\"";
        if (c.name == c.role) out += " (if the app names it otherwise, set that name there)";
        return out;
    }
    return std::nullopt;
}

std::string app_tables::key_path(std::string_view table_role, std::string_view column_role) {
    std::string out = "database.app_tables." + std::string(table_role);
    return column_role.empty() ? out + ".table" : out + ".columns." + std::string(column_role);
}

std::string app_tables::replacement(std::string_view key,
                                    const std::vector<std::pair<std::string_view, std::string_view>>& extra) const {
    for (const auto& [k, v] : extra)
        if (k == key) return std::string(v);
    const auto dot = key.find('.');
    if (const auto* t = table(key.substr(0, dot))) {
        if (dot == std::string_view::npos) return quote_identifier(t->name);
        if (const auto* c = t->column(key.substr(dot + 1))) return quote_identifier(c->name);
    }
    throw std::logic_error("SQL template names an unknown placeholder @" + std::string(key) + "@");
}

std::string app_tables::expand(std::string_view tmpl,
                               const std::vector<std::pair<std::string_view, std::string_view>>& extra) const {
    std::string out;
    out.reserve(tmpl.size() + 32);
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
        const auto at = tmpl.find('@', pos);
        if (at == std::string_view::npos) break;
        std::size_t end = at + 1;
        while (end < tmpl.size() && (ident_char(tmpl[end]) || tmpl[end] == '.')) ++end;
        if (end == at + 1 || end >= tmpl.size() || tmpl[end] != '@' || !ident_start(tmpl[at + 1])) {
            out.append(tmpl.substr(pos, at + 1 - pos));  // a lone @ (jsonb's @>): SQL, not a placeholder
            pos = at + 1;
            continue;
        }
        out.append(tmpl.substr(pos, at - pos));
        const std::string_view key = tmpl.substr(at + 1, end - at - 1);
        out += replacement(key, extra);
        pos = end + 1;
    }
    out.append(tmpl.substr(std::min(pos, tmpl.size())));
    return out;
}

const std::string& sql_templates::operator()(std::string_view tmpl) {
    if (const auto it = expanded_.find(tmpl); it != expanded_.end()) return it->second;
    std::vector<std::pair<std::string_view, std::string_view>> extra(extra_.begin(), extra_.end());
    return expanded_.emplace(std::string(tmpl), tables_.expand(tmpl, extra)).first->second;
}

}  // namespace reconciler::store
