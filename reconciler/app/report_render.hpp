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

// A report's array items one at a time (null for an item that is not an
// object): a run streams its findings.jsonl, corrections.jsonl and the
// database's open escalations through these so that they are never all in
// memory at once. A source may be called more than once (each call visits
// the items from the start).
using item_visitor = std::function<void(const boost::json::object*)>;
using item_source = std::function<void(const item_visitor&)>;
using finding_visitor = item_visitor;
using finding_source = item_source;

// Where the streaming renderers take the report's arrays from. A source that
// is set replaces the report's own array of that name (which is then not
// read); one that is not set leaves it to the report, as the pure renderers do.
struct report_streams {
    finding_source findings;        // findings[]; `finding_count` of them are announced
    std::size_t finding_count = 0;
    item_source corrections;        // corrections[], in the report's order (read twice: count, rows)
    // escalations[] in the order the pages list them: open, watching, others,
    // resolved; within each, oldest first (age_days descending, no age last),
    // then as given. The renderers do not sort a stream (read twice: counts and
    // age buckets, rows). store::store::each_open_escalation_by_age gives this order.
    item_source escalations;
};

// The same pages written to `out`, the arrays taken from `streams`; the run,
// the totals and any array without a stream still come from `report`.
// summary.md reads no findings.
void render_html(std::ostream& out, const boost::json::object& report, const report_streams& streams);
std::string render_summary_md(const boost::json::object& report, const report_streams& streams);
void render_findings_csv(std::ostream& out, const finding_source& findings);

}  // namespace reconciler
