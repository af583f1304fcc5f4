// Escalate: the findings a person must act on become escalation records for
// the team the runbook names (store::escalations, one per subject, raised
// again by each run that still sees it), and those a run no longer sees in
// the part of the window it verified are resolved. Runs on the worker.
#pragma once

#include "report/report_writer.hpp"
#include "core/diff.hpp"
#include "store/escalations.hpp"

#include <cstddef>
#include <vector>

namespace reconciler::pipeline {

class escalator {
public:
    escalator(store::escalations& db, report_writer& report) : db_(db), report_(report) {}

    // One escalation for each flagged or failed outcome from `first_outcome`
    // on, each partial clawback, and each kind escalated even when repaired
    // (paid_without_entitlement_change); one for the run when a blast-radius
    // cap was first reached. Each goes to the report's escalations.jsonl.
    void raise_for(run_result& result, std::size_t first_outcome);

    // Resolves the open escalations of `kinds` about [start, end) that this
    // run has not raised in any of its parts (the store knows which run last
    // raised each one: nothing per escalation is kept in memory).
    void resolve_absent(run_result& result, unix_seconds start, unix_seconds end,
                        const std::vector<finding_kind>& kinds);

private:
    void raise(run_result& result, const std::string& team_name, const std::string& kind, const std::string& subject,
               const boost::json::object& evidence, unix_seconds at, int watch_until);

    store::escalations& db_;
    report_writer& report_;
    bool cap_escalated_ = false;
};

}  // namespace reconciler::pipeline
