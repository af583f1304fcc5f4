// The run's report directory, for data-platform review:
//   <output.dir>/run-<id>/report.json              versioned schema (docs/report-schema.md; report_json.hpp)
//   <output.dir>/run-<id>/report.html              for people (html.hpp)
//   <output.dir>/run-<id>/summary.md               for a support ticket (markdown.hpp)
//   <output.dir>/run-<id>/findings.csv             for a spreadsheet (csv.hpp)
//   <output.dir>/run-<id>/*.jsonl, request_ids.txt the run's spools (report_writer.hpp)
//   <output.dir>/latest -> run-<id>                (report_dir.hpp)
//   <output.dir>/index.html                        the runs, newest first (index_page.cpp)
//   output.metrics_file (<output.dir>/reconciler.prom) metrics (metrics.hpp)
// What a run and its caller use: include this one.
#pragma once

#include "report/metrics.hpp"
#include "report/rebuild.hpp"
#include "report/report_dir.hpp"
#include "report/report_json.hpp"
#include "report/report_writer.hpp"
#include "report/run_result.hpp"
#include "report/stdout_summary.hpp"

namespace reconciler {

// Writes report.json, report.html, findings.csv and summary.md, streaming
// the findings and the corrections from their spools and the open
// escalations from `db` (null: the report lists none, as for a dry or failed
// run): none of them is ever all in memory. Then points `latest` at the run
// (unless `point_latest` is false: a rebuilt report of an older run).
// With `runs` (the database, for any run), report.html gets the trend of the
// last runs and <output.dir>/index.html lists them (index_page.cpp).
void write_report(const run_result& r, store::store* db, store::support_queries* runs = nullptr,
                  bool point_latest = true);

}  // namespace reconciler
