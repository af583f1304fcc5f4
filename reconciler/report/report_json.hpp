// report.json: the run's report in its versioned schema (docs/report-schema.md),
// the one the other formats are rendered from.
#pragma once

#include "report/run_result.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <iosfwd>

namespace reconciler {

inline constexpr int report_schema_version = 1;

// report.json without its corrections[] (those are in corrections.jsonl),
// escalations[] (in the database) and findings[] (in findings.jsonl).
boost::json::object report_json(const run_result& r);

// report.json whole to `out`: `head` (report_json(r)) with corrections[] and
// findings[] spliced in from r.report_dir's spools and escalations[] from
// `db`'s open escalations (null: none), line by line: none of them is ever
// all in memory.
void write_report_json(std::ostream& out, const boost::json::object& head, const run_result& r, store::store* db);

}  // namespace reconciler
