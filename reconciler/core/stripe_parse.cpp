#include "core/stripe_parse.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

namespace reconciler {

namespace json = boost::json;

namespace detail {

// `what` is "invoice in_123": every message names the object and the field.
[[noreturn]] void fail(const std::string& what, std::string_view field, std::string_view expected) {
    throw parse_error(what + ": field " + std::string(field) + ": expected " + std::string(expected));
}

const json::value* find(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

std::string req_string(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v || !v->is_string()) fail(what, key, "string");
    return std::string(v->get_string());
}

std::string opt_string(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return {};
    if (!v->is_string()) fail(what, key, "string or null");
    return std::string(v->get_string());
}

std::int64_t req_int(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) fail(what, key, "integer");
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    fail(what, key, "integer");
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key, const std::string& what) {
    if (!find(o, key)) return std::nullopt;
    return req_int(o, key, what);
}

bool opt_bool(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return false;
    if (!v->is_bool()) fail(what, key, "boolean");
    return v->get_bool();
}

const json::object* opt_object(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return nullptr;
    if (!v->is_object()) fail(what, key, "object or null");
    return &v->get_object();
}

// An expandable field: either an id string or the expanded object with an id.
std::string id_or_object(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_object()) return req_string(v->get_object(), "id", what + " " + std::string(key));
    fail(what, key, "id string, object or null");
}

// Data of an embedded list ({"object":"list","data":[...]}) or an empty array.
const json::array* list_data(const json::object& o, std::string_view key, const std::string& what,
                             bool* has_more = nullptr) {
    const auto* lst = opt_object(o, key, what);
    if (!lst) return nullptr;
    const auto* data = find(*lst, "data");
    if (!data || !data->is_array()) fail(what, std::string(key) + ".data", "array");
    if (has_more) *has_more = opt_bool(*lst, "has_more", what);
    return &data->get_array();
}

std::string name_of(std::string_view type, const json::object& o) {
    const auto* id = find(o, "id");
    std::string name(type);
    if (id && id->is_string()) {
        name += ' ';
        name += std::string(id->get_string());
    }
    return name;
}

