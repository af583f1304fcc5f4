#include "core/diff_scope.hpp"

namespace reconciler {

const std::vector<finding_kind>& kinds_decided_by(diff_scope scope) {
    using k = finding_kind;
    static const std::vector<finding_kind> tiers{k::tier_mismatch};
    static const std::vector<finding_kind> users{k::credits_not_decrementing, k::negative_or_stuck_balance,
                                                 k::balance_drift, k::missing_correlation_id};
    static const std::vector<finding_kind> webhook_log{k::webhook_failed_twice, k::webhook_signature_failures};
    // The union of the three above, in the order the run has always resolved them.
    static const std::vector<finding_kind> window{
        k::tier_mismatch, k::credits_not_decrementing, k::negative_or_stuck_balance, k::balance_drift,
        k::webhook_failed_twice, k::webhook_signature_failures, k::missing_correlation_id,
    };
    static const std::vector<finding_kind> slice{
        k::credits_not_granted, k::paid_without_entitlement_change, k::amount_mismatch,
        k::currency_mismatch,   k::orphan_local_payment,            k::refund_or_dispute,
        k::unknown_customer,    k::missed_webhook,                  k::charge_without_invoice,
    };
    static const std::vector<finding_kind> none;
    switch (scope) {
    case diff_scope::window_rules: return window;
    case diff_scope::slice_rules: return slice;
    case diff_scope::tier_rules: return tiers;
    case diff_scope::user_rules: return users;
    case diff_scope::webhook_rules: return webhook_log;
    case diff_scope::missed_events: return none;  // missed_webhook: the slices decide it (diff_scope.hpp)
    }
    return none;
}

}  // namespace reconciler
