// summary.md: a short summary of a run to paste into a support ticket
// (runbook §6): what was fixed, what was escalated to whom, how to rerun.
// Every datum is in a code span, so a ticket's Markdown shows it literally.
// It reads no findings, only the totals, the corrections and the escalations.
#pragma once

#include "report/report_view.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace reconciler {

std::string render_summary_md(const report_view& view);
// The summary of a whole report.json.
std::string render_summary_md(const boost::json::object& report);

}  // namespace reconciler
