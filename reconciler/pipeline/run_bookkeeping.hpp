// A run's own record kept right whatever ends it: rows of killed runs closed
// as abandoned, the run's row begun and finished (its counts from the
// ledger, see store/run_log.hpp), a report that could not be written, and
// "database is locked" explained.
#pragma once

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "report/run_result.hpp"
#include "store/store.hpp"

#include <exception>
#include <string>

namespace reconciler::pipeline {

// `e` as the run's error: "database is locked" past the busy timeout names
// the database and what to do; a lost connection (store::connection_lost)
// says what rolled back and that a rerun finishes the window; anything else
// is its message, redacted.
std::string explain_store_failure(const config& cfg, const std::exception& e);

// Under the run lock (no other run is alive on this database): closes the
// rows of runs that died mid-way (SIGKILL, OOM, power) as abandoned, with
// what they committed (result.abandoned_runs, a note naming them), then
// begins this run's row (result.run_id). A database held past the busy
// timeout throws store_error naming it and the fix, before anything of the
// run exists.
void begin_run_row(const config& cfg, const run_options& opts, store::store& db, run_result& result);

// The report could not be written (a full or read-only disk): the run fails
// (exit 1), its error saying what stays committed and how to rebuild it
// (`reconciler report RUN_ID`).
void report_failed(run_result& result, const std::exception& e);

// The run's row, last, with its final status; its findings and corrections
// are counted from the database. A row that cannot be written is logged, not
// thrown: the next run closes it as abandoned.
void record_run_end(const config& cfg, store::store& db, const run_result& result);

}  // namespace reconciler::pipeline
