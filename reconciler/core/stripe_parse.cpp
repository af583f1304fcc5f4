#include "core/stripe_parse.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <string>
#include <vector>

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

// The labels an expanded price (or legacy plan) object gives: its nickname
// and product. A price given as an id string gives none.
void price_labels(const json::object& o, std::string_view key, const std::string& what, std::string& nickname,
                  std::string& product) {
    const auto* v = find(o, key);
    if (!v || !v->is_object()) return;
    const std::string pwhat = what + " " + std::string(key);
    nickname = opt_string(v->get_object(), "nickname", pwhat);
    product = id_or_object(v->get_object(), "product", pwhat);
}

// An expandable field the object cannot be without (a dispute's charge).
std::string req_id_or_object(const json::object& o, std::string_view key, const std::string& what,
                             std::string_view expected) {
    std::string id = id_or_object(o, key, what);
    if (id.empty()) fail(what, key, expected);
    return id;
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

// The members of a listed object that anything reads: the models
// (parse_* below, whatever API version rendered them), the client's paging
// (id, created) and the envelope. Context-free: a name kept anywhere is kept
// everywhere, which keeps expanded objects' ids and a listed dispute's
// expanded charge. Line parents: basil's two detail types. A parse_*
// function that reads a new member needs it here too, or a listed object
// parses as if it lacked it (stripe_parse_test's
// list_pages_keep_what_the_models_read compares both on the fixtures;
// bench-parse-floor on a whole dataset).
constexpr std::string_view kept_members[]{
    "id", "url", "data", "type", "paid", "plan", "total", "lines", "price", "items", "email", "object", "status",
    "amount", "parent", "charge", "created", "pricing", "deleted", "invoice", "paid_at", "has_more", "customer",
    "currency", "livemode", "quantity", "refunded", "disputed", "proration", "amount_due", "api_version",
    "amount_paid", "subscription", "price_details", "customer_email", "billing_reason", "amount_refunded",
    "status_transitions", "current_period_end", "subscription_details", "invoice_item_details",
    "subscription_item_details", "payment", "payment_intent", "nickname", "product"};

bool is_kept_member(std::string_view key) {
    // Called for every key of a page (~80 per object): an open-addressed
    // table on (length, first and last character), where most dropped keys
    // find an empty slot or differ at the first compare.
    constexpr std::size_t slots = 256;
    const auto slot = [](std::string_view k) {
        return (k.size() * 31u + static_cast<unsigned char>(k.front()) * 7u + static_cast<unsigned char>(k.back())) %
               slots;
    };
    static const auto table = [&] {
        std::array<std::string_view, slots> t{};
        for (auto k : kept_members) {
            auto i = slot(k);
            while (!t[i].empty()) i = (i + 1) % slots;
            t[i] = k;
        }
        return t;
    }();
    if (key.empty()) return false;
    for (auto i = slot(key); !table[i].empty(); i = (i + 1) % slots)
        if (table[i] == key) return true;
    return false;
}

// Builds the DOM of a list page with only the kept members: the rest of each
// object (most of Stripe's ~2.5 KB per object) is tokenised and validated by
// the parser but never built. Same shape as Boost.JSON's own parser handler
// (a value_stack), plus a count of kept members per open container, since
// the parser's counts include the dropped ones.
class pruning_handler {
public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    explicit pruning_handler(json::storage_ptr sp) : sp_(std::move(sp)) {}

    json::value release() { return st_.release(); }

    bool on_document_begin(json::error_code&) {
        st_.reset(sp_);
        return true;
    }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return open(); }
    bool on_object_end(std::size_t, json::error_code&) {
        return close([&](std::size_t n) { st_.push_object(n); });
    }
    bool on_array_begin(json::error_code&) { return open(); }
    bool on_array_end(std::size_t, json::error_code&) {
        return close([&](std::size_t n) { st_.push_array(n); });
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ == 0) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ > 0) return true;
        std::string_view key(s.data(), s.size());
        if (!key_.empty()) key = key_.append(s.data(), s.size());
        if (is_kept_member(key)) st_.push_key(key);
        else drop_next_ = true;
        key_.clear();
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        if (skip_ == 0 && !drop_next_) st_.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        return scalar([&] { st_.push_string(s); });
    }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_int64(i); });
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_uint64(u); });
    }
    bool on_double(double d, json::string_view, json::error_code&) {
        return scalar([&] { st_.push_double(d); });
    }
    bool on_bool(bool b, json::error_code&) {
        return scalar([&] { st_.push_bool(b); });
    }
    bool on_null(json::error_code&) {
        return scalar([&] { st_.push_null(); });
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

private:
    bool open() {
        if (skip_ > 0 || drop_next_) {
            ++skip_;
            drop_next_ = false;
        } else {
            counts_.push_back(0);
        }
        return true;
    }
    // `push` builds the container from its kept members.
    template <typename Push>
    bool close(Push push) {
        if (skip_ > 0) return --skip_, true;
        push(counts_.back());
        counts_.pop_back();
        return kept();
    }
    bool kept() {
        if (!counts_.empty()) ++counts_.back();
        return true;
    }
    template <typename Push>
    bool scalar(Push push) {
        if (skip_ > 0) return true;
        if (drop_next_) return drop_next_ = false, true;
        push();
        return kept();
    }

    json::storage_ptr sp_;
    json::value_stack st_;
    std::vector<std::size_t> counts_;  // kept members of each open container
    std::size_t skip_ = 0;             // depth inside a dropped object or array
    bool drop_next_ = false;           // the value after a dropped key
    std::string key_;                  // a key that came in parts
};

}  // namespace detail

