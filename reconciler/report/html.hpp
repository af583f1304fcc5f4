// report.html: one self-contained page for people, rendered from a report
// view: what needs a person first, then the trend, totals and listings; no
// external resources (links to the Stripe Dashboard only), one inline script
// allowed by its CSP hash (sorting, filtering; the page reads fine without
// it), prints cleanly. It renders any
// report.json, including an older run's, as far as it goes and never throws
// (short of std::bad_alloc).
#pragma once

#include "report/report_view.hpp"
#include "store/support_queries.hpp"

#include <boost/json/object.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace reconciler {

// The page, to `out`: its long tables go out row by row, and its findings
// straight from view.findings, so the page is never whole in memory.
// `history`: the last runs kept in the database, oldest first, for the
// trend (store::support_queries::run_trend); empty: no trend.
void render_html(std::ostream& out, const report_view& view, const std::vector<store::run_summary>& history = {});
// The page of a whole report.json.
std::string render_html(const boost::json::object& report, const std::vector<store::run_summary>& history = {});

}  // namespace reconciler
