#include "core/finding.hpp"

namespace reconciler {

const char* to_string(finding_kind k) noexcept {
    switch (k) {
    case finding_kind::credits_not_granted: return "credits_not_granted";
    case finding_kind::paid_without_entitlement_change: return "paid_without_entitlement_change";
    case finding_kind::tier_mismatch: return "tier_mismatch";
    case finding_kind::amount_mismatch: return "amount_mismatch";
    case finding_kind::currency_mismatch: return "currency_mismatch";
    case finding_kind::orphan_local_payment: return "orphan_local_payment";
    case finding_kind::refund_or_dispute: return "refund_or_dispute";
    case finding_kind::unknown_customer: return "unknown_customer";
    case finding_kind::credits_not_decrementing: return "credits_not_decrementing";
    case finding_kind::negative_or_stuck_balance: return "negative_or_stuck_balance";
    case finding_kind::balance_drift: return "balance_drift";
    case finding_kind::webhook_failed_twice: return "webhook_failed_twice";
    case finding_kind::missed_webhook: return "missed_webhook";
    case finding_kind::webhook_signature_failures: return "webhook_signature_failures";
    case finding_kind::missing_correlation_id: return "missing_correlation_id";
    case finding_kind::charge_without_invoice: return "charge_without_invoice";
    case finding_kind::unknown_price: return "unknown_price";
    case finding_kind::billing_portal_misconfigured: return "billing_portal_misconfigured";
    case finding_kind::invalid_stripe_object: return "invalid_stripe_object";
    }
    return "unknown";
}

const char* to_string(team t) noexcept {
    switch (t) {
    case team::billing_engineering: return "billing_engineering";
    case team::backend_engineering: return "backend_engineering";
    case team::data_platform: return "data_platform";
    case team::devops: return "devops";
    case team::stripe_support: return "stripe_support";
    }
    return "unknown";
}

const char* to_string(correction_kind k) noexcept {
    switch (k) {
    case correction_kind::grant_credits: return "grant_credits";
    case correction_kind::set_tier: return "set_tier";
    case correction_kind::revoke_credits: return "revoke_credits";
    }
    return "unknown";
}

}  // namespace reconciler