invoice_line parse_line(const json::object& o, const std::string& parent) {
    invoice_line line;
    const std::string what = parent + " " + name_of("line", o);
    line.id = opt_string(o, "id", what);
    line.quantity = opt_int(o, "quantity", what).value_or(1);
    line.amount = opt_int(o, "amount", what).value_or(0);
    // Pre-basil: line.price.id (expanded price object, or an id).
    line.price_id = id_or_object(o, "price", what);
    // Basil: line.pricing.price_details.price when pricing.type == "price_details".
    if (const auto* pricing = opt_object(o, "pricing", what)) {
        if (opt_string(*pricing, "type", what) == "price_details") {
            if (const auto* details = opt_object(*pricing, "price_details", what)) {
                auto p = id_or_object(*details, "price", what + " pricing.price_details");
                if (!p.empty()) line.price_id = std::move(p);
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

}  // namespace detail

using namespace detail;

json::value parse_json(std::string_view body, json::storage_ptr storage) {
    // The caller adds which request the body answered; this names what failed.
    if (body.size() > max_body_bytes)
        throw parse_error("parse JSON body: refused, " + std::to_string(body.size()) + " bytes exceed the " +
                          std::to_string(max_body_bytes / (1024 * 1024)) + " MiB limit");
    json::parse_options opts;
    opts.max_depth = max_json_depth;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, std::move(storage), opts);
    if (ec == json::error::too_deep)
        throw parse_error("parse JSON body: refused, nested deeper than " + std::to_string(max_json_depth) +
                          " levels");
    if (ec) throw parse_error("parse JSON body: malformed JSON: " + ec.message());
    return v;
}

list_envelope parse_list_envelope(std::string_view body) {
    // A page is parsed, turned into models and dropped whole: one arena per
    // page instead of an allocation and a free per JSON node (the hot path
    // of a run spent a quarter of its CPU in malloc). The envelope's array
    // keeps the arena alive, and nothing outlives it (models own strings).
    json::value v = parse_json(body, json::make_shared_resource<json::monotonic_resource>());
    if (!v.is_object()) throw parse_error("list response: expected a JSON object");
    auto& o = v.get_object();
    const std::string what = "list response";
    if (opt_string(o, "object", what) != "list") fail(what, "object", "\"list\"");
    auto it = o.find("data");
    if (it == o.end() || !it->value().is_array()) fail(what, "data", "array");
    // Move-constructed, so that the array keeps the arena (assignment into a
    // default-constructed array would copy every node out of it).
    list_envelope env{std::move(it->value().get_array()), false, {}};
    const auto* hm = find(o, "has_more");
    if (!hm || !hm->is_bool()) fail(what, "has_more", "boolean");
    env.has_more = hm->get_bool();
    env.url = opt_string(o, "url", what);
    for (const auto& item : env.data)
        if (!item.is_object()) fail(what, "data[]", "objects");
    return env;
}

std::optional<stripe_error_body> parse_error_body(std::string_view body) noexcept {
    try {
        json::value v = parse_json(body);
        if (!v.is_object()) return std::nullopt;
        const auto* err = v.get_object().if_contains("error");
        if (!err || !err->is_object()) return std::nullopt;
        const auto& e = err->get_object();
        auto str = [&](std::string_view k) -> std::string {
            const auto* f = e.if_contains(k);
            return f && f->is_string() ? std::string(f->get_string()) : std::string{};
        };
        return stripe_error_body{str("type"), str("code"), str("message"), str("param")};
    } catch (...) {
        return std::nullopt;
    }
}

invoice parse_invoice(const json::object& o) {
    const std::string what = name_of("invoice", o);
    invoice inv;
    inv.id = req_string(o, "id", what);
    inv.customer = id_or_object(o, "customer", what);
    if (inv.customer.empty()) fail(what, "customer", "customer id");
    inv.customer_email = opt_string(o, "customer_email", what);
    inv.status = opt_string(o, "status", what);
    inv.currency = opt_string(o, "currency", what);
    inv.billing_reason = opt_string(o, "billing_reason", what);
    inv.amount_paid = opt_int(o, "amount_paid", what).value_or(0);
    inv.amount_due = opt_int(o, "amount_due", what).value_or(0);
    inv.total = opt_int(o, "total", what).value_or(0);
    inv.created = req_int(o, "created", what);
    inv.livemode = opt_bool(o, "livemode", what);
    // Pre-basil `paid` boolean; basil removed it in favour of status.
    inv.paid = opt_bool(o, "paid", what) || inv.status == "paid";
    if (const auto* st = opt_object(o, "status_transitions", what))
        inv.paid_at = opt_int(*st, "paid_at", what + " status_transitions");
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
    if (const auto* lines = list_data(o, "lines", what, &inv.lines_truncated)) {
        inv.lines.reserve(lines->size());
        for (const auto& l : *lines) {
            if (!l.is_object()) fail(what, "lines.data[]", "objects");
            inv.lines.push_back(parse_line(l.get_object(), what));
        }
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
    sub.created = req_int(o, "created", what);
    sub.current_period_end = opt_int(o, "current_period_end", what);
    if (const auto* items = list_data(o, "items", what)) {
        for (const auto& i : *items) {
            if (!i.is_object()) fail(what, "items.data[]", "objects");
            const auto& io = i.get_object();
            const std::string iwhat = what + " " + name_of("item", io);
            subscription_item item;
            item.id = opt_string(io, "id", iwhat);
            item.price_id = id_or_object(io, "price", iwhat);
            if (item.price_id.empty()) item.price_id = id_or_object(io, "plan", iwhat);
            item.quantity = opt_int(io, "quantity", iwhat).value_or(1);
            item.current_period_end = opt_int(io, "current_period_end", iwhat);
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
    c.created = opt_int(o, "created", what).value_or(0);
    c.deleted = opt_bool(o, "deleted", what);
    return c;
}

charge parse_charge(const json::object& o) {
    const std::string what = name_of("charge", o);
    charge c;
    c.id = req_string(o, "id", what);
    c.customer = id_or_object(o, "customer", what);
    c.invoice = id_or_object(o, "invoice", what);
    c.amount = opt_int(o, "amount", what).value_or(0);
    c.amount_refunded = opt_int(o, "amount_refunded", what).value_or(0);
    c.currency = opt_string(o, "currency", what);
    c.refunded = opt_bool(o, "refunded", what);
    c.disputed = opt_bool(o, "disputed", what);
    c.created = opt_int(o, "created", what).value_or(0);
    return c;
}

dispute parse_dispute(const json::object& o) {
    const std::string what = name_of("dispute", o);
    dispute d;
    d.id = req_string(o, "id", what);
    d.charge = id_or_object(o, "charge", what);
    if (d.charge.empty()) fail(what, "charge", "charge id");
    d.amount = opt_int(o, "amount", what).value_or(0);
    d.currency = opt_string(o, "currency", what);
    d.status = opt_string(o, "status", what);
    d.created = opt_int(o, "created", what).value_or(0);
    return d;
}

event parse_event(const json::object& o) {
    const std::string what = name_of("event", o);
    event e;
    e.id = req_string(o, "id", what);
    e.type = req_string(o, "type", what);
    e.api_version = opt_string(o, "api_version", what);
    e.created = req_int(o, "created", what);
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
        throw parse_error(what + " (api_version " + e.api_version + "): " + err.what());
    }
    return e;
}

}  // namespace reconciler
