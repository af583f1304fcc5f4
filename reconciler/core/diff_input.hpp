// What the diff reads: the policy (price map and thresholds), Stripe's side of
// a window (or of one slice of it) and the app's side. Value types only.
#pragma once

#include "core/invalid_object.hpp"
#include "core/model.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reconciler {

struct diff_policy {
    std::map<std::string, price_entitlement> prices;
    std::string free_tier = "free";
    std::string past_due_tier = "keep";  // "keep": the price's tier
    bool clawback = true;                // refund_or_dispute: revoke unused credits
    unix_seconds webhook_grace = 3600;   // a delivery younger than this may still arrive
    std::int64_t signature_failure_threshold = 3;
    // Ceilings (config policy.max_line_quantity, policy.max_credits_per_invoice):
    // a paid invoice over either is flagged invalid_stripe_object, never granted.
    std::int64_t max_line_quantity = 10'000;
    std::int64_t max_credits_per_invoice = 1'000'000;
};

// A Stripe event of the window, as the webhook checks need it.
struct event_ref {
    std::string id;
    std::string type;
    unix_seconds created = 0;
    std::string object_id;
};

// A refund or a dispute of a charge, from charge.refunded / charge.dispute.created.
struct charge_case {
    std::string event_id;
    bool dispute = false;
    // The charge (retrieved for disputes). ch.invoice is its invoice as the
    // charge named it (before basil) or as its InvoicePayment links it (the
    // run fills it in); empty when nothing ties the charge to an invoice.
    charge ch;
    std::int64_t amount = 0;    // refunded or disputed amount
    unix_seconds created = 0;   // the event's time
    std::string unlinked{};        // why ch.invoice is empty (a human line); "" when linked
    std::string link_request_id{};  // Request-Id of the response that linked (or failed to link) the invoice
};

// The newest known state of one subscription in the window.
struct subscription_state {
    subscription sub;
    std::string event_id;     // the newest event that carried it
    unix_seconds as_of = 0;   // that event's created time
    bool retrieved = false;   // true when sub was fetched because events disagreed
    std::string request_id;   // of the response that carried the state ("" when unknown)
};

struct window_input {
    unix_seconds start = 0, end = 0;  // [start, end): the window, or one slice of it
    // The whole window's end when this input is one slice of it: events younger
    // than webhook_grace before it may still be delivered. 0: `end`.
    unix_seconds window_end = 0;
    std::vector<invoice> invoices;    // deduplicated by id
    std::vector<subscription_state> subscriptions;
    std::vector<event_ref> events;
    std::vector<charge_case> charge_cases;
    std::vector<customer> customers;  // created in the window or referenced by it
    // Invoices of app payments that the window did not bring, looked up one by
    // one: id -> Stripe status, or "" when Stripe answered 404.
    std::map<std::string, std::string> looked_up_invoices;
    std::map<std::string, std::string> request_ids;  // Stripe object id -> Request-Id it came with
    // Objects that parsed as JSON but broke the schema: each becomes an
    // invalid_stripe_object finding (in whichever scope is given them).
    std::vector<invalid_object> invalid_objects;
};

// The app's side: users of the window's customers plus users with activity
// in the window or a broken balance; their payments; the window's usage and
// webhook deliveries.
struct local_snapshot {
    std::vector<local_user> users;
    std::vector<local_payment> payments;
    std::vector<usage_row> usage;
    std::vector<webhook_delivery> webhooks;
};

}  // namespace reconciler
