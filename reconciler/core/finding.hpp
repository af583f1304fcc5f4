// A finding: one discrepancy between Stripe and the app, the team that acts on
// it, and the correction that repairs it when one can be computed safely.
// docs/findings.md specifies every kind.
#pragma once

#include "core/model.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace reconciler {

enum class finding_kind {
    credits_not_granted,
    paid_without_entitlement_change,
    tier_mismatch,
    amount_mismatch,
    currency_mismatch,
    orphan_local_payment,
    refund_or_dispute,
    unknown_customer,
    credits_not_decrementing,
    negative_or_stuck_balance,
    balance_drift,
    webhook_failed_twice,
    missed_webhook,
    webhook_signature_failures,
    missing_correlation_id,
    charge_without_invoice,
    unknown_price,
    billing_portal_misconfigured,
    invalid_stripe_object,
};
inline constexpr int finding_kind_count = 19;
enum class team { billing_engineering, backend_engineering, data_platform, devops, stripe_support };

const char* to_string(finding_kind k) noexcept;
const char* to_string(team t) noexcept;

enum class correction_kind { grant_credits, set_tier, revoke_credits };
const char* to_string(correction_kind k) noexcept;

struct proposed_correction {
    correction_kind kind = correction_kind::grant_credits;
    // The Stripe object the correction derives from: (ledger_key, kind) is
    // unique in the corrections ledger, so a correction applies at most once.
    std::string ledger_key;
    std::int64_t user_id = 0;
    std::int64_t credits = 0;                     // grant_credits, revoke_credits (positive)
    std::int64_t unrecovered = 0;                 // revoke_credits: refunded credits already spent
    std::string tier_from, tier_to;               // set_tier
    std::optional<local_payment> record_payment;  // grant_credits when the app has no payment row
    std::string source;                           // credit event source (Stripe id)
    std::string reason;                           // credit event reason / log action
};

struct finding {
    finding_kind kind = finding_kind::credits_not_granted;
    std::string subject_type;  // invoice | subscription | user | customer | event
    std::string subject_id;
    std::string customer_id;
    std::optional<std::int64_t> user_id;
    std::string user_email;
    team owner = team::backend_engineering;  // who acts when it is not (or cannot be) fixed
    std::string summary;                     // one human line
    unix_seconds at = 0;                     // when it happened (0: not tied to the window)
    boost::json::object evidence;            // Stripe and local ids, amounts, request ids, times
    std::optional<proposed_correction> correction;
};

}  // namespace reconciler
