// The run's report directory, for data-platform review:
//   <output.dir>/run-<id>/report.json              versioned schema (docs/report-schema.md)
//   <output.dir>/run-<id>/request_ids.txt          every fetched page's Stripe Request-Id
//   <output.dir>/run-<id>/entitlement_changes.jsonl the entitlement_change lines of the run
//   <output.dir>/run-<id>/findings.jsonl           the findings, one report.json findings[] item per line
//   <output.dir>/run-<id>/corrections.jsonl        the applied corrections, one report.json corrections[] item per line
//   <output.dir>/run-<id>/escalations.jsonl        the escalations the run raised, one per line
//   <output.dir>/latest -> run-<id>
// Directories are created 0750, files 0640: reports hold customer emails.
#pragma once

#include "pipeline/run.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace reconciler {

inline constexpr int report_schema_version = 1;

// Creates output.dir (0750, with missing parents) if it does not exist and
// checks that this user can write there; throws config_error naming the
// directory and the fix. Called before a run writes anything.
void prepare_output_dir(const std::filesystem::path& dir);

// Creates <dir>/run-<id> (and <dir>); throws config_error naming the directory.
std::filesystem::path prepare_report_dir(const std::filesystem::path& dir, std::int64_t run_id, unix_seconds started);

// Appends entitlement_change lines as they happen, so a crash keeps them,
// and the run's findings as each part of the window is done.
class report_writer {
public:
    explicit report_writer(const std::filesystem::path& run_dir);
    void entitlement_change(const boost::json::object& line);
    // Moves r.outcomes to <run_dir>/findings.jsonl (one report.json findings[]
    // item per line), counting them in r.tally, and their applied corrections
    // to <run_dir>/corrections.jsonl (one corrections[] item per line): a run
    // holds one part's findings at a time, never all.
    void findings(run_result& r);
    // An escalation this run raised, to escalations.jsonl.
    void escalation(const store::escalation& e);
    // A fetched page's Request-Id, appended to request_ids.txt in fetch order:
    // a run's ids are never all in memory (one per page, ~15,000 for a
    // 1M-event window). Called on the fetching thread while the others may be
    // called on the worker: it touches no member they do.
    void request_id(const std::string& id);
    // Flushes request_ids.txt; throws naming the file when it cannot be written.
    void request_ids_done();

private:
    std::filesystem::path run_dir_;
    std::ofstream out_;
    std::ofstream findings_;
    std::ofstream corrections_;
    std::ofstream escalations_;
    std::ofstream request_ids_;
};

// report.json without its corrections[] (those are in corrections.jsonl),
// escalations[] (in the database) and findings[] (in findings.jsonl).
boost::json::object report_json(const run_result& r);
// Writes report.json, report.html, findings.csv and summary.md, streaming
// the findings and the corrections from their spools and the open
// escalations from `db` (null: the report lists none, as for a dry or failed
// run): none of them is ever all in memory.
void write_report(const run_result& r, store::store* db);

// Prometheus text format for node_exporter's textfile collector, written
// atomically to <output.dir>/reconciler.prom after every run.
std::string metrics_text(const run_result& r, std::optional<unix_seconds> last_success);
void write_metrics(const std::filesystem::path& output_dir, const run_result& r);

// The one-screen summary printed at the end of `reconciler run`.
std::string format_summary(const run_result& r);

}  // namespace reconciler
