// Correct: each finding of a part of the window is applied (its correction,
// ledger row, credit event and the escalation it raises in one store
// transaction, then one `entitlement_change` log line), replayed to the app's webhook handler
// (policy `replay`), or flagged with the reason, under the config's
// corrections policy and the blast-radius caps. Runs on the worker.
#pragma once

#include "config/config.hpp"
#include "report/run_result.hpp"
#include "core/diff.hpp"
#include "pipeline/blast_guard.hpp"
#include "pipeline/escalator.hpp"
#include "pipeline/replay.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::pipeline {

// Re-delivers one missed Stripe event to the app's webhook endpoint.
using replayer = std::function<replay_result(const std::string& event_id)>;

class corrector {
public:
    // `on_change` gets each applied correction's entitlement_change line
    // (the report's entitlement_changes.jsonl). Nothing is applied when
    // `dry_run`: every finding is flagged "dry run: not applied".
    corrector(const config& cfg, store::store& db, bool dry_run, std::function<void(const boost::json::object&)> on_change,
              replayer replay);

    // Decides, applies and records every finding (store::record_findings:
    // all of them after the corrections, in one transaction), appending one
    // outcome each to result.outcomes; sets result.cap_reached the first
    // time a run-wide cap stops a correction.
    //
    // An escalation a correction raises is written in the correction's own
    // transaction (store::ledger::apply): paid_without_entitlement_change
    // with the grant of its invoice, a clawback that could not take back
    // everything with the revoke. A correction never leaves an unresolved
    // escalation of its own finding for a run to close (only_existing).
    void apply(std::vector<finding> findings, run_result& result);

    // The escalations written with corrections since the last call (for
    // escalator::raise_for, which reports them without raising them again).
    raised_escalations take_raised() { return std::exchange(raised_, {}); }

private:
    bool policy_allows(const finding& f) const;
    bool wants_replay(const finding& f) const;
    void apply_one(finding& f, const finding* webhook_path, run_result& result, finding_outcome& o);
    void replay_fix(finding& f, finding_outcome& o);

    const config& cfg_;
    store::store& db_;
    bool dry_run_;
    std::function<void(const boost::json::object&)> on_change_;
    replayer replay_;
    blast_guard guard_;
    raised_escalations raised_;
};

}  // namespace reconciler::pipeline
