// What a run found and did, as the report reads it: the run's outcome
// (run_result), each finding's outcome, and the findings counted.
//
// Its own header so that the report (which renders a run_result) and the run
// (which fills one) depend on it, and not on each other.
#pragma once

#include "core/diff.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reconciler {

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
    // The same from stored names (store::to_string(disposition)): a report rebuilt from the database.
    void add(const std::string& kind, const std::string& team_name, const std::string& disposition);
};

struct delivery_counts {
    std::int64_t sent = 0, failed = 0, pending = 0;
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
    bool livemode = false;       // the key's mode (sk_live_/rk_live_): the Dashboard links' test or live path
    std::string stripe_account;  // stripe.account (Connect), "" for none: the links' /acct_…/ prefix
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
    // Runs this run found left 'running' (killed or crashed) and closed as
    // abandoned, each named in notes with what it committed (the metrics' count).
    std::int64_t abandoned_runs = 0;
    // Escalations by team as this run leaves them (report.json run.escalations).
    std::map<std::string, store::team_escalation_counts> escalations_by_team;
    // Deliveries (escalations.routes): sent and failed by this run, pending
    // in the outbox after it; by route too. Absent without routes.
    bool deliveries_configured = false;
    delivery_counts deliveries;
    std::map<std::string, delivery_counts> deliveries_by_route;
    std::vector<store::delivery_count> outbox_counts;  // the whole outbox after the run (metrics)

    std::int64_t applied() const;
    std::int64_t flagged() const;
};

}  // namespace reconciler
