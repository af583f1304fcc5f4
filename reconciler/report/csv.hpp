// findings.csv: RFC 4180, one row per finding, safe to open in a spreadsheet
// (no cell a spreadsheet would evaluate as a formula).
#pragma once

#include "report/report_view.hpp"

#include <boost/json/object.hpp>

#include <iosfwd>
#include <string>

namespace reconciler {

// The findings of `findings` (view.findings), row by row to `out`.
void render_findings_csv(std::ostream& out, const finding_source& findings);
// The findings[] of a whole report.json.
std::string render_findings_csv(const boost::json::object& report);

}  // namespace reconciler
