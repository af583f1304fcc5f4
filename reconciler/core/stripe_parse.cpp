#include "core/stripe_parse.hpp"

#include "core/stripe_fields.hpp"

#include <string>

namespace reconciler {

namespace json = boost::json;
using namespace stripe_fields;

// A member that a function here starts to read must also be kept in list
// pages (kept_members, stripe_json.cpp), or listed objects parse without it.

namespace {

invoice_line parse_line(const json::object& o, const std::string& parent) {
    invoice_line line;
    const std::string what = parent + " " + name_of("line", o);
    line.id = opt_string(o, "id", what);
    line.quantity = opt_int(o, "quantity", what).value_or(1);
    line.amount = opt_int(o, "amount", what).value_or(0);
    // Pre-basil: line.price.id (expanded price object, or an id).
    line.price_id = id_or_object(o, "price", what);
    price_labels(o, "price", what, line.price_nickname, line.product);
    // Basil: line.pricing.price_details.price when pricing.type == "price_details".
    if (const auto* pricing = opt_object(o, "pricing", what)) {
        if (opt_string(*pricing, "type", what) == "price_details") {
            if (const auto* details = opt_object(*pricing, "price_details", what)) {
                auto p = id_or_object(*details, "price", what + " pricing.price_details");
                if (!p.empty()) line.price_id = std::move(p);
                auto product = id_or_object(*details, "product", what + " pricing.price_details");
                if (!product.empty()) line.product = std::move(product);
            }
        }
    }
    line.proration = opt_bool(o, "proration", what);
    if (const auto* parent_obj = opt_object(o, "parent", what)) {
        // Basil moved proration into parent.{subscription_item,invoice_item}_details.
        const auto type = opt_string(*parent_obj, "type", what);
        if (!type.empty()) {
            if (const auto* details = opt_object(*parent_obj, type, what))
                line.proration = line.proration || opt_bool(*details, "proration", what);
        }
    }
    return line;
}

}  // namespace

invoice parse_invoice(const json::object& o) {
    const std::string what = name_of("invoice", o);
    invoice inv;
    inv.id = req_string(o, "id", what);
    inv.customer = id_or_object(o, "customer", what);
    if (inv.customer.empty()) fail(what, "customer", "customer id");
    inv.customer_email = opt_string(o, "customer_email", what);
    // Required, as `lines` below: without them a paid invoice would read as
    // unpaid, or as paid for nothing (issue 19: hidden, never flagged).
    inv.status = req_string(o, "status", what);
    inv.currency = opt_string(o, "currency", what);
    inv.billing_reason = opt_string(o, "billing_reason", what);
    inv.amount_paid = opt_int(o, "amount_paid", what).value_or(0);
    inv.amount_due = opt_int(o, "amount_due", what).value_or(0);
    inv.total = opt_int(o, "total", what).value_or(0);
    inv.created = req_time(o, "created", what);
    inv.livemode = opt_bool(o, "livemode", what);
    // Pre-basil `paid` boolean; basil removed it in favour of status.
    inv.paid = opt_bool(o, "paid", what) || inv.status == "paid";
    if (const auto* st = opt_object(o, "status_transitions", what))
        inv.paid_at = opt_time(*st, "paid_at", what + " status_transitions");
    // Pre-basil invoice.subscription; basil parent.subscription_details.subscription.
    inv.subscription = id_or_object(o, "subscription", what);
    if (const auto* parent = opt_object(o, "parent", what)) {
        if (opt_string(*parent, "type", what) == "subscription_details") {
            if (const auto* sd = opt_object(*parent, "subscription_details", what)) {
                auto s = id_or_object(*sd, "subscription", what + " parent.subscription_details");
                if (!s.empty()) inv.subscription = std::move(s);
            }
        }
    }
    const auto* lines = list_data(o, "lines", what, &inv.lines_truncated);
    if (!lines) fail(what, "lines", "list of lines");
    inv.lines.reserve(lines->size());
    for (const auto& l : *lines) {
        if (!l.is_object()) fail(what, "lines.data[]", "objects");
        inv.lines.push_back(parse_line(l.get_object(), what));
    }
    return inv;
}

subscription parse_subscription(const json::object& o) {
    const std::string what = name_of("subscription", o);
    subscription sub;
    sub.id = req_string(o, "id", what);
    sub.customer = id_or_object(o, "customer", what);
    if (sub.customer.empty()) fail(what, "customer", "customer id");
    sub.status = req_string(o, "status", what);
    sub.created = req_time(o, "created", what);
    sub.current_period_end = opt_time(o, "current_period_end", what);
    if (const auto* items = list_data(o, "items", what)) {
        for (const auto& i : *items) {
            if (!i.is_object()) fail(what, "items.data[]", "objects");
            const auto& io = i.get_object();
            const std::string iwhat = what + " " + name_of("item", io);
            subscription_item item;
            item.id = opt_string(io, "id", iwhat);
            item.price_id = id_or_object(io, "price", iwhat);
            price_labels(io, "price", iwhat, item.price_nickname, item.product);
            if (item.price_id.empty()) {
                item.price_id = id_or_object(io, "plan", iwhat);
                price_labels(io, "plan", iwhat, item.price_nickname, item.product);
            }
            item.quantity = opt_int(io, "quantity", iwhat).value_or(1);
            item.current_period_end = opt_time(io, "current_period_end", iwhat);
            sub.items.push_back(std::move(item));
        }
    }
    // Basil moved the period to the items: keep one normalised value.
    if (!sub.current_period_end) {
        for (const auto& item : sub.items)
            if (item.current_period_end &&
                (!sub.current_period_end || *item.current_period_end > *sub.current_period_end))
                sub.current_period_end = item.current_period_end;
    }
    return sub;
}

customer parse_customer(const json::object& o) {
    const std::string what = name_of("customer", o);
    customer c;
    c.id = req_string(o, "id", what);
    c.email = opt_string(o, "email", what);
    c.created = opt_time(o, "created", what).value_or(0);
    c.deleted = opt_bool(o, "deleted", what);
    return c;
}

charge parse_charge(const json::object& o) {
    const std::string what = name_of("charge", o);
    charge c;
    c.id = req_string(o, "id", what);
    c.customer = id_or_object(o, "customer", what);
    c.invoice = id_or_object(o, "invoice", what);
    c.payment_intent = id_or_object(o, "payment_intent", what);
    c.amount = opt_int(o, "amount", what).value_or(0);
    c.amount_refunded = opt_int(o, "amount_refunded", what).value_or(0);
    c.currency = opt_string(o, "currency", what);
    c.refunded = opt_bool(o, "refunded", what);
    c.disputed = opt_bool(o, "disputed", what);
    c.created = opt_time(o, "created", what).value_or(0);
    return c;
}

dispute parse_dispute(const json::object& o) {
    const std::string what = name_of("dispute", o);
    dispute d;
    d.id = req_string(o, "id", what);
    d.charge = req_id_or_object(o, "charge", what, "charge id");
    d.payment_intent = id_or_object(o, "payment_intent", what);
    d.amount = opt_int(o, "amount", what).value_or(0);
    d.currency = opt_string(o, "currency", what);
    d.status = opt_string(o, "status", what);
    d.created = opt_time(o, "created", what).value_or(0);
    return d;
}

invoice_payment parse_invoice_payment(const json::object& o) {
    const std::string what = name_of("invoice_payment", o);
    invoice_payment p;
    p.id = req_string(o, "id", what);
    p.invoice = req_id_or_object(o, "invoice", what, "invoice id");
    p.status = opt_string(o, "status", what);
    p.amount_paid = opt_int(o, "amount_paid", what).value_or(0);
    p.currency = opt_string(o, "currency", what);
    if (const auto* payment = opt_object(o, "payment", what))
        if (opt_string(*payment, "type", what + " payment") == "payment_intent")
            p.payment_intent = id_or_object(*payment, "payment_intent", what + " payment");
    return p;
}

price parse_price(const json::object& o) {
    const std::string what = name_of("price", o);
    price p;
    p.id = req_string(o, "id", what);
    p.active = !find(o, "active") || opt_bool(o, "active", what);  // absent: nothing says it is archived
    p.nickname = opt_string(o, "nickname", what);
    p.product = id_or_object(o, "product", what);
    return p;
}

billing_portal_configuration parse_billing_portal_configuration(const json::object& o) {
    const std::string what = name_of("billing_portal.configuration", o);
    billing_portal_configuration c;
    c.id = req_string(o, "id", what);
    c.active = opt_bool(o, "active", what);
    c.is_default = opt_bool(o, "is_default", what);
    const auto* features = opt_object(o, "features", what);
    const auto* update = features ? opt_object(*features, "subscription_update", what + " features") : nullptr;
    if (!update) return c;
    const std::string uwhat = what + " features.subscription_update";
    c.subscription_update_enabled = opt_bool(*update, "enabled", uwhat);
    const auto* products = find(*update, "products");
    if (!products) return c;
    if (!products->is_array()) fail(uwhat, "products", "array or null");
    for (const auto& pv : products->get_array()) {
        if (!pv.is_object()) fail(uwhat, "products[]", "objects");
        const auto* prices = find(pv.get_object(), "prices");
        if (!prices) continue;
        if (!prices->is_array()) fail(uwhat, "products[].prices", "array");
        for (const auto& id : prices->get_array()) {
            if (!id.is_string()) fail(uwhat, "products[].prices[]", "price id strings");
            c.offered_prices.emplace_back(id.get_string());
        }
    }
    return c;
}

bool charge_names_its_invoice(std::string_view api_version) {
    return api_version.substr(0, 10) < std::string_view("2025-03-31");
}

event parse_event(const json::object& o) {
    const std::string what = name_of("event", o);
    event e;
    e.id = req_string(o, "id", what);
    e.type = req_string(o, "type", what);
    e.api_version = opt_string(o, "api_version", what);
    e.created = req_time(o, "created", what);
    const auto* data = opt_object(o, "data", what);
    if (!data) fail(what, "data", "object");
    const auto* obj = opt_object(*data, "object", what);
    if (!obj) fail(what, "data.object", "object");
    e.object_type = opt_string(*obj, "object", what + " data.object");
    e.object_id = opt_string(*obj, "id", what + " data.object");
    try {
        if (e.object_type == "invoice") e.object = parse_invoice(*obj);
        else if (e.object_type == "subscription") e.object = parse_subscription(*obj);
        else if (e.object_type == "customer") e.object = parse_customer(*obj);
        else if (e.object_type == "charge") e.object = parse_charge(*obj);
        else if (e.object_type == "dispute") e.object = parse_dispute(*obj);
    } catch (const parse_error& err) {
        throw parse_error(what + " (api_version " + e.api_version + "): " + err.what(), "data.object." + err.field(),
                          err.expected());
    }
    return e;
}

}  // namespace reconciler

