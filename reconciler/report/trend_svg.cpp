// The trend across runs: findings per run stacked by kind, corrections
// applied beside them. Plain SVG shapes: no script, no font, no fetch.
#include "core/timeutil.hpp"
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace reconciler::detail {

namespace {

// Fixed colours (never from data) for the kinds with the most findings over
// the runs shown; the rest share "other kinds", so no two kinds look alike.
constexpr std::array<std::string_view, 9> palette{"#4f7cac", "#e0a030", "#5aa469", "#c8553d", "#8e6bb8",
                                                  "#3aa6b9", "#b5838d", "#d4a373", "#9acd32"};
constexpr std::string_view other_colour = "#afb8c1";
constexpr std::string_view corrections_colour = "#1f2328";

// The kinds drawn, most findings first; the last entry "" stands for the others.
std::vector<std::string> kinds_of(const std::vector<store::run_summary>& runs) {
    std::map<std::string, std::int64_t> total;
    for (const auto& r : runs)
        for (const auto& [kind, c] : r.by_kind) total[kind] += c.findings;
    std::vector<std::pair<std::string, std::int64_t>> order(total.begin(), total.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string> kinds;
    for (const auto& [kind, n] : order) {
        if (kinds.size() == palette.size() && order.size() > palette.size()) {
            kinds.emplace_back();
            break;
        }
        kinds.push_back(kind);
    }
    return kinds;
}

std::string_view colour(const std::vector<std::string>& kinds, std::size_t i) {
    return kinds[i].empty() ? other_colour : palette[i];
}

// Findings of a run in slot i of kinds_of (the "" slot: all the others).
std::int64_t findings_in(const store::run_summary& r, const std::vector<std::string>& kinds, std::size_t i) {
    if (!kinds[i].empty()) {
        const auto it = r.by_kind.find(kinds[i]);
        return it == r.by_kind.end() ? 0 : it->second.findings;
    }
    std::int64_t n = 0;
    for (const auto& [kind, c] : r.by_kind)
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) n += c.findings;
    return n;
}

std::string num(double d) { return std::to_string(static_cast<long long>(std::lround(d))); }

}  // namespace

std::string trend_svg(const std::vector<store::run_summary>& runs) {
    if (runs.empty()) return {};
    const std::vector<std::string> kinds = kinds_of(runs);
    std::int64_t max = 1;
    for (const auto& r : runs) max = std::max({max, r.findings, r.corrections_applied});
    constexpr double top = 10, plot_h = 160, left = 44, slot = 34, bar = 13;
    const double width = left + slot * static_cast<double>(runs.size()) + 10, height = top + plot_h + 34;
    const double scale = plot_h / static_cast<double>(max);
    std::string s = "<svg class=\"trend\" role=\"img\" aria-label=\"Findings and corrections per run\" viewBox=\"0 0 " +
                    num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\"" + num(height) +
                    "\">\n<title>Findings (stacked by kind) and corrections applied, per run</title>\n";
    // The axis: 0 and the maximum.
    s += "<line x1=\"" + num(left - 4) + "\" y1=\"" + num(top + plot_h) + "\" x2=\"" + num(width - 6) + "\" y2=\"" +
         num(top + plot_h) + "\" stroke=\"#8c959f\"></line>";
    s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(top + plot_h + 4) + "\" text-anchor=\"end\">0</text>";
    s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(top + 8) + "\" text-anchor=\"end\">" + std::to_string(max) +
         "</text>\n";
    double x = left;
    for (const auto& r : runs) {
        const std::string id = std::to_string(r.id);
        s += "<g data-trend-run=\"" + id + "\" data-findings=\"" + std::to_string(r.findings) +
             "\" data-corrections=\"" + std::to_string(r.corrections_applied) + "\"><title>run " + id + " (" +
             html_escape(r.status) + "): " + std::to_string(r.findings) + " findings, " +
             std::to_string(r.corrections_applied) + " corrections applied</title>";
        double y = top + plot_h;
        for (std::size_t k = 0; k < kinds.size(); ++k) {
            const std::int64_t n = findings_in(r, kinds, k);
            if (n <= 0) continue;
            const double h = scale * static_cast<double>(n);
            y -= h;
            s += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(bar) + "\" height=\"" +
                 num(std::max(1.0, h)) + "\" fill=\"" + std::string(colour(kinds, k)) + "\"></rect>";
        }
        const double ch = scale * static_cast<double>(r.corrections_applied);
        if (r.corrections_applied > 0)
            s += "<rect x=\"" + num(x + bar + 2) + "\" y=\"" + num(top + plot_h - ch) + "\" width=\"" + num(bar - 4) +
                 "\" height=\"" + num(std::max(1.0, ch)) + "\" fill=\"" + std::string(corrections_colour) + "\"></rect>";
        s += "<text x=\"" + num(x + bar) + "\" y=\"" + num(top + plot_h + 14) + "\" text-anchor=\"middle\">" + id +
             "</text>";
        if (r.status != "succeeded")
            s += "<text x=\"" + num(x + bar) + "\" y=\"" + num(top + plot_h + 26) +
                 "\" text-anchor=\"middle\" fill=\"#cf222e\">" + html_escape(r.status == "failed" ? "failed" : r.status) +
                 "</text>";
        s += "</g>\n";
        x += slot;
    }
    s += "</svg>\n<div class=\"legend\">";
    for (std::size_t k = 0; k < kinds.size(); ++k)
        s += "<span><span class=\"swatch\" style=\"background:" + std::string(colour(kinds, k)) + "\"></span>" +
             (kinds[k].empty() ? std::string("other kinds") : html_escape(kinds[k])) + "</span>";
    s += "<span><span class=\"swatch\" style=\"background:" + std::string(corrections_colour) +
         "\"></span>corrections applied</span></div>\n";
    return s;
}

std::string trend_table_html(const std::vector<store::run_summary>& runs) {
    std::string h = "<table>\n<thead><tr><th class=\"num\">Run</th><th>Status</th><th>Mode</th><th>Window start</th>"
                    "<th>Window end</th><th class=\"num\">Findings</th><th class=\"num\">Corrections</th>"
                    "<th>By kind</th></tr></thead>\n<tbody>\n";
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
        const auto& r = *it;
        h += "<tr><td class=\"num\">" + std::to_string(r.id) + "</td><td>" + badge_or_dash(r.status) + "</td><td>" +
             text_or_dash(r.mode) + "</td><td>" + html_escape(format_rfc3339(r.window_start)) + "</td><td>" +
             html_escape(format_rfc3339(r.window_end)) + "</td><td class=\"num\">" + std::to_string(r.findings) +
             "</td><td class=\"num\">" + std::to_string(r.corrections_applied) + "</td><td class=\"small\">";
        bool first = true;
        for (const auto& [kind, c] : r.by_kind) {
            h += (first ? "" : ", ") + html_escape(kind) + " " + std::to_string(c.findings);
            first = false;
        }
        h += first ? std::string(html_dash) : std::string();
        h += "</td></tr>\n";
    }
    return h + "</tbody></table>\n";
}

}  // namespace reconciler::detail
