// Escalate: the findings a person must act on become escalation records for
// the team the runbook names (store::escalations, one per subject, raised
// again by each run that still sees it), and those a run re-checked and
// found clear are resolved, under the lifecycle rules of docs/findings.md
// ("Lifecycle"): some kinds only a person closes. Runs on the worker.
#pragma once

#include "report/report_writer.hpp"
#include "core/diff.hpp"
#include "store/escalations.hpp"
#include "store/ledger.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reconciler::pipeline {

// Who may close an escalation of a kind (docs/findings.md, "Lifecycle"):
//  - in_window: the run, when the part that decides the kind verified the
//    subject's time and did not see it again;
//  - rechecked_user: the run, when its user rules re-evaluated that user
//    over a window that covers where the problem was seen;
//  - person: only a person (`reconciler escalations resolve`).
enum class closer { in_window, rechecked_user, person };
closer closer_of(finding_kind k);

// The escalation of one finding as the store writes it: its evidence with
// the summary and `note`, its team, and whether only a person closes it
// (`person` or the kind's closer). A user-level finding (time 0) is tied to
// `window_start`: the start of the window it was seen in.
store::escalation_request escalation_request_for(const finding& f, const std::string& note, bool person,
                                                 unix_seconds window_start, int watch_until = 1);

// Escalations already written by the corrector (with their correction), by
// store::escalation_key.
using raised_escalations = std::map<std::string, store::escalation>;

class escalator {
public:
    escalator(store::escalations& db, report_writer& report) : db_(db), report_(report) {}

    // One escalation for each flagged or failed outcome from `first_outcome`
    // on, each partial clawback, and each kind escalated even when repaired
    // (paid_without_entitlement_change); one for the run when a blast-radius
    // cap was first reached; raised in a few transactions, not one each.
    // Each goes to the report's escalations.jsonl, in the outcomes' order.
    // Those in `with_corrections` are counted and reported, not raised again.
    void raise_for(run_result& result, std::size_t first_outcome, const raised_escalations& with_corrections = {});

    // Resolves the unresolved escalations of `kinds` (those a run closes by
    // time) about [start, end) that this run has not raised in any of its
    // parts (the store knows which run last raised each one: nothing per
    // escalation is kept in memory).
    void resolve_absent(run_result& result, unix_seconds start, unix_seconds end,
                        const std::vector<finding_kind>& kinds);

    // Resolves the user-level escalations about `emails` (users the user
    // rules just re-evaluated over the run's window) that the run did not raise.
    void resolve_rechecked_users(run_result& result, const std::vector<std::string>& emails);

private:
    std::vector<store::escalation> raise_in_chunks(const std::vector<store::raise_input>& batch,
                                                   std::int64_t run_id);
    void count_and_report(run_result& result, const store::escalation& e);

    store::escalations& db_;
    report_writer& report_;
    bool cap_escalated_ = false;
};

}  // namespace reconciler::pipeline
