// All database access of the reconciler, behind one interface: SQLite is the
// embedded default (sqlite_store.cpp); a PostgreSQL store for deployments
// whose app runs on PostgreSQL implements the same contract.
//
// Contract:
//  - apply() is atomic and idempotent: the correction, its ledger row, its
//    credit event and any payment row it records commit together or not at
//    all; a second apply() of the same (ledger_key, kind) changes nothing and
//    reports already_applied. State is re-read inside the transaction, so a
//    change the app made meanwhile (the webhook finally processed) is seen:
//    the correction is then skipped as superseded rather than applied twice.
//  - Errors are store_error whose message names the action and the object.
//  - check_schema() throws schema_error (with the fix) when the database is
//    not an app database, lacks the reconciler schema, or is at a different
//    schema version than this build.
#pragma once

#include "core/diff.hpp"
#include "core/model.hpp"
#include "core/timeutil.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace reconciler::store {

class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The database cannot be used as configured: missing, not SQLite, read-only,
// not the app's, or at another schema version. A setup problem (exit 2);
// thrown before anything is written.
class schema_error : public store_error {
public:
    using store_error::store_error;
};

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
};

// The app's side of a window: users of these customers (then emails), users
// with usage or credit events in [start, end), users whose balance is negative
// or differs from their events; payments of those invoices and paid in the
// window; usage in the window; webhook deliveries received in the window or
// for these events.
//
// The keys are views: whoever builds a query keeps what they view alive
// until load_local returns. (A dense slice's keys and sources were ~2 MB
// as copies of ids the slice already holds.)
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

struct escalation_input {
    std::string team;
    std::string kind;
    std::string subject;
    std::string evidence;   // JSON text
    unix_seconds subject_at = 0;
};

struct escalation {
    std::int64_t id = 0;
    std::string team, kind, subject, evidence;
    std::string first_seen, last_seen;
    std::int64_t occurrences = 0;
    std::string status;  // open | watching | resolved
    unix_seconds subject_at = 0;
    bool is_new = false;  // raise(): first time open
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

class adjust_refused : public store_error {
public:
    using store_error::store_error;
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

class store {
public:
    virtual ~store() = default;

    virtual int schema_version() = 0;        // 0 when the reconciler schema is absent
    virtual int latest_schema_version() const = 0;
    virtual int migrate() = 0;               // applies pending migrations; returns how many
    virtual void check_schema() = 0;

    virtual std::int64_t begin_run(const run_record& run) = 0;
    // The pages a run fetched since its last call, each with the time it
    // arrived, in one transaction. The run collects them on its network
    // thread and hands them over between slices: the connection is never
    // used from two threads at once.
    virtual void record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) = 0;
    virtual void finish_run(std::int64_t run_id, bool succeeded, const run_totals& totals,
                            const std::string& error) = 0;

    // How far `stream` has been verified: every second before it is reconciled.
    virtual std::optional<unix_seconds> checkpoint(const std::string& stream) = 0;
    // Records [chunk_start, chunk_end) as verified. The checkpoint only moves
    // forward and only over contiguous coverage: a rerun of an old window, or
    // a window that starts past the checkpoint (a gap), does not move it.
    virtual void advance_checkpoint(const std::string& stream, unix_seconds chunk_start, unix_seconds chunk_end,
                                    std::int64_t run_id) = 0;

    // The app's side of a window (see local_query).
    virtual local_snapshot load_local(const local_query& q) = 0;

    // Payments whose paid_at lies in [start, end): their invoice ids.
    virtual std::vector<std::string> payments_paid_between(unix_seconds start, unix_seconds end) = 0;
    // Scratch space for the newest state of every subscription of a window:
    // a database file beside the app's (<path>.reconciler-scratch, not
    // journaled), attached to this connection and removed with the returned
    // table. Only one at a time.
    virtual std::unique_ptr<subscription_state_table> subscription_scratch() = 0;
    // Of these Stripe event ids, those the app's webhook log has a row for.
    virtual std::vector<std::string> delivered_event_ids(const std::vector<std::string>& event_ids) = 0;

    virtual apply_result apply(const proposed_correction& c, std::int64_t run_id,
                               const std::string& correlation_id) = 0;

    virtual void record_finding(std::int64_t run_id, const finding& f, disposition d,
                                std::int64_t correction_id) = 0;

    // Escalations, keyed by (kind, subject). raise(): a new record, or the
    // existing one with occurrences + 1 (reopened if it was resolved). With
    // `watch_until` > 1 the record stays "watching" until it has been seen
    // that many times ("escalate after 2 failed retries").
    virtual escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until = 1) = 0;
    // Resolves the open/watching escalations of `kinds` whose subject time
    // lies in [start, end) (or is 0: not tied to a window) and that run
    // `run_id` has not raised: raise() records the run that last saw an
    // escalation, so "still present" is what this run raised, wherever in
    // the run. Returns how many were resolved.
    virtual int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                               const std::vector<std::string>& kinds) = 0;
    virtual std::vector<escalation> open_escalations() = 0;
    // The same, one at a time (a report streams them: there may be tens of thousands).
    virtual void each_open_escalation(const std::function<void(const escalation&)>& visit) = 0;
    // The same in the order a report lists them: open before watching, then
    // oldest first (escalation_age_days(first_seen, now) descending), then as
    // each_open_escalation visits them (first_seen, id). Their evidence is
    // left empty: a listing shows none, and the sort then holds short rows.
    virtual void each_open_escalation_by_age(unix_seconds now,
                                             const std::function<void(const escalation&)>& visit) = 0;
    virtual std::int64_t count_open_escalations() = 0;

    // Support commands (runbook §2-§3).
    virtual std::optional<local_user> find_user_by_email(const std::string& email) = 0;
    // Open escalations about this user: subject is the email or evidence names the customer/user.
    virtual std::vector<escalation> escalations_for(const local_user& u) = 0;
    // One manual change in one transaction, with its credit event and a
    // ledger row (kind support_adjust); throws adjust_refused for nonsense
    // that depends on the current state (a consume below zero without force).
    virtual adjust_result adjust(const adjustment& a, const std::string& correlation_id) = 0;

    // Undoes one applied correction (compensating credit event or the
    // previous plan) in one transaction. Throws store_error naming why not.
    virtual revert_result revert(std::int64_t correction_id, const std::string& correlation_id) = 0;
};

struct sqlite_options {
    std::filesystem::path path;
    std::chrono::milliseconds busy_timeout{10'000};
    bool create_if_missing = false;  // only `reconciler demo` / tests create databases
};

std::unique_ptr<store> open_sqlite_store(const sqlite_options& opts);

// Creates the app's tables in an empty database (demo and tests only).
void create_app_schema(const std::filesystem::path& db_path);

// Random identifiers: "ce_" + 24 hex for credit events, UUID v4 text for correlation ids.
std::string random_credit_event_id();
std::string random_correlation_id();

}  // namespace reconciler::store
