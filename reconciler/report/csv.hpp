// findings.csv: RFC 4180, one row per finding, safe to open in a spreadsheet
// (no cell a spreadsheet would evaluate as a formula).
#pragma once

#include "report/report_view.hpp"

#include <boost/json/object.hpp>

#include <iosfwd>
#include <string>

namespace reconciler {

// The run a row belongs to, for a finding that does not say (a report
// written before findings carried run_id and the window).
struct csv_run {
    std::string run_id, window_start, window_end;
};

// The findings of `findings` (view.findings), row by row to `out`. Every row
// ends with run_id, window_start and window_end: the finding's own, else `run`'s.
void render_findings_csv(std::ostream& out, const finding_source& findings, const csv_run& run = {});
// The findings[] of a whole report.json.
std::string render_findings_csv(const boost::json::object& report);

}  // namespace reconciler
