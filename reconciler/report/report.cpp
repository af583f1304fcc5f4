#include "report/report.hpp"

#include "core/json_log.hpp"
#include "report/csv.hpp"
#include "report/html.hpp"
#include "report/html_parts.hpp"
#include "report/markdown.hpp"
#include "report/report_items.hpp"
#include "report/report_view.hpp"

namespace reconciler {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// How many runs the trend and the index show.
constexpr int trend_runs = 30;

// The trend is an extra: a database that cannot give it costs the report
// its chart and index, not the report.
std::vector<store::run_summary> run_trend_or_none(store::support_queries* runs) {
    if (runs == nullptr) return {};
    try {
        return runs->run_trend(trend_runs);
    } catch (const std::exception& e) {
        log::warn("report_trend_unavailable", {{"error", e.what()}});
        return {};
    }
}

}  // namespace

void write_report(const run_result& r, store::store* db, store::support_queries* runs, bool point_latest) {
    if (r.report_dir.empty()) return;
    const json::object report = report_json(r);
    detail::write_file_with(r.report_dir / "report.json",
                            [&](std::ostream& out) { write_report_json(out, report, r, db); });
    // The pages read the findings and the corrections from their spools, one
    // file at a time, and the open escalations from the database in their
    // order (open first, oldest first) and without evidence (they show none).
    report_streams streams;
    streams.findings = detail::spooled_items(r.report_dir / findings_spool);
    streams.finding_count = static_cast<std::size_t>(r.tally.total);
    streams.corrections = detail::spooled_items(r.report_dir / corrections_spool);
    const std::set<std::int64_t> new_ids = detail::new_escalation_ids(r.report_dir);
    streams.escalations = [&](const item_visitor& visit) {
        if (db == nullptr) return;
        db->each_open_escalation_by_age(r.finished_at, [&](const store::escalation& e) {
            const json::object item = detail::escalation_item(e, r.finished_at, &new_ids);
            visit(&item);
        });
    };
    const report_view view(report, std::move(streams));
    const auto history = run_trend_or_none(runs);
    detail::write_file_with(r.report_dir / "report.html", [&](std::ostream& out) { render_html(out, view, history); });
    detail::write_file_with(r.report_dir / "findings.csv", [&](std::ostream& out) {
        render_findings_csv(out, view.findings, csv_run{view.run_id, view.window_start, view.window_end});
    });
    detail::write_file(r.report_dir / "summary.md", render_summary_md(view));
    if (point_latest) detail::point_latest_at(r.report_dir);
    if (!history.empty()) detail::write_runs_index(r.report_dir.parent_path(), history);
}

}  // namespace reconciler
