// One reconciliation run: fetch the window from Stripe, normalise, diff
// against the app's database, apply the safe corrections, flag the rest,
// write the report.
//
// Contract:
//  - Nothing is applied in dry-run mode; the database gets only the run's own
//    bookkeeping rows (run, pages, findings).
//  - Each correction commits atomically with its ledger row (see store.hpp)
//    and is logged once, after commit, as an `entitlement_change` JSON line.
//  - The window is verified slice by slice (docs/ARCHITECTURE.md). A fetch
//    failure fails the run at the slice it hit: the slices before it stay
//    applied and checkpointed, nothing of that slice is applied (no slice is
//    diffed from a partial fetch), and the next run resumes from the
//    checkpoint.
//  - The Stripe key is read from its configured source, registered for
//    redaction, and never written anywhere. The run's first Stripe request
//    (one page of events, before the lock, the run row or the report) checks
//    it: a 401 or 403 there is a setup error (config_error, exit 2) naming the
//    key's source, never the key, and Stripe's permission; nothing is written.
//    A 403 later, for an optional resource (disputes, the portal), stays a note.
//  - Once the run lock is held, rows of earlier runs left 'running' (killed
//    mid-way) are marked 'abandoned' with what they committed, counted from
//    the database (run_result::abandoned_runs, a report note).
//  - The run row's findings and corrections_applied are counted from the
//    database (the ledger), not from memory. A report directory that cannot
//    be written (full disk) fails the run (exit 1) after its corrections
//    committed; `reconciler report RUN_ID` rebuilds the report.
//  - The database held by another writer past database.busy_timeout fails the
//    run with a message naming the database and what to do; when that happens
//    before the run row exists, no report directory is created.
#pragma once

#include "config/config.hpp"
#include "core/diff.hpp"
#include "report/run_result.hpp"
#include "store/store.hpp"

#include <boost/json/array.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reconciler {

// The documented exit codes (README "Exit codes").
enum exit_code : int {
    exit_success = 0,
    exit_run_failed = 1,
    exit_usage = 2,         // bad arguments, bad config, wrong database schema
    exit_locked = 3,        // another run holds the lock
    exit_new_escalations = 4,  // success, but new escalations were opened (opt-in)
};

struct run_options {
    std::optional<unix_seconds> since;
    std::optional<unix_seconds> until;
    bool dry_run = false;
};

// Runs once. Throws config_error / store::schema_error for setup problems
// (exit_usage: a key Stripe refuses included), store::store_error when the
// database is locked before the run began; Stripe and network failures end as
// run_result::succeeded == false with the report still written (when the
// disk allows).
run_result run_once(const config& cfg, const run_options& opts);

// The same run as a coroutine on the caller's io_context (the daemon's), which
// must be the one it is co_spawned on. `stop` (may be null), once true, ends
// the run before its next slice: what was verified stays checkpointed, and the
// run reports as failed ("stopped by a signal") with the rest unverified.
boost::asio::awaitable<run_result> run_once_async(boost::asio::io_context& ioc, config cfg, run_options opts,
                                                  const std::atomic<bool>* stop);

}  // namespace reconciler
