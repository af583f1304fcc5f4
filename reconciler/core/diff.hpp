// The diff: Stripe's truth for a window against the app's state. Pure: value
// types in, findings out; no network, no database, no clock.
//
// docs/findings.md is the specification: every kind's rule, subject,
// correction and team. A finding whose correction cannot be computed safely
// carries no correction and is flagged for its team.
//
// The contract is spread over small headers, all included here:
//   finding.hpp              finding, finding_kind, team, proposed_correction
//   diff_input.hpp           diff_policy, window_input, local_snapshot
//   subscription_folder.hpp  subscription states folded from events
//   diff_scope.hpp           the parts of a window, the kinds each decides
#pragma once

#include "core/diff_input.hpp"
#include "core/diff_scope.hpp"
#include "core/finding.hpp"
#include "core/model.hpp"
#include "core/subscription_folder.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reconciler {

// Credits an invoice entitles to under the price map (proration lines
// excluded), or why they cannot be trusted: a granting line's quantity is
// negative or over policy.max_line_quantity, a product or the sum overflows
// int64, or the total is over policy.max_credits_per_invoice. Checked
// arithmetic: a wrapped number is never returned as credits.
struct invoice_credits_result {
    std::int64_t credits = 0;  // 0 when !ok()
    std::string field;         // the field at fault ("lines.data[2].quantity"), when !ok()
    std::string problem;       // a human line; empty when the credits can be trusted
    bool ok() const noexcept { return problem.empty(); }
};
invoice_credits_result invoice_credits(const invoice& inv, const diff_policy& policy);

// The tier a subscription state implies, or nullopt when it implies none.
std::optional<std::string> target_tier(const subscription& sub, const diff_policy& policy);

// Event types the app's webhook handler processes (missed_webhook considers only these).
bool app_handles_event_type(std::string_view type);

// The whole window at once: every rule over one input.
std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy);

// What a window's earlier parts leave for the later ones, so a subject is
// reported once per window however many slices mention it. Its size is
// bounded by the window's customers and charges and by two parts'
// corrections, not by its events.
struct diff_memory {
    // unknown_customer decided: reported, or matched by email (a customer a
    // user matches by id is matched again wherever it reappears).
    std::set<std::string> customers_checked;
    std::set<std::string> charges_checked;    // refund_or_dispute considered
    // Subscription customers no user matched by id: an invoice of a later
    // slice may still match them by email. id -> (as_of, request id).
    std::map<std::string, std::pair<unix_seconds, std::string>> pending_customers;
    // Object id -> the kind of the finding whose correction repairs a missed
    // event's effect (the finding's subject is the object), in two
    // generations: this part's and the one before (forget_older_repairs).
    std::map<std::string, finding_kind> repaired_by, repaired_before;
    // Stripe objects a rule read and had no finding for, by reason (e.g. a
    // refunded charge whose customer has no app user): counted in the
    // report, so that nothing Stripe sent is passed over without a trace.
    std::map<std::string, std::int64_t> passed_over;
    // Prices the price map does not know (nor ignores), as the window's paid
    // invoices and live subscriptions use them: one unknown_price finding
    // each when the window ends (unknown_price_findings).
    struct price_use {
        std::string nickname, product;
        std::set<std::string> customers;
        std::int64_t invoices = 0, subscriptions = 0;
        std::vector<std::string> examples;  // the first few objects that use it
        unix_seconds first_seen = 0;
        std::string request_id;  // of the response that carried the first example
    };
    std::map<std::string, price_use> unknown_prices;
};

// Ends a part of the window for the repairs: an event lands in its object's
// part or, paid at the part's very end, the next one (the run's slice
// margin), so repairs older than the part before are dropped. Without this
// a window's every correction stayed in memory to its end. Call it between
// slices, not between the window part's chunks: its missed subscription
// events are checked after all its tier chunks.
void forget_older_repairs(diff_memory& memory);

// One part of a window (diff_scope.hpp): `memory` carries what the window's
// earlier parts leave for it.
std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                          diff_scope scope, diff_memory& memory);

// Subscription customers that no slice matched: unknown_customer findings.
std::vector<finding> pending_customers(diff_memory& memory);

// One unknown_price finding per price the window used that the price map
// neither knows nor ignores (billing engineering: "add it to prices: or mark
// it ignore"), with the customers, invoices and subscriptions that use it;
// call once, when the window ends. Their invoices grant nothing and their
// subscriptions imply no tier until the price is mapped.
std::vector<finding> unknown_price_findings(diff_memory& memory);

// True when the price map neither maps nor ignores `price_id`.
bool price_unknown(const diff_policy& policy, const std::string& price_id);

}  // namespace reconciler