using namespace detail;

namespace {

// The caller adds which request the body answered; these name what failed.
json::parse_options checked_options(std::string_view body) {
    if (body.size() > max_body_bytes)
        throw parse_error("parse JSON body: refused, " + std::to_string(body.size()) + " bytes exceed the " +
                          std::to_string(max_body_bytes / (1024 * 1024)) + " MiB limit");
    json::parse_options opts;
    opts.max_depth = max_json_depth;
    return opts;
}

void throw_if_failed(const boost::system::error_code& ec) {
    if (ec == json::error::too_deep)
        throw parse_error("parse JSON body: refused, nested deeper than " + std::to_string(max_json_depth) +
                          " levels");
    if (ec) throw parse_error("parse JSON body: malformed JSON: " + ec.message());
}

// parse_json with the limits, keeping only the kept members (pruning_handler).
json::value parse_pruned(std::string_view body, json::storage_ptr storage) {
    json::basic_parser<pruning_handler> p(checked_options(body), std::move(storage));
    boost::system::error_code ec;
    const std::size_t used = p.write_some(false, body.data(), body.size(), ec);
    if (!ec && used != body.size()) ec = json::error::extra_data;
    throw_if_failed(ec);
    return p.handler().release();
}

}  // namespace

json::value parse_json(std::string_view body, json::storage_ptr storage) {
    const auto opts = checked_options(body);
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, std::move(storage), opts);
    throw_if_failed(ec);
    return v;
}

list_envelope parse_list_envelope(std::string_view body) {
    // A page is parsed, turned into models and dropped whole: one arena per
    // page instead of an allocation and a free per JSON node (the hot path
    // of a run spent a quarter of its CPU in malloc). The envelope's array
    // keeps the arena alive, and nothing outlives it (models own strings).
    // Only the members something reads are built (pruning_handler): the DOM
    // of every member was most of a page's parse (bench-parse-floor).
    json::value v = parse_pruned(body, json::make_shared_resource<json::monotonic_resource>());
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
            price_labels(io, "price", iwhat, item.price_nickname, item.product);
            if (item.price_id.empty()) {
                item.price_id = id_or_object(io, "plan", iwhat);
                price_labels(io, "plan", iwhat, item.price_nickname, item.product);
            }
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
    c.payment_intent = id_or_object(o, "payment_intent", what);
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
    d.charge = req_id_or_object(o, "charge", what, "charge id");
    d.payment_intent = id_or_object(o, "payment_intent", what);
    d.amount = opt_int(o, "amount", what).value_or(0);
    d.currency = opt_string(o, "currency", what);
    d.status = opt_string(o, "status", what);
    d.created = opt_int(o, "created", what).value_or(0);
    return d;
}

invoice_payment parse_invoice_payment(const json::object& o) {
    const std::string what = name_of("invoice_payment", o);
    invoice_payment p;
    p.id = req_string(o, "id", what);
    p.invoice = req_id_or_object(o, "invoice", what, "invoice id");
    p.status = opt_string(o, "status", what);
    p.amount_paid = opt_int(o, "amount_paid", what).value_or(0);
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
