// The parts a window is diffed in, and which finding kinds each part decides.
#pragma once

#include "core/finding.hpp"

#include <vector>

namespace reconciler {

// A long window is diffed in parts so that memory is bounded by a slice, not
// by the window (and a run can checkpoint after each slice):
//  - window_rules, once and first: tiers from the newest subscription states,
//    the app's balances, usage and webhook log, and missed subscription events.
//    Its input carries the subscriptions and the subscription events.
//  - slice_rules, once per chronological slice: paid invoices, refunds and
//    disputes, customers, orphan payments, missed events of the slice.
//  - pending_customers(), once and last.
// Together they find what diff() finds over the same window.
//
// The window part may itself be split so that memory is bounded by a chunk,
// not by the window's customers (each subject is decided by exactly one part):
//  - tier_rules over chunks of subscription states, grouped by customer, with
//    the users of those customers (tiers, subscription customers unknown);
//  - user_rules over chunks of users, with their usage in the window
//    (balances, usage, correlation ids);
//  - webhook_rules once, with the deliveries the webhook-log rules can flag;
//  - missed_events over chunks of the window's subscription events, with
//    the app's deliveries of those events (the other scopes also check the
//    events they are given).
// window_rules = all of these over one input.
enum class diff_scope { window_rules, slice_rules, tier_rules, user_rules, webhook_rules, missed_events };

// The finding kinds a part decides: after the part (all its chunks), an open
// escalation of one of these kinds about the part's time range that the run
// has not raised again is resolved. Each kind is decided by one part, so no
// part resolves what a later part may still raise:
//  - window_rules: tier_mismatch, the balance and usage kinds, the webhook-log
//    kinds (the union of tier_rules, user_rules and webhook_rules);
//  - slice_rules: the invoice, payment, refund/dispute and customer kinds, and
//    missed_webhook. The window part also reports missed subscription events,
//    but the slices, which run after it and cover the window's whole time
//    range, decide missed_webhook for every event: were the window part to
//    decide it too, it would resolve the slices' missed invoice.paid events
//    before the slices raise them again. missed_events therefore decides
//    nothing itself. unknown_customer is decided by the slices too
//    (pending_customers() reports with the last slice).
//  - unknown_price, billing_portal_misconfigured and invalid_stripe_object
//    are decided by no part: their escalations are closed by a person
//    (mapping the price, fixing the portal, finding what sent a broken or
//    out-of-range object), never because a run did not see them again: a
//    checkpointed run does not fetch the object's time again, so not seeing
//    it says nothing.
const std::vector<finding_kind>& kinds_decided_by(diff_scope scope);

}  // namespace reconciler
