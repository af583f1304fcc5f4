// The parts of report.html (and reports/index.html) beyond html.cpp's
// sections, one file each: the action summary that opens the page
// (html_actions.cpp), the table script and its CSP hash
// (html_table_script.cpp), the trend chart (trend_svg.cpp) and the runs
// index (index_page.cpp). Data reaches the pages only through html_escape.
#pragma once

#include "report/dashboard_links.hpp"
#include "report/report_view.hpp"
#include "store/support_queries.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::detail {

// --- html_actions.cpp
// "What needs me?": new and still-open escalations per team (counts, oldest
// age, links to their rows), corrections applied, whether the run verified
// its whole window. Row anchors are escalation_row_anchor's.
void action_summary_html(std::string& h, const report_view& v);
// The id of an escalation's row in the escalations table: esc-<id> for a
// record, esc-row-<n> (its place in the listing) for a flagged finding.
std::string escalation_row_anchor(const escalation_row& e, std::size_t n);

// --- html_totals.cpp
// The totals, by disposition and by kind (with the chart); by team.
void totals_html(std::string& h, const totals_model& t);
void by_team_html(std::string& h, const totals_model& t);

// --- html_manifest.cpp
// The run manifest (every run field), collapsed in <details id="manifest">.
void manifest_html(std::string& h, const report_view& v);

// --- html_table_script.cpp
// The page's one script: sorting and filtering of every table with
// data-filters (columns named by their th's data-key), and a URL fragment
// `#<table id>?<column>=<value>&sort=<key>&dir=asc|desc&q=<text>` that opens
// the page filtered. Without script the tables are complete and in order.
std::string_view table_script();
// The CSP source that allows exactly that script: 'sha256-<base64>'.
const std::string& table_script_csp_source();
// CSS for the script's controls and the new sections.
std::string_view extra_style();

// --- trend_svg.cpp
// Findings per run stacked by kind, with the corrections applied beside
// each, oldest run left; inline SVG (no script). "" for no runs.
std::string trend_svg(const std::vector<store::run_summary>& runs);
// The chart's numbers as a table (inside <details>).
std::string trend_table_html(const std::vector<store::run_summary>& runs);

// --- index_page.cpp
// reports/index.html: the runs kept in the database, newest first, with
// status and totals, each linking to its run directory's report.html when it exists.
void render_runs_index(std::ostream& out, const std::vector<store::run_summary>& runs,
                       const std::vector<bool>& has_report);
// Writes <output_dir>/index.html (0640, atomically).
void write_runs_index(const std::filesystem::path& output_dir, const std::vector<store::run_summary>& runs);

}  // namespace reconciler::detail
