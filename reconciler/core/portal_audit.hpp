// The Billing Portal audit: the support runbook's fourth row ("billing portal
// error -> Stripe Billing Portal logs -> Stripe support"). Pure: what the run
// fetched once (the active portal configurations, the prices the default one
// offers) in, findings out.
//
// Findings (kind billing_portal_misconfigured, flag only; docs/findings.md):
//  - no active configuration is the default: subject "no_default_configuration",
//    Stripe support (what the portal showed customers is in Stripe's logs);
//  - the default configuration's subscription update offers archived prices:
//    subject "<bpc id>#archived_prices", Stripe support, with what to ask them;
//  - it offers prices the price map neither maps nor ignores: subject
//    "<bpc id>#unmapped_prices", billing engineering (they fix the config).
#pragma once

#include "core/diff.hpp"
#include "core/model.hpp"

#include <set>
#include <string>
#include <vector>

namespace reconciler {

struct portal_audit_input {
    std::vector<billing_portal_configuration> configurations;  // the active ones
    std::set<std::string> archived_prices;  // offered prices Stripe calls active: false (or no longer has)
    std::string request_id;                 // of the configurations list
    unix_seconds at = 0;                    // the findings' time: the window's end
};

std::vector<finding> audit_billing_portal(const portal_audit_input& in, const diff_policy& policy);

}  // namespace reconciler
