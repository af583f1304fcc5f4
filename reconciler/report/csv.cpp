#include "report/csv.hpp"

#include "report/json_read.hpp"

#include <array>
#include <ostream>
#include <sstream>
#include <string_view>

namespace reconciler {

namespace json = boost::json;

namespace detail {
namespace {

// A spreadsheet evaluates a cell that starts with one of these as a formula
// (OWASP "CSV injection"); a leading ' makes it text.
bool starts_like_formula(std::string_view s) {
    return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
}

// numeric: a column of numbers, where "-5" is a value and not a formula.
std::string csv_field(const json::value* v, bool numeric) {
    std::string s = text_of(v);
    const bool is_number = v != nullptr && (v->is_number());
    if (starts_like_formula(s) && !(numeric && (is_number || is_plain_number(s)))) s.insert(0, 1, '\'');
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + '"';
}

// One record: the fields joined by commas, CRLF-terminated.
template <class Fields>
void append_record(std::string& out, const Fields& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out += ',';
        out += fields[i];
    }
    out += "\r\n";
}

}  // namespace
}  // namespace detail

void render_findings_csv(std::ostream& csv, const finding_source& findings, const csv_run& run) {
    using namespace detail;
    static constexpr std::array<std::string_view, 18> header{
        "kind",       "subject_type",   "subject_id",      "customer", "user_id",   "user_email",
        "team",       "disposition",    "correlation_id",  "correction_kind", "credits", "tier_from",
        "tier_to",    "summary",        "note",            "run_id",   "window_start", "window_end"};
    // The finding's own value, else the run's (already plain text: no formula can start it).
    auto or_run = [](const json::object* f, std::string_view key, const std::string& fallback) {
        const json::value* v = field(f, key);
        if (v == nullptr || v->is_null()) {
            const json::value given(fallback);
            return csv_field(&given, key == "run_id");
        }
        return csv_field(v, key == "run_id");
    };
    std::string out;
    append_record(out, header);
    csv << out;
    findings([&](const json::object* f) {
        if (f == nullptr) return;
        out.clear();
        const json::object* c = object_at(f, "correction");
        const std::array<std::string, 18> row{
            csv_field(field(f, "kind"), false),         csv_field(field(f, "subject_type"), false),
            csv_field(field(f, "subject_id"), false),   csv_field(field(f, "customer"), false),
            csv_field(field(f, "user_id"), true),       csv_field(field(f, "user_email"), false),
            csv_field(field(f, "team"), false),         csv_field(field(f, "disposition"), false),
            csv_field(field(f, "correlation_id"), false), csv_field(field(c, "kind"), false),
            csv_field(field(c, "credits"), true),       csv_field(field(c, "tier_from"), false),
            csv_field(field(c, "tier_to"), false),      csv_field(field(f, "summary"), false),
            csv_field(field(f, "note"), false),           or_run(f, "run_id", run.run_id),
            or_run(f, "window_start", run.window_start), or_run(f, "window_end", run.window_end)};
        append_record(out, row);
        csv << out;
    });
}

std::string render_findings_csv(const json::object& report) {
    std::ostringstream out;
    const json::object* r = detail::object_at(&report, "run");
    const json::object* window = detail::object_at(r, "window");
    render_findings_csv(out, detail::findings_of(detail::array_at(&report, "findings")),
                        csv_run{detail::str_at(r, "id"), detail::str_at(window, "start"), detail::str_at(window, "end")});
    return out.str();
}

}  // namespace reconciler
