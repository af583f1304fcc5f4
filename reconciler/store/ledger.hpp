// Port: every write to the app's users, each with its row in the ledger
// (recon_corrections): a run's corrections, their reverts, support's adjusts.
//
// Contract:
//  - apply() is atomic and idempotent: the correction, its ledger row, its
//    credit event and any payment row it records commit together or not at
//    all; a second apply() of the same (ledger_key, kind) changes nothing and
//    reports already_applied. State is re-read inside the transaction, so a
//    change the app made meanwhile (the webhook finally processed) is seen:
//    the correction is then skipped as superseded rather than applied twice.
//  - An escalation the correction raises (`escalate`: asked inside the
//    transaction once the change is known) commits with it: no correction
//    is ever left without the escalation that says why it was needed.
//  - Errors are store_error whose message names the action and the object.
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace reconciler::store {

// An escalation to write with a correction, and when it is escalated
// (escalations::raise's watch_until). With `only_existing`, nothing new is
// raised: an unresolved escalation of (input.kind, input.subject) is kept
// for a person to close (person_closes), since the correction that hid the
// symptom is no evidence that its cause is gone.
struct escalation_request {
    escalation_input input;
    int watch_until = 1;
    bool only_existing = false;
};
// Called inside apply()'s transaction, only when the correction is written,
// with its result so far; returns the escalation to write with it, if any.
using escalate_with = std::function<std::optional<escalation_request>(const apply_result&)>;

class ledger {
public:
    virtual ~ledger() = default;

    virtual apply_result apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                               const escalate_with& escalate = {}) = 0;
    // Undoes one applied correction (compensating credit event or the
    // previous plan) in one transaction. Throws store_error naming why not.
    virtual revert_result revert(std::int64_t correction_id, const std::string& correlation_id) = 0;
    // One manual change in one transaction, with its credit event and a
    // ledger row (kind support_adjust); throws adjust_refused for nonsense
    // that depends on the current state (a consume below zero without force).
    virtual adjust_result adjust(const adjustment& a, const std::string& correlation_id) = 0;
};

}  // namespace reconciler::store
