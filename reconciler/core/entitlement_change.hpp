// The `entitlement_change` JSON log line: the one trail of every change to a
// user's plan or credits, whoever made it (a run's correction, `revert`,
// `adjust`), so the runbook's log search ("entitlement_change" + the
// correlation id) finds all of them in one shape.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace reconciler {

struct entitlement_change {
    // credits_granted, credits_revoked, credits_consumed, subscription_updated
    // (the app's own name for a tier change), tier_set, correction_reverted.
    std::string action;
    std::string correlation_id;
    std::int64_t user_id = 0;
    std::optional<std::string> email;
    boost::json::object change;  // {"ai_credits": {"delta", "after"}} or {"plan": {"from", "to"}}, ...
    std::optional<std::int64_t> correction_id;
    std::optional<boost::json::object> stripe;  // the Stripe ids and Request-Id behind it
    std::optional<std::string> finding;         // the finding kind a run corrected
    std::optional<std::int64_t> run_id;
    std::optional<std::string> reason;          // a person's stated reason (support)
    std::string actor;                          // stripe-reconciler | support
};

// The line's fields, in one order for every caller; absent optionals are omitted.
boost::json::object to_json(const entitlement_change& c);

// Writes the line (event "entitlement_change", level info) and returns its fields.
boost::json::object log_entitlement_change(const entitlement_change& c);

}  // namespace reconciler
