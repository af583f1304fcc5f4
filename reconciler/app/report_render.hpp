// The human formats of a run's report, rendered from report.json
// (docs/report-schema.md):
//   report.html   one self-contained page for people: no JavaScript, no
//                 external resources, prints cleanly
//   findings.csv  RFC 4180, one row per finding, safe to open in a spreadsheet
//   summary.md    a short summary to paste into a support ticket (runbook §6)
//
// Pure functions, JSON in, text out: they do no I/O, so the writer decides where
// the files go and the tests need no files. They take the JSON rather than
// run_result so that any report.json, including an older run's, can be
// re-rendered. Every field may be missing or null and unknown fields are
// ignored: a malformed report renders as far as it goes and never throws
// (short of std::bad_alloc).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

namespace reconciler {

std::string render_html(const boost::json::object& report);
std::string render_findings_csv(const boost::json::object& report);
std::string render_summary_md(const boost::json::object& report);

// The findings of a report one at a time (null for an item that is not an
// object): a run streams its findings.jsonl through these so that its
// findings are never all in memory at once.
using finding_visitor = std::function<void(const boost::json::object*)>;
using finding_source = std::function<void(const finding_visitor&)>;

// The same pages written to `out`, the findings taken from `findings` (the
// report's own findings[] is not read; `finding_count` of them are announced).
// The totals, corrections and escalations still come from `report`.
void render_html(std::ostream& out, const boost::json::object& report, const finding_source& findings,
                 std::size_t finding_count);
void render_findings_csv(std::ostream& out, const finding_source& findings);

}  // namespace reconciler
