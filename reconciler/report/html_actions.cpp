// The top of report.html: what needs a person, before any detail.
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"
#include "report/json_read.hpp"
#include "report/wording.hpp"

#include <map>

namespace reconciler::detail {

namespace json = boost::json;

namespace {

struct team_needs {
    std::int64_t fresh = 0;       // new in this run
    std::int64_t still_open = 0;  // open from an earlier run
    std::int64_t watching = 0;
    std::optional<double> oldest_age;
    std::string oldest_anchor;  // the oldest open one's row
    std::string first_anchor;   // the team's first row
};

// An escalation first seen at or after the run started is new in this run
// (both RFC 3339 UTC text of one format: text order is time order).
bool is_new(const escalation_row& e, const std::string& started_at) {
    return !e.first_seen.empty() && !started_at.empty() && e.first_seen >= started_at;
}

std::map<std::string, team_needs> needs_by_team(const report_view& v) {
    std::map<std::string, team_needs> teams;
    const std::string started_at = str_at(v.run, "started_at");
    std::size_t n = 0;
    v.escalations([&](const escalation_row& e) {
        const std::string anchor = escalation_row_anchor(e, n++);
        const bool open = v.escalation_records ? e.status == "open" : (e.status == "flagged" || e.status == "failed");
        const bool watching = e.status == "watching";
        if (!open && !watching) return;
        team_needs& t = teams[e.team.empty() ? "(no team)" : e.team];
        if (t.first_anchor.empty()) t.first_anchor = anchor;
        if (watching) {
            ++t.watching;
            return;
        }
        // Without records every flagged finding is this run's; a report
        // without "new" (older runs) is read by first_seen.
        if (!v.escalation_records || e.is_new.value_or(is_new(e, started_at))) ++t.fresh;
        else ++t.still_open;
        if (t.oldest_anchor.empty() || (e.age_days && (!t.oldest_age || *e.age_days > *t.oldest_age))) {
            t.oldest_age = e.age_days;
            t.oldest_anchor = anchor;
        }
    });
    return teams;
}

std::string link(const std::string& anchor, const std::string& text_html) {
    return "<a href=\"#" + html_escape(anchor) + "\">" + text_html + "</a>";
}

// Whether the run verified [start, end): it succeeded and left no
// "unverified" note (the run writes one for the part it did not finish).
void verification(std::string& h, const report_view& v) {
    std::string unverified;
    if (const json::array* notes = array_at(v.run, "notes"))
        for (const auto& n : *notes)
            if (text_of(&n).rfind("unverified", 0) == 0) unverified = text_of(&n);
    const std::string window = text_or_dash(v.window_start) + " → " + text_or_dash(v.window_end);
    h += "<p data-action=\"window\">";
    if (v.status == "succeeded" && unverified.empty()) {
        h += badge("verified") + " The run verified its whole window, " + window + ".";
        if (v.mode == "dry_run") h += " <span class=\"muted\">(dry run: nothing checkpointed)</span>";
    } else {
        h += badge("not verified") + " The run did not verify its whole window (" + window + ")";
        h += unverified.empty() ? std::string(".") : ": " + html_escape(unverified);
        if (!v.error.empty()) h += " <span class=\"muted\">Error: " + html_escape(v.error) + "</span>";
    }
    h += "</p>\n";
}

void corrections_line(std::string& h, const report_view& v) {
    const std::int64_t applied = v.totals.applied;
    h += "<p data-action=\"corrections\">" + link("corrections", "<strong data-action-count=\"applied\">" +
                                                                   std::to_string(applied) + "</strong> correction" +
                                                                   (applied == 1 ? "" : "s") + " applied");
    h += v.mode == "dry_run" ? " (dry run: none applied)." : ".";
    const std::string cap = str_at(v.run, "blast_radius_cap");
    if (!cap.empty())
        h += " " + badge("failed") + " Corrections stopped at the cap <code>" + html_escape(cap) +
             "</code>: the rest were flagged.";
    h += " " + link("findings", std::to_string(v.totals.findings) + " findings in all") + ".</p>\n";
}

void teams_table(std::string& h, const report_view& v, const std::map<std::string, team_needs>& teams) {
    std::int64_t fresh = 0, open = 0;
    for (const auto& [team, t] : teams) {
        fresh += t.fresh;
        open += t.still_open;
    }
    const char* noun = v.escalation_records ? "escalations" : "findings flagged for a team";
    if (fresh + open == 0) {
        h += "<p data-action=\"escalations\">" + badge("all clear") + " No open " + noun + ": nothing needs a team.</p>\n";
        if (teams.empty()) return;
    } else {
        h += "<p data-action=\"escalations\"><strong data-action-count=\"new\">" + std::to_string(fresh) +
             "</strong> new and <strong data-action-count=\"still_open\">" + std::to_string(open) +
             "</strong> still-open " + noun + ", by team:</p>\n";
    }
    h += "<table class=\"narrow\" id=\"needs-table\">\n<thead><tr><th>Team</th><th class=\"num\">New</th>"
         "<th class=\"num\">Still open</th><th class=\"num\">Oldest open</th><th class=\"num\">Watching</th>"
         "</tr></thead>\n<tbody>\n";
    for (const auto& [team, t] : teams) {
        const std::string key = html_escape(team);
        h += "<tr><td>" + (t.first_anchor.empty() ? key : link(t.first_anchor, key)) + "</td>";
        h += "<td class=\"num\" data-team-new=\"" + key + "\">" + std::to_string(t.fresh) + "</td>";
        h += "<td class=\"num\" data-team-open=\"" + key + "\">" + std::to_string(t.still_open) + "</td><td class=\"num\">";
        // The database counts whole days: 0 is "less than a day".
        const std::string age = t.oldest_age && *t.oldest_age < 1e-9 ? "&lt; 1 d" : html_escape(format_age(t.oldest_age));
        if (!t.oldest_anchor.empty())
            h += link(t.oldest_anchor, age.empty() ? std::string("oldest") : age);
        else
            h += html_dash;
        h += "</td><td class=\"num\">" + std::to_string(t.watching) + "</td></tr>\n";
    }
    h += "</tbody></table>\n";
}

// Escalations delivered to the teams' pagers and channels (escalations.routes).
void deliveries_line(std::string& h, const report_view& v) {
    const change_format fmt{[](std::string_view s) { return "<code>" + html_escape(s) + "</code>"; },
                            [](std::string_view s) { return "<strong>" + html_escape(s) + "</strong>"; }};
    const std::string text = describe_deliveries(v.run, fmt);
    if (text.empty()) return;
    const json::object* d = object_at(v.run, "deliveries");
    const bool trouble = integral(field(d, "failed")).value_or(0) > 0 || integral(field(d, "pending")).value_or(0) > 0;
    h += "<p data-action=\"deliveries\">" + (trouble ? badge("failed") + " " : std::string()) +
         "Escalation deliveries to the teams' routes: " + text + ".";
    if (trouble) h += " <span class=\"muted\">Pending ones are retried by the next run; the log names each error.</span>";
    h += "</p>\n";
}

}  // namespace

std::string escalation_row_anchor(const escalation_row& e, std::size_t n) {
    if (!e.id.empty() && is_plain_number(e.id)) return "esc-" + e.id;
    return "esc-row-" + std::to_string(n);
}

void action_summary_html(std::string& h, const report_view& v) {
    h += "<section class=\"actions\" id=\"actions\">\n<h2>What needs you</h2>\n";
    teams_table(h, v, needs_by_team(v));
    deliveries_line(h, v);
    corrections_line(h, v);
    verification(h, v);
    h += "</section>\n";
}

}  // namespace reconciler::detail
