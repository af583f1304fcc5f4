// Port: escalations (recon_escalations), keyed by (kind, subject), and their
// history (recon_escalation_history): every change of status, by a run or a
// person. docs/findings.md, "Lifecycle", says which kinds a run may resolve.
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <vector>

namespace reconciler::store {

// One escalation of a batch: what raise() takes.
struct raise_input {
    escalation_input input;
    int watch_until = 1;
};

class escalations {
public:
    virtual ~escalations() = default;

    // A new record, or the existing one with occurrences + 1 (once per run:
    // a second raise by the same run, run_id > 0, does not count again). A resolved one
    // is reopened; an acked one stays acked (a person has it in hand). With
    // `watch_until` > 1 the record stays "watching" until it has been seen
    // that many times ("escalate after 2 failed retries"). person_closes,
    // once set, stays set. Each change of status is kept in the history.
    virtual escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until = 1) = 0;
    // raise() for each of `batch`, in order (the same (kind, subject) twice
    // moves as two raises would), one result each, in one transaction: all
    // of them or none (PostgreSQL: a few statements for the batch instead of
    // a transaction of several for each; SQLite: one transaction). This
    // default, one raise() each, serves test doubles.
    virtual std::vector<escalation> raise_all(const std::vector<raise_input>& batch, std::int64_t run_id) {
        std::vector<escalation> out;
        out.reserve(batch.size());
        for (const auto& r : batch) out.push_back(raise(r.input, run_id, r.watch_until));
        return out;
    }
    // Resolves the unresolved escalations of `kinds` whose subject time lies
    // in [start, end), that a run may close (not person_closes) and that run
    // `run_id` has not raised: raise() records the run that last saw an
    // escalation, so "still present" is what this run raised, wherever in
    // the run. A subject time of 0 (not tied to a window) is never in a
    // range: those are resolved by resolve_rechecked or by a person.
    // Returns how many were resolved.
    virtual int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                               const std::vector<std::string>& kinds) = 0;
    // The same for subjects this run re-checked (a user the user rules
    // re-evaluated): those of `kinds` about one of `subjects` whose subject
    // time lies in [start, end) and that the run has not raised.
    virtual int resolve_rechecked(std::int64_t run_id, const std::vector<std::string>& kinds,
                                  const std::vector<std::string>& subjects, unix_seconds start, unix_seconds end) = 0;
    // The unresolved ones (open, watching, acked), oldest first.
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

    // People close the loop (`reconciler escalations`).
    virtual std::optional<escalation> find_escalation(std::int64_t id) = 0;
    // Those the filter selects, by id; evidence left empty.
    virtual std::vector<escalation> list_escalations(const escalation_filter& f) = 0;
    // The teams that have escalations (for "did you mean").
    virtual std::vector<std::string> escalation_teams() = 0;
    // An open or watching escalation acked by `by`; throws store_error naming
    // the escalation when there is none or it is acked or resolved already.
    virtual escalation ack_escalation(std::int64_t id, const std::string& by, const std::string& note) = 0;
    // Resolved by `by` (any unresolved one, person_closes or not); throws
    // store_error when there is none or it is resolved already.
    virtual escalation resolve_escalation(std::int64_t id, const std::string& by, const std::string& note) = 0;
    // Its changes, oldest first.
    virtual std::vector<escalation_change> escalation_history(std::int64_t id) = 0;
    // The same count by team (only teams with any): the metrics' by-team gauge.
    virtual std::map<std::string, std::int64_t> count_open_escalations_by_team() = 0;
    // Per team (only teams with any): what run `run_id` opened, reopened and
    // resolved (from the history), and what is unresolved now.
    virtual std::map<std::string, team_escalation_counts> count_escalations_by_team(std::int64_t run_id) = 0;
};

}  // namespace reconciler::store
