// JSON -> model normalisation for Stripe objects. Pure functions: no I/O.
//
// Both API shapes are accepted, because events keep the version they were
// created with (see ../shared/stripe/README.md, "Shapes that changed"):
//   paid           invoice.paid == true        | invoice.status == "paid"
//   subscription   invoice.subscription        | invoice.parent.subscription_details.subscription
//   line price     line.price.id               | line.pricing.price_details.price
//   period end     subscription.current_period_end | items.data[].current_period_end
//   charge's invoice  charge.invoice           | none: an InvoicePayment links the charge's
//                                                payment_intent to its invoice (parse_invoice_payment)
//
// Contract: a parse_* function throws parse_error naming the object and the
// field ("invoice in_123: field customer: expected string") when a field we
// rely on is missing or has the wrong type; fields we do not use are ignored.
#pragma once

#include "core/model.hpp"
#include "core/stripe_json.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace reconciler {

invoice parse_invoice(const boost::json::object& o);
subscription parse_subscription(const boost::json::object& o);
customer parse_customer(const boost::json::object& o);
charge parse_charge(const boost::json::object& o);
dispute parse_dispute(const boost::json::object& o);
invoice_payment parse_invoice_payment(const boost::json::object& o);
price parse_price(const boost::json::object& o);
billing_portal_configuration parse_billing_portal_configuration(const boost::json::object& o);

// True when a charge rendered at `api_version` ("YYYY-MM-DD[.name]") still
// carries `invoice`: every version before 2025-03-31 (basil). From basil on,
// only the charge's PaymentIntent and an InvoicePayment tie it to an invoice.
bool charge_names_its_invoice(std::string_view api_version);
// data.object is normalised when it is an invoice, subscription, customer,
// charge or dispute; other object types are kept as std::monostate with their id/type.
event parse_event(const boost::json::object& o);

}  // namespace reconciler

