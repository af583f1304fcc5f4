// One reconciliation run: fetch the window from Stripe, normalise, diff
// against the app's database, apply the safe corrections, flag the rest,
// write the report.
//
// Contract:
//  - Nothing is applied in dry-run mode; the database gets only the run's own
//    bookkeeping rows (run, pages, findings).
//  - Each correction commits atomically with its ledger row (see store.hpp)
//    and is logged once, after commit, as an `entitlement_change` JSON line.
//  - A fetch failure fails the run before any correction is applied: the
//    diff never works from a partial window.
//  - The Stripe key is read from its configured source, registered for
//    redaction, and never written anywhere.
#pragma once

#include "config/config.hpp"
#include "core/diff.hpp"
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

struct finding_outcome {
    finding f;
    store::disposition disposition = store::disposition::flagged;
    std::int64_t correction_id = 0;
    std::string correlation_id;
    std::string note;  // why it was flagged / what apply() found
};

// A run's findings counted (the findings themselves are in the report
// directory's findings.jsonl: see report_writer).
struct finding_tally {
    std::int64_t total = 0;
    std::int64_t applied = 0;
    std::int64_t flagged = 0;  // flagged or failed
    std::map<std::string, std::int64_t> by_kind, by_team, by_disposition, flagged_by_team;
    std::map<std::string, std::map<std::string, std::int64_t>> by_kind_and_disposition;
    void add(const finding_outcome& o);
};

struct run_result {
    std::int64_t run_id = 0;
    bool succeeded = false;
    std::string error;
    unix_seconds window_start = 0;
    unix_seconds window_end = 0;
    unix_seconds started_at = 0;
    unix_seconds finished_at = 0;
    bool dry_run = false;
    std::string config_hash;
    std::string api_version;
    std::int64_t pages = 0;
    std::int64_t objects = 0;
    std::int64_t requests = 0;
    std::int64_t retries = 0;
    std::int64_t slices = 0;                   // chronological slices verified (config window.slice)
    std::int64_t subscriptions_from_list = 0;  // states taken from the subscription list (past event retention)
    std::int64_t portal_sessions = 0;  // billing_portal.session.created events in the window (the portal's traffic)
    std::map<std::string, std::int64_t> passed_over;  // Stripe objects no rule could act on, by reason (diff_memory)
    std::vector<finding_outcome> outcomes;  // the current part's, until report_writer::findings() takes them
    finding_tally tally;                    // every finding of the run
    std::filesystem::path report_dir;
    std::vector<std::string> notes;  // e.g. window beyond event retention
    std::optional<unix_seconds> checkpoint;  // after the run
    std::string cap_reached;         // the blast-radius cap that stopped corrections, if any
    std::int64_t escalations_raised = 0;  // by this run (each in the report's escalations.jsonl)
    std::int64_t open_escalations = 0;    // after this run, all runs (listed in report.json)
    std::int64_t new_escalations = 0;
    std::int64_t escalations_resolved = 0;

    std::int64_t applied() const;
    std::int64_t flagged() const;
};

// Runs once. Throws config_error / store::schema_error for setup problems
// (exit_usage); Stripe and network failures end as run_result::succeeded ==
// false with the report still written.
run_result run_once(const config& cfg, const run_options& opts);

// The same run as a coroutine on the caller's io_context (the daemon's), which
// must be the one it is co_spawned on. `stop` (may be null), once true, ends
// the run before its next slice: what was verified stays checkpointed, and the
// run reports as failed ("stopped by a signal") with the rest unverified.
boost::asio::awaitable<run_result> run_once_async(boost::asio::io_context& ioc, config cfg, run_options opts,
                                                  const std::atomic<bool>* stop);

}  // namespace reconciler
