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

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reconciler {

class parse_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Limits applied to every body we parse: a hostile or broken peer must not be
// able to exhaust memory or the stack (json::value is destroyed and copied
// recursively). A list page of 100 expanded objects is well under 32 MiB.
// Depth: the deepest object in Stripe's OpenAPI fixtures (an invoice) nests
// 9 levels; inside an event inside a list page that is 13, and every
// expansion level (Stripe allows 4) adds at most one such object: ~50.
// Boost.JSON's default of 32 could refuse a legitimate expanded page; 64
// cannot, and still bounds the recursion.
inline constexpr std::size_t max_body_bytes = 32u * 1024u * 1024u;
inline constexpr std::size_t max_json_depth = 64;

// Parses JSON text with the limits above. Throws parse_error whose message
// starts "parse JSON body: " and says why (refused: too large / too deep, or
// malformed); the caller prefixes the request it came from. `storage`: where
// the value lives (default: the default resource).
boost::json::value parse_json(std::string_view body, boost::json::storage_ptr storage = {});

// {"object":"list","data":[...],"has_more":bool,"url":"..."}. Of each listed
// object only the members that the parse_* functions below and the client's
// paging read are built (id, created, customer, lines, ...; the list is in
// stripe_parse.cpp): `data` is for those, not for anything that needs the
// whole object (a replay retrieves its event). parse_*(data[i]) equals
// parse_* of the whole object, and the body is validated whole.
struct list_envelope {
    boost::json::array data;
    bool has_more = false;
    std::string url;
};
list_envelope parse_list_envelope(std::string_view body);

// {"error":{"type","code","message","param"}}: empty when the body is not an
// error envelope. Never throws.
struct stripe_error_body {
    std::string type;
    std::string code;
    std::string message;
    std::string param;
};
std::optional<stripe_error_body> parse_error_body(std::string_view body) noexcept;

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
