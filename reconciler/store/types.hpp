// The values that cross the store's ports (see store.hpp): what a run
// records, what a correction did, what a window's app side holds, escalations.
#pragma once

#include "core/diff.hpp"
#include "core/model.hpp"
#include "core/timeutil.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace reconciler::store {

struct run_record {
    unix_seconds window_start = 0;
    unix_seconds window_end = 0;
    bool dry_run = false;
    std::string config_hash;
    std::string stripe_api_version;
};

struct run_totals {
    std::int64_t pages = 0;
    std::int64_t objects = 0;
    std::int64_t findings = 0;
    std::int64_t corrections_applied = 0;
};

struct escalation_input {
    std::string team;
    std::string kind;
    std::string subject;
    std::string evidence;   // JSON text
    unix_seconds subject_at = 0;
    // Only a person closes it (docs/findings.md, "Lifecycle"): no run ever
    // resolves it. Once set on an escalation it stays set.
    bool person_closes = false;
};

struct escalation {
    std::int64_t id = 0;
    std::string team, kind, subject, evidence;
    std::string first_seen, last_seen;
    std::int64_t occurrences = 0;
    std::string status;  // open | watching | acked | resolved
    unix_seconds subject_at = 0;
    bool is_new = false;  // raise(): first time open
    bool person_closes = false;
    std::string acked_by, acked_at, resolved_by, resolved_at;  // empty when not
};

// The stable key of an escalation (one per kind and subject), what a
// delivery keys on (a PagerDuty dedup_key): "kind:subject".
inline std::string escalation_key(const escalation& e) { return e.kind + ":" + e.subject; }

// One team's escalations as a run leaves them (the report's and metrics'
// by-team counts): opened or reopened by the run, unresolved (open or
// watching; acked), resolved by the run.
struct team_escalation_counts {
    std::int64_t opened = 0, open = 0, acked = 0, resolved = 0;
};

// One change of an escalation's status, by the reconciler or a person.
struct escalation_change {
    std::int64_t id = 0;
    std::string at;
    std::string actor;   // "reconciler" or the person's name
    std::string action;  // opened | watching | reopened | acked | resolved
    std::string from_status, to_status;  // from_status empty when it was created
    std::string note;
    std::int64_t run_id = 0;  // 0: not a run's change
};

// What `escalations list` selects; empty fields select all. status
// "unresolved" selects open, watching and acked.
struct escalation_filter {
    std::string team;
    std::string status;
};

// A run that never finished (killed, crashed), as the next run found it:
// what it committed, counted from the database (its ledger rows, findings
// and pages), not from what it meant to do.
struct abandoned_run {
    std::int64_t id = 0;
    std::string started_at;
    std::int64_t corrections = 0;
    std::int64_t findings = 0;
    std::int64_t pages = 0;
};

// One recon_runs row as it is stored.
struct run_row {
    std::int64_t id = 0;
    std::string started_at, finished_at;  // RFC 3339; finished_at "" while running
    unix_seconds window_start = 0, window_end = 0;
    std::string mode;    // apply | dry_run
    std::string status;  // running | succeeded | failed | abandoned
    std::string config_hash, stripe_api_version;
    std::int64_t pages = 0, objects = 0, findings = 0, corrections_applied = 0;
    std::string error;
};

// One recon_findings row of a run, with its ledger row's fields (when it has
// one) and its user's email (when the user still exists).
struct recorded_finding {
    std::string kind, subject_type, subject_id, team, disposition, evidence;  // evidence: JSON text
    std::optional<std::int64_t> user_id;
    std::string user_email;
    std::int64_t correction_id = 0;
    std::string correlation_id;
};

// One ledger row a run wrote, as report.json's corrections[] shows it.
struct recorded_correction {
    std::int64_t id = 0;
    std::string stripe_object, kind, correlation_id, status;  // status: applied | reverted
    std::string user_email, finding_kind, subject_id;         // "" when unknown
    std::int64_t credits_delta = 0;
    std::string tier_before, tier_after;
    bool payment_recorded = false;
};

enum class apply_outcome {
    applied,          // written now
    already_applied,  // the ledger already holds (ledger_key, kind): nothing written
    superseded,       // the app's state changed meanwhile and already matches: nothing written
    conflict,         // the app's state changed meanwhile to something else: nothing written, flag it
};
const char* to_string(apply_outcome o) noexcept;

