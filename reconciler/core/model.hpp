// Value types shared by every stage of the pipeline.
//
// Stripe objects are normalised into these types by stripe_parse (pure
// functions), whatever API version they were rendered at; the local app
// state is loaded into them by the store. The diff sees only these types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace reconciler {

using unix_seconds = std::int64_t;

// ---------------------------------------------------------------- Stripe side

struct invoice_line {
    std::string id;
    std::string price_id;      // line.price.id (old) or line.pricing.price_details.price (basil)
    std::int64_t quantity = 1;
    std::int64_t amount = 0;   // minor units
    bool proration = false;
    std::string price_nickname{};  // line.price.nickname (old; basil's line does not carry it)
    std::string product{};         // line.price.product (old) or line.pricing.price_details.product (basil)

    bool operator==(const invoice_line&) const = default;
};

struct invoice {
    std::string id;
    std::string customer;
    std::string customer_email;
    std::string subscription;  // empty when not a subscription invoice
    std::string status;        // draft | open | paid | uncollectible | void
    std::string currency;
    std::string billing_reason;
    std::int64_t amount_paid = 0;
    std::int64_t amount_due = 0;
    std::int64_t total = 0;
    bool paid = false;         // normalised: old `paid == true` or status == "paid"
    unix_seconds created = 0;
    std::optional<unix_seconds> paid_at;  // status_transitions.paid_at
    std::vector<invoice_line> lines;
    bool lines_truncated = false;         // lines.has_more: embedded lines are incomplete
    bool livemode = false;

    bool operator==(const invoice&) const = default;
};

struct subscription_item {
    std::string id;
    std::string price_id;
    std::int64_t quantity = 1;
    std::optional<unix_seconds> current_period_end;  // basil: per item
    std::string price_nickname{};  // item.price.nickname
    std::string product{};         // item.price.product

    bool operator==(const subscription_item&) const = default;
};

struct subscription {
    std::string id;
    std::string customer;
    std::string status;  // active | trialing | past_due | canceled | unpaid | incomplete | incomplete_expired | paused
    unix_seconds created = 0;
    std::optional<unix_seconds> current_period_end;  // pre-basil: on the subscription
    std::vector<subscription_item> items;

    bool operator==(const subscription&) const = default;
};

struct customer {
    std::string id;
    std::string email;
    unix_seconds created = 0;
    bool deleted = false;

    bool operator==(const customer&) const = default;
};

struct charge {
    std::string id;
    std::string customer;
    std::string invoice;         // charge.invoice: removed by basil (an InvoicePayment links them)
    std::string payment_intent;  // empty for a charge outside any PaymentIntent
    std::int64_t amount = 0;
    std::int64_t amount_refunded = 0;
    std::string currency;
    bool refunded = false;
    bool disputed = false;
    unix_seconds created = 0;

    bool operator==(const charge&) const = default;
};

struct dispute {
    std::string id;
    std::string charge;
    std::string payment_intent;
    std::int64_t amount = 0;
    std::string currency;
    std::string status;
    unix_seconds created = 0;

    bool operator==(const dispute&) const = default;
};

// The link between an invoice and one payment of it (basil and later:
// GET /v1/invoice_payments).
struct invoice_payment {
    std::string id;
    std::string invoice;
    std::string payment_intent;  // payment.payment_intent when payment.type == "payment_intent"
    std::string status;          // open | paid | canceled
    std::int64_t amount_paid = 0;
    std::string currency;

    bool operator==(const invoice_payment&) const = default;
};

// A price as GET /v1/prices/{id} gives it.
struct price {
    std::string id;
    bool active = true;  // false: archived (no new purchases)
    std::string nickname;
    std::string product;

    bool operator==(const price&) const = default;
};

// A Billing Portal configuration: what the portal lets customers do. Only
// what the audit reads (core/portal_audit.hpp).
struct billing_portal_configuration {
    std::string id;
    bool active = false;
    bool is_default = false;
    bool subscription_update_enabled = false;   // features.subscription_update.enabled
    std::vector<std::string> offered_prices;    // features.subscription_update.products[].prices[]

    bool operator==(const billing_portal_configuration&) const = default;
};

// data.object of an event, normalised when its type is one we reconcile.
using event_object = std::variant<std::monostate, invoice, subscription, customer, charge, dispute>;

struct event {
    std::string id;
    std::string type;         // e.g. invoice.paid
    std::string api_version;  // the version data.object was rendered at
    unix_seconds created = 0;
    std::string object_type;  // data.object.object, e.g. "invoice"
    std::string object_id;    // data.object.id
    event_object object;

    bool operator==(const event&) const = default;
};

// One page of a Stripe list, with the Request-Id of the response that carried it.
struct list_page_info {
    std::string resource;  // "/v1/events"
    int page_no = 0;       // 1-based within its sub-window
    std::string request_id;
    std::size_t object_count = 0;
    bool has_more = false;
};

// ----------------------------------------------------------------- App side

// What one unit of a Stripe price entitles a user to (from the config's price map).
struct price_entitlement {
    std::string tier;          // empty: the price grants credits only (a credit pack)
    std::int64_t credits = 0;  // per unit of quantity
    bool ignore = false;       // known to the operator: grants nothing and is not reported as unknown
};

struct credit_event {
    std::string id;
    std::int64_t delta = 0;
    std::string kind;           // grant | consume | adjust | revoke
    std::string reason;
    std::string source;         // Stripe invoice/event id, or "support", ...
    std::string correlation_id; // empty when the app did not record one
    std::string at;             // RFC 3339 UTC
};

struct local_user {
    std::int64_t id = 0;
    std::string email;
    std::string plan;
    std::string stripe_customer_id;
    std::int64_t ai_credits = 0;
    std::vector<credit_event> credit_events;
};

// One row of the app's ai_usage ledger.
struct usage_row {
    std::int64_t user_id = 0;
    std::int64_t credits = 0;
    std::string request_id;
    unix_seconds created_at = 0;
};

// One row of the app's webhook_events: its record of a delivery.
struct webhook_delivery {
    std::string event_id;
    std::string type;
    unix_seconds received_at = 0;
    std::string status;  // processed | failed | signature_failed
    std::int64_t attempts = 0;
    std::string last_error;
};

struct local_payment {
    std::string invoice_id;
    std::string customer_id;
    std::optional<std::int64_t> user_id;
    std::int64_t amount = 0;
    std::string currency;
    std::string status;
    std::string paid_at;  // RFC 3339 UTC, empty when unknown
};

}  // namespace reconciler
