// reports/index.html: every run kept in the database, newest first.
#include "core/timeutil.hpp"
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"
#include "report/report_dir.hpp"

#include <ostream>

namespace reconciler::detail {

namespace {

inline constexpr std::string_view index_style = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2328;
       margin: 2rem auto; max-width: 1280px; padding: 0 1.25rem; }
h1 { font-size: 1.45rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .55rem; border-bottom: 1px solid #e5e7eb; }
thead th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #6e7781; } .small { font-size: .85em; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; border: 1px solid; }
.good { color: #1a7f37; border-color: #1a7f37; background: #dafbe1; }
.warn { color: #9a6700; border-color: #bf8700; background: #fff8c5; }
.bad { color: #cf222e; border-color: #cf222e; background: #ffebe9; }
.neutral { color: #57606a; border-color: #8c959f; background: #f6f8fa; }
)css";

}  // namespace

void render_runs_index(std::ostream& out, const std::vector<store::run_summary>& runs,
                       const std::vector<bool>& has_report) {
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>Stripe reconciliation runs</title>\n<style>";
    h += index_style;
    h += extra_style();
    h += "</style>\n</head>\n<body>\n<h1>Stripe reconciliation runs</h1>\n<p class=\"muted\">The last " +
         std::to_string(runs.size()) + " runs kept in the database, newest first; rewritten by every run.</p>\n";
    if (!runs.empty()) h += "<h2>Trend</h2>\n" + trend_svg(runs);
    h += "<h2>Runs</h2>\n<table id=\"runs-table\">\n<thead><tr><th class=\"num\">Run</th><th>Status</th><th>Mode</th>"
         "<th>Window start</th><th>Window end</th><th>Started</th><th>Finished</th><th class=\"num\">Findings</th>"
         "<th class=\"num\">Corrections applied</th></tr></thead>\n<tbody>\n";
    for (std::size_t i = runs.size(); i-- > 0;) {
        const auto& r = runs[i];
        const std::string id = std::to_string(r.id);
        h += "<tr data-run=\"" + id + "\"><td class=\"num\">";
        h += i < has_report.size() && has_report[i]
                 ? "<a href=\"run-" + id + "/report.html\">" + id + "</a>"
                 : id + " <span class=\"muted small\">(no report)</span>";
        h += "</td><td>" + badge_or_dash(r.status) + "</td><td>" + text_or_dash(r.mode) + "</td><td>" +
             html_escape(format_rfc3339(r.window_start)) + "</td><td>" + html_escape(format_rfc3339(r.window_end)) +
             "</td><td>" + text_or_dash(r.started_at) + "</td><td>" + text_or_dash(r.finished_at) +
             "</td><td class=\"num\" data-run-findings=\"" + id + "\">" + std::to_string(r.findings) +
             "</td><td class=\"num\" data-run-corrections=\"" + id + "\">" + std::to_string(r.corrections_applied) +
             "</td></tr>\n";
    }
    if (runs.empty()) h += "<tr><td colspan=\"9\" class=\"muted\">No runs.</td></tr>\n";
    h += "</tbody></table>\n</body>\n</html>\n";
    out << h;
}

void write_runs_index(const std::filesystem::path& output_dir, const std::vector<store::run_summary>& runs) {
    std::vector<bool> has_report;
    for (const auto& r : runs) {
        std::error_code ec;
        has_report.push_back(std::filesystem::exists(output_dir / ("run-" + std::to_string(r.id)) / "report.html", ec));
    }
    write_file_with(output_dir / "index.html", [&](std::ostream& out) { render_runs_index(out, runs, has_report); });
}

}  // namespace reconciler::detail
