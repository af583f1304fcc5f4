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
//  - Errors are store_error whose message names the action and the object.
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <string>

namespace reconciler::store {

class ledger {
public:
    virtual ~ledger() = default;

    virtual apply_result apply(const proposed_correction& c, std::int64_t run_id,
                               const std::string& correlation_id) = 0;
    // Undoes one applied correction (compensating credit event or the
    // previous plan) in one transaction. Throws store_error naming why not.
    virtual revert_result revert(std::int64_t correction_id, const std::string& correlation_id) = 0;
    // One manual change in one transaction, with its credit event and a
    // ledger row (kind support_adjust); throws adjust_refused for nonsense
    // that depends on the current state (a consume below zero without force).
    virtual adjust_result adjust(const adjustment& a, const std::string& correlation_id) = 0;
};

}  // namespace reconciler::store
