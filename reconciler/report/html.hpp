// report.html: one self-contained page for people, rendered from a report
// view: no JavaScript, no external resources, prints cleanly. It renders any
// report.json, including an older run's, as far as it goes and never throws
// (short of std::bad_alloc).
#pragma once

#include "report/report_view.hpp"

#include <boost/json/object.hpp>

#include <iosfwd>
#include <string>

namespace reconciler {

// The page, to `out`: its long tables go out row by row, and its findings
// straight from view.findings, so the page is never whole in memory.
void render_html(std::ostream& out, const report_view& view);
// The page of a whole report.json.
std::string render_html(const boost::json::object& report);

}  // namespace reconciler