struct apply_result {
    apply_outcome outcome = apply_outcome::applied;
    std::int64_t correction_id = 0;  // the ledger row (new or existing); 0 when none
    std::string correlation_id;      // of the ledger row (new or existing)
    std::string credit_event_id;     // grant_credits: the appended credit event
    std::int64_t balance_after = 0;  // grant/revoke: ai_credits after it
    std::int64_t credits_applied = 0;  // grant/revoke: credits moved (revoke may be less than proposed)
    bool payment_recorded = false;
    std::string detail;              // superseded/conflict: what was found
    // The escalation written in the same transaction (ledger::apply's `escalate`).
    std::optional<escalation> escalation_raised;
};

// The app's side of a window: users of these customers (then emails), users
// with usage or credit events in [start, end), users whose balance is negative
// or differs from their events; payments of those invoices and paid in the
// window; usage in the window; webhook deliveries received in the window or
// for these events.
//
// The keys are views: whoever builds a query keeps what they view alive
// until load_local returns (copies of ids the slice already holds would
// count a dense slice's ids twice).
struct local_query {
    std::vector<std::string_view> customer_ids;
    std::vector<std::string_view> emails;
    std::vector<std::string_view> invoice_ids;
    std::vector<std::string_view> event_ids;
    unix_seconds start = 0, end = 0;
    // Also what only the window rules read (diff_scope::window_rules): users
    // with activity in [start, end) or a broken balance, the usage of
    // [start, end) and the webhook deliveries received in it. A slice skips
    // them: they would be read once per slice for nothing.
    bool window_rules = true;
    // Payments with paid_at in [start, end) (the slice rules' orphan check).
    bool window_payments = true;
    // One page of the window rules' users instead (diff_scope::user_rules):
    // users with id > *active_users_after that have activity in [start, end)
    // or a broken balance, by id, at most active_users_limit of them, and
    // their usage in [start, end). Fewer than the limit: the last page.
    std::optional<std::int64_t> active_users_after;
    std::int64_t active_users_limit = 2000;
    // Deliveries received in [start, end) that the webhook-log rules can flag
    // (status signature_failed or failed), not the whole log.
    bool flaggable_deliveries = false;
    // The credit events the users come with: all of them (the user rules sum
    // and list them), or, when set, only those whose source is one of these.
    // The slice and tier rules look a grant or a revoke up by its invoice or
    // charge and read nothing else of the log, and a slice loads thousands
    // of users, each with its whole log.
    std::optional<std::unordered_set<std::string_view>> credit_event_sources;
};

// An escalation's age at `now` as a report shows it: whole days since its
// first_seen, rounded toward zero; 0 when first_seen is not an RFC 3339 time.
inline std::int64_t escalation_age_days(const std::string& first_seen, unix_seconds now) {
    try {
        return (now - parse_rfc3339(first_seen)) / 86400;
    } catch (const std::exception&) {
        return 0;
    }
}

struct revert_result {
    std::string correlation_id;  // of the revert
    std::string kind;
    std::int64_t credits_delta = 0;
    std::string tier_from, tier_to;
    std::int64_t user_id = 0;
};

struct adjustment {
    std::int64_t user_id = 0;
    std::int64_t grant = 0;    // > 0: grant this many credits
    std::int64_t consume = 0;  // > 0: consume this many credits
    std::string set_tier;      // non-empty: set the plan
    std::string reason;
    bool force = false;        // allow a consume below zero
};

struct adjust_result {
    std::string correlation_id;
    std::string credit_event_id;
    std::int64_t balance_before = 0, balance_after = 0;
    std::string tier_before, tier_after;
};

// replayed: the missed Stripe event was re-delivered to the app's webhook
// endpoint, which accepted it (corrections policy `replay`); the app's own
// handler made the change.
enum class disposition { applied, already_applied, superseded, flagged, failed, replayed };
const char* to_string(disposition d) noexcept;

// One page (or retrieved object) of a run's fetch, for recon_pages.
struct fetched_page {
    list_page_info page;
    unix_seconds fetched_at = 0;
};

}  // namespace reconciler::store
