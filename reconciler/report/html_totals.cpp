// report.html's totals: findings, applied, flagged, by disposition, by kind
// (table and bar chart) and by team.
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"

#include <algorithm>
#include <optional>

namespace reconciler::detail {

void totals_html(std::string& h, const totals_model& t) {
    h += "<h2 id=\"totals\">Totals</h2>\n<div class=\"grid\">\n<table class=\"narrow totals\">\n<thead><tr><th>Total</th>"
         "<th class=\"num\">Count</th></tr></thead>\n<tbody>\n";
    h += "<tr><th>Findings</th><td class=\"num big\" data-total=\"findings\">" + std::to_string(t.findings) +
         "</td></tr>\n";
    h += "<tr><th>Applied</th><td class=\"num big\" data-total=\"applied\">" + std::to_string(t.applied) +
         "</td></tr>\n";
    h += "<tr><th>Flagged for a team</th><td class=\"num big\" data-total=\"flagged\">" + std::to_string(t.flagged) +
         "</td></tr>\n</tbody></table>\n";
    h += "<table class=\"narrow\">\n<thead><tr><th>Disposition</th><th class=\"num\">Findings</th></tr></thead>\n"
         "<tbody>\n";
    for (const auto& [d, n] : t.by_disposition)
        h += "<tr><td>" + badge(d) + "</td><td class=\"num\" data-disposition-total=\"" + html_escape(d) + "\">" +
             std::to_string(n) + "</td></tr>\n";
    if (t.by_disposition.empty()) h += "<tr><td colspan=\"2\" class=\"muted\">No findings.</td></tr>\n";
    h += "</tbody></table>\n</div>\n";

    h += "<h2 id=\"by-kind\">Findings by kind</h2>\n";
    if (t.by_kind.empty()) {
        h += "<p class=\"muted\">No findings.</p>\n";
        return;
    }
    h += "<div class=\"grid\">\n<table>\n<thead><tr><th>Kind</th><th class=\"num\">Findings</th></tr></thead>\n"
         "<tbody>\n";
    for (const auto& [kind, n] : t.by_kind)
        h += "<tr><td class=\"kind\"><code>" + html_escape(kind) + "</code></td><td class=\"num\" data-kind-total=\"" +
             html_escape(kind) + "\">" + std::to_string(n) + "</td></tr>\n";
    h += "</tbody></table>\n<div>" + kind_chart_svg(t.by_kind) + "</div>\n</div>\n";
}

void by_team_html(std::string& h, const totals_model& t) {
    h += "<h2 id=\"by-team\">Findings by team</h2>\n";
    // Every team of either breakdown gets a row; a team missing from one shows 0 there.
    std::vector<std::string> teams;
    for (const auto& r : t.by_team) teams.push_back(r.first);
    for (const auto& r : t.flagged_by_team)
        if (std::find(teams.begin(), teams.end(), r.first) == teams.end()) teams.push_back(r.first);
    if (teams.empty()) {
        h += "<p class=\"muted\">No findings.</p>\n";
        return;
    }
    h += "<table class=\"narrow\">\n<thead><tr><th>Team</th><th class=\"num\">Findings</th>"
         "<th class=\"num\">Flagged for the team</th></tr></thead>\n<tbody>\n";
    auto lookup = [](const breakdown& b, const std::string& k) -> std::optional<std::int64_t> {
        for (const auto& r : b)
            if (r.first == k) return r.second;
        return std::nullopt;
    };
    for (const auto& team : teams) {
        const auto all = lookup(t.by_team, team);
        const auto flagged = lookup(t.flagged_by_team, team);
        h += "<tr><td>" + html_escape(team) + "</td>";
        h += all ? "<td class=\"num\" data-team-total=\"" + html_escape(team) + "\">" + std::to_string(*all) + "</td>"
                 : std::string("<td class=\"num muted\">—</td>");
        h += flagged ? "<td class=\"num\" data-team-flagged=\"" + html_escape(team) + "\">" +
                           std::to_string(*flagged) + "</td>"
                     : std::string("<td class=\"num muted\">0</td>");
        h += "</tr>\n";
    }
    h += "</tbody></table>\n";
}

}  // namespace reconciler::detail
