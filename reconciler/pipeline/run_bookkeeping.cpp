#include "pipeline/run_bookkeeping.hpp"

#include "core/json_log.hpp"

#include <boost/json/array.hpp>

namespace reconciler::pipeline {

namespace json = boost::json;

std::string explain_store_failure(const config& cfg, const std::exception& e) {
    if (dynamic_cast<const store::connection_lost*>(&e)) {
        std::string what = log::redact(e.what());
        if (what.ends_with('.')) what.pop_back();  // libpq's sentence, continued
        return what + "; the transaction in flight was rolled back by the server, what committed before stays; "
                      "rerun: the window resumes from the last checkpoint and nothing is applied twice";
    }
    return store::is_busy(e) ? store::busy_message(cfg.database.path, cfg.database.busy_timeout)
                             : log::redact(e.what());
}

namespace {

// Under the run lock, so no other run is alive on this database: rows left
// 'running' by runs that died (SIGKILL, OOM, power) are closed as abandoned,
// with what they committed, and said in the report.
void close_abandoned_runs(store::store& db, run_result& result) {
    const auto abandoned = db.abandon_running_runs();
    result.abandoned_runs = static_cast<std::int64_t>(abandoned.size());
    if (abandoned.empty()) return;
    std::string list;
    json::array ids;
    for (std::size_t i = 0; i < abandoned.size(); ++i) {
        const auto& a = abandoned[i];
        ids.push_back(a.id);
        if (i == 20) list += ", and " + std::to_string(abandoned.size() - 20) + " more";
        if (i >= 20) continue;
        list += (i ? ", " : "") + std::string("run ") + std::to_string(a.id) + " (started " + a.started_at + ": " +
                std::to_string(a.corrections) + " corrections, " + std::to_string(a.findings) + " findings, " +
                std::to_string(a.pages) + " pages committed)";
    }
    result.notes.push_back("abandoned runs closed: " + list +
                           "; they ended without finishing (killed or crashed): what they committed stays, counted "
                           "from the ledger, and the window resumes from the last checkpoint");
    log::warn("runs_abandoned", {{"run_ids", std::move(ids)}, {"count", result.abandoned_runs}});
}

}  // namespace

// This run's row, after the abandoned ones are closed. The database held
// past the busy timeout fails the run here, before its report directory
// exists, with a message that says whose lock it may be.
void begin_run_row(const config& cfg, const run_options& opts, store::store& db, run_result& result) {
    try {
        close_abandoned_runs(db, result);
        result.run_id = db.begin_run(store::run_record{result.window_start, result.window_end, opts.dry_run,
                                                       cfg.content_hash, cfg.stripe.api_version});
    } catch (const std::exception& e) {
        if (!store::is_busy(e)) throw;
        throw store::store_error("begin the run: " +
                                 store::busy_message(cfg.database.path, cfg.database.busy_timeout));
    }
}

// The report could not be written (a full or read-only disk): the run
// fails, saying that what it committed stays committed and how to get the
// report back. Its row, written after, counts from the ledger either way.
void report_failed(run_result& result, const std::exception& e) {
    const std::string cause = log::redact(e.what());
    const std::string how = "what the run committed stays committed and its run row counts it from the ledger: "
                            "rebuild the report with `reconciler report " + std::to_string(result.run_id) +
                            " --config FILE` once the disk has room";
    log::error("report_failed", {{"run_id", result.run_id}, {"report", result.report_dir.string()}, {"error", cause}});
    if (result.succeeded || result.error.empty())
        result.error = "the report could not be written (" + cause + "); " + how;
    else if (result.error.find(cause) != std::string::npos)  // the run failed on the same write
        result.error += " (the report could not be written; " + how + ")";
    else
        result.error += "; and the report could not be written (" + cause + "); " + how;
    result.succeeded = false;
}

// The run's row, last: its status is the run's, report included. The row
// cannot be written (the database is held past the busy timeout): logged,
// and the next run marks it abandoned with what it committed.
void record_run_end(const config& cfg, store::store& db, const run_result& result) {
    try {
        db.finish_run(result.run_id, result.succeeded,
                      store::run_totals{result.pages, result.objects, result.tally.total, result.applied()},
                      result.error);
    } catch (const std::exception& e) {
        log::error("run_row_not_recorded", {{"run_id", result.run_id}, {"error", explain_store_failure(cfg, e)}});
    }
}

}  // namespace reconciler::pipeline
