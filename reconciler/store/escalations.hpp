// Port: escalations (recon_escalations), keyed by (kind, subject).
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace reconciler::store {

class escalations {
public:
    virtual ~escalations() = default;

    // A new record, or the existing one with occurrences + 1 (reopened if it
    // was resolved). With `watch_until` > 1 the record stays "watching" until
    // it has been seen that many times ("escalate after 2 failed retries").
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
    // The same count by team (only teams with any): the metrics' by-team gauge.
    virtual std::map<std::string, std::int64_t> count_open_escalations_by_team() = 0;
};

}  // namespace reconciler::store
