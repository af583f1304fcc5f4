#include "report/markdown.hpp"

#include "report/json_read.hpp"
#include "report/wording.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <map>
#include <vector>

namespace reconciler {

namespace json = boost::json;

namespace detail {
namespace {

// Every datum goes into a code span: a ticket's Markdown renderer then shows
// it literally (no links, images, HTML or emphasis from a hostile email or
// description). The fence is longer than any backtick run inside.
std::string md_code(std::string_view s) {
    std::string text;
    text.reserve(s.size());
    std::size_t run = 0, longest = 0;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';  // a newline would end the list item
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
        text += c;
    }
    if (text.find_first_not_of(' ') == std::string::npos) return "—";
    const std::string fence(longest + 1, '`');
    const bool pad = text.front() == '`' || text.back() == '`' || (text.front() == ' ' && text.back() == ' ');
    return pad ? fence + " " + text + " " + fence : fence + text + fence;
}

std::string md_num(std::string_view s) { return is_plain_number(s) ? std::string(s) : md_code(s); }

// A --since/--until value as one shell word.
std::string shell_word(std::string_view s) {
    const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
               c == '+' || c == '.' || c == '_';
    });
    if (safe) return std::string(s);
    std::string q = "'";
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

// Enough for a ticket; the rest is in report.html and findings.csv.
inline constexpr std::size_t md_max_items = 15;

void heading(std::string& m, const report_view& v) {
    const totals_model& t = v.totals;
    m += "### Stripe reconciliation run " + md_num(v.run_id.empty() ? "?" : v.run_id) + ": " +
         md_code(v.status.empty() ? "unknown" : v.status) + (v.mode == "dry_run" ? " (dry run, nothing changed)" : "") +
         "\n\n";
    m += "- Window: " + md_code(v.window_start) + " → " + md_code(v.window_end) + "\n";
    m += "- Findings: " + std::to_string(t.findings) + " (applied " + std::to_string(t.applied) + ", flagged " +
         std::to_string(t.flagged) + ")\n";
    if (!v.error.empty()) m += "- Error: " + md_code(v.error) + "\n";
    if (const json::array* notes = array_at(v.run, "notes"))
        for (const auto& n : *notes) m += "- Note: " + md_code(text_of(&n)) + "\n";
}

// What was fixed: how many, and the first few.
void fixed(std::string& m, const report_view& v) {
    std::vector<correction_row> first;
    std::size_t count = 0;
    v.corrections([&](const correction_row& c) {
        if (!c.status.empty() && c.status != "applied") return;
        ++count;
        if (first.size() < md_max_items) first.push_back(c);
    });
    m += "\n**Fixed (" + std::to_string(count) + ")**\n\n";
    if (count == 0) m += "- Nothing.\n";
    const change_format fmt{md_code, md_num};
    for (const auto& c : first)
        m += "- " + md_code(c.user_email.empty() ? "(no user)" : c.user_email) + ": " + describe_change(c, fmt) +
             "; correlation ID " + md_code(c.correlation_id) + "\n";
    if (count > md_max_items)
        m += "- … and " + std::to_string(count - md_max_items) + " more (report.html, findings.csv)\n";
}

// One escalation's list item.
std::string escalation_line(const escalation_row& e) {
    std::string m = "  - " + md_code(e.kind) + " " + md_code(e.subject);
    if (!e.user_email.empty()) m += " (" + md_code(e.user_email) + ")";
    std::vector<std::string> facts;
    if (!e.status.empty()) facts.push_back(md_code(e.status));
    if (e.age_days) facts.push_back(format_age(e.age_days) + " old");
    if (!e.occurrences.empty() && e.occurrences != "1") facts.push_back("seen " + md_num(e.occurrences) + "×");
    for (std::size_t i = 0; i < facts.size(); ++i) m += (i == 0 ? ": " : ", ") + facts[i];
    return m + "\n";
}

// What was escalated, to whom: each team's count and first few (no more
// than md_max_items rows are shown in all).
void escalated(std::string& m, const report_view& v) {
    struct team_rows {
        std::size_t count = 0;
        std::vector<escalation_row> first;
    };
    std::map<std::string, team_rows> by_team;
    std::size_t resolved = 0, count = 0;
    v.escalations([&](const escalation_row& e) {
        if (e.status == "resolved") {
            ++resolved;
            return;
        }
        ++count;
        team_rows& team = by_team[e.team.empty() ? "(no team)" : e.team];
        ++team.count;
        if (team.first.size() < md_max_items) team.first.push_back(e);
    });
    m += "\n**Escalated (" + std::to_string(count) + ")**\n\n";
    if (count == 0) m += "- Nothing.\n";
    std::size_t shown = 0;
    for (const auto& [team, rows] : by_team) {
        m += "- to " + md_code(team) + " (" + std::to_string(rows.count) + "):\n";
        for (const auto& e : rows.first) {
            if (shown == md_max_items) break;
            ++shown;
            m += escalation_line(e);
        }
    }
    if (count > shown) m += "- … and " + std::to_string(count - shown) + " more (report.html)\n";
    if (resolved > 0) m += "- " + std::to_string(resolved) + " earlier escalation(s) now resolved\n";
    const std::string delivered = describe_deliveries(v.run, change_format{md_code, md_num});
    if (!delivered.empty()) m += "- Deliveries to the teams' routes: " + delivered + "\n";
}

// How to look again. Reruns are idempotent (the corrections ledger).
void reproduce(std::string& m, const report_view& v) {
    m += "\n**Reproduce** (reruns never apply a correction twice; add `--dry-run` to only look):\n\n";
    m += "```sh\nreconciler run --config FILE --since " + shell_word(v.window_start.empty() ? "START" : v.window_start) +
         " --until " + shell_word(v.window_end.empty() ? "END" : v.window_end) + "\n```\n";
}

}  // namespace
}  // namespace detail

std::string render_summary_md(const report_view& view) {
    std::string m;
    detail::heading(m, view);
    detail::fixed(m, view);
    detail::escalated(m, view);
    detail::reproduce(m, view);
    return m;
}

std::string render_summary_md(const json::object& report) {
    const report_view view(report);
    return render_summary_md(view);
}

}  // namespace reconciler
