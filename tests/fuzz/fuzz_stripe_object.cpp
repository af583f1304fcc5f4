// Fuzz target: one Stripe object's JSON text -> model, the path run.cpp takes
// for every list item and retrieved object (parse_json, then parse_event /
// parse_invoice / parse_subscription / parse_customer / parse_charge /
// parse_dispute / parse_invoice_payment on the object).
//
// Properties: only parse_error escapes; its message starts with the object
// type being parsed ("invoice in_1: field customer: expected string"); what
// parses has the fields the contract calls required.
#include "core/stripe_parse.hpp"
#include "fuzz_check.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

using namespace reconciler;
using reconciler::fuzz::check;

namespace {

template <class Parse, class Valid>
void try_parse(std::string_view type, const boost::json::object& o, Parse parse, Valid valid) {
    try {
        valid(parse(o));
    } catch (const parse_error& e) {
        const std::string_view msg = e.what();
        check(msg.starts_with(type), "a parse_error names the object type first", msg);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    boost::json::value v;
    try {
        v = parse_json(body);
    } catch (const parse_error& e) {
        check(std::string_view(e.what()).starts_with("parse JSON body: "), "parse_json names its action", e.what());
        return 0;
    }
    if (!v.is_object()) return 0;
    const auto& o = v.get_object();

    try_parse("invoice", o, parse_invoice, [](const invoice& inv) {
        check(!inv.customer.empty(), "an invoice has a customer");
    });
    try_parse("subscription", o, parse_subscription, [&o](const subscription& s) {
        check(!s.customer.empty(), "a subscription has a customer");
        // The normalised period end is the subscription's own or the items' latest.
        if (s.current_period_end)
            for (const auto& item : s.items)
                check(!item.current_period_end || *item.current_period_end <= *s.current_period_end ||
                          o.contains("current_period_end"),
                      "current_period_end is the latest item period end");
    });
    try_parse("customer", o, parse_customer, [](const customer&) {});
    try_parse("charge", o, parse_charge, [](const charge&) {});
    try_parse("dispute", o, parse_dispute, [](const dispute& d) { check(!d.charge.empty(), "a dispute has a charge"); });
    try_parse("invoice_payment", o, parse_invoice_payment,
              [](const invoice_payment& p) { check(!p.invoice.empty(), "an invoice payment names its invoice"); });
    try_parse("event", o, parse_event, [](const event& e) {
        const bool known = e.object_type == "invoice" || e.object_type == "subscription" ||
                           e.object_type == "customer" || e.object_type == "charge" || e.object_type == "dispute";
        check(known != std::holds_alternative<std::monostate>(e.object),
              "an event's object is normalised exactly when its type is known", e.object_type);
    });
    return 0;
}
