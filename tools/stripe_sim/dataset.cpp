#include "stripe_sim/dataset.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace reconciler::sim {
namespace detail {
namespace {

constexpr std::size_t max_columns = 3;
constexpr std::size_t max_types = 20;
constexpr std::int64_t default_limit = 10;
constexpr std::int64_t max_limit = 100;
// How many objects an includable list embeds ("the first handful"); the
// rest only through its own list (has_more, url).
constexpr std::size_t included_items = 10;

// Oldest first. The newest is the default: what a request without
// Stripe-Version gets and what <resource>.json holds.
constexpr std::array<std::string_view, 2> api_versions{"2024-06-20", "2025-03-31.basil"};
constexpr std::size_t n_versions = api_versions.size();
constexpr std::size_t default_version = n_versions - 1;
constexpr std::size_t basil = 1;  // index of "2025-03-31.basil"

// What distinguishes one resource from another: its names, the attribute
// filters its list accepts (each an interned "column" of the store), and how
// API versions treat it.
struct resource_spec {
    // The URL path after /v1/ ("invoices", "billing_portal/configurations");
    // the file stem is this with '/' as '_' (file_stem()).
    std::string_view name;
    // The object's type ("invoice", "billing_portal.configuration"): used in
    // "No such <singular>: '...'" and in the read permission's name.
    std::string_view singular;
    std::array<std::string_view, max_columns> columns;  // filter parameters; "" = unused
    // The one field expand[] may name (retrieve: "charge", list: "data.charge"),
    // replaced by the object of that id from the "<field>s" resource; "" = none.
    std::string_view expandable = "";
    // A list member rendered only when expanded (retrieve: "payments", list:
    // "data.payments"), from `includable_since` on: Stripe's includable
    // property, the first `included_items` objects of `includable_from`
    // whose first filter column names this object, newest first.
    std::string_view includable = "";
    std::string_view includable_from = "";
    std::size_t includable_since = 0;
    bool versioned = false;          // objects may hold one rendition per API version
    std::size_t since_version = 0;   // first version (index) that has the resource; older: 404
    bool created_filter = true;      // lists accept created / created[...]
};

constexpr std::array<resource_spec, 9> specs{{
    {.name = "events", .singular = "event", .columns = {"type", "", ""}},
    // Basil's invoice has its InvoicePayments as an includable `payments` list.
    {.name = "invoices",
     .singular = "invoice",
     .columns = {"status", "customer", "subscription"},
     .includable = "payments",
     .includable_from = "invoice_payments",
     .includable_since = basil,
     .versioned = true},
    {.name = "subscriptions", .singular = "subscription", .columns = {"status", "customer", ""}, .versioned = true},
    {.name = "customers", .singular = "customer", .columns = {"email", "", ""}},
    {.name = "charges", .singular = "charge", .columns = {"customer", "", ""}, .versioned = true},
    {.name = "disputes", .singular = "dispute", .columns = {"charge", "", ""}, .expandable = "charge"},
    // Basil's link between an invoice and its payments. "payment" is
    // "<payment.type>:<id>", filtered by payment[type] / payment[<type>].
    {.name = "invoice_payments",
     .singular = "invoice_payment",
     .columns = {"invoice", "status", "payment"},
     .since_version = basil,
     .created_filter = false},
    {.name = "prices", .singular = "price", .columns = {"active", "product", ""}},
    // Stripe's list of portal configurations takes no created filter.
    {.name = "billing_portal/configurations",
     .singular = "billing_portal.configuration",
     .columns = {"active", "is_default", ""},
     .created_filter = false},
}};

std::string file_stem(std::string_view resource) {
    std::string stem(resource);
    std::replace(stem.begin(), stem.end(), '/', '_');
    return stem;
}

const resource_spec* spec_named(std::string_view name) {
    for (const auto& s : specs)
        if (s.name == name) return &s;
    return nullptr;
}

// The resource a decoded path after "/v1/" names, and what follows its name:
// nullopt for a list, else the text after the '/' (the id, maybe malformed).
struct route {
    const resource_spec* spec = nullptr;
    std::optional<std::string_view> id;
};
std::optional<route> route_of(std::string_view rest) {
    for (const auto& s : specs) {
        if (!rest.starts_with(s.name)) continue;
        if (rest.size() == s.name.size()) return route{&s, std::nullopt};
        if (rest[s.name.size()] == '/') return route{&s, rest.substr(s.name.size() + 1)};
    }
    return std::nullopt;
}

std::optional<std::size_t> version_index(std::string_view v) {
    for (std::size_t i = 0; i < n_versions; ++i)
        if (api_versions[i] == v) return i;
    return std::nullopt;
}

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

// Distinct attribute values of one column. Index 0 is "absent", so a filter
// is a lookup in a per-request bitmap indexed by the entry's interned value.
class string_pool {
public:
    string_pool() { intern(""); }
    std::uint32_t intern(std::string_view s) {
        auto it = index_.find(s);
        if (it != index_.end()) return it->second;
        auto id = static_cast<std::uint32_t>(values_.size());
        values_.emplace_back(s);
        index_.emplace(std::string(s), id);
        return id;
    }
    std::optional<std::uint32_t> find(std::string_view s) const {
        auto it = index_.find(s);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }
    const std::vector<std::string>& values() const { return values_; }

private:
    std::vector<std::string> values_;
    string_map<std::uint32_t> index_;
};

struct entry {
    std::int64_t created = 0;
    std::uint64_t seq = 0;  // insertion order: the tie-break among same-second objects
    // Each API version's rendition, serialized in resource_store::arena;
    // versions served the same bytes share one span.
    std::array<std::uint64_t, n_versions> offset{};
    std::array<std::uint32_t, n_versions> length{};
    bool listed = true;     // false for deleted customers: retrievable, never listed
    std::array<std::uint32_t, max_columns> columns{};
};

}  // namespace

struct resource_store {
    const resource_spec* spec = nullptr;
    std::string arena;             // every object's JSON, back to back
    std::vector<entry> entries;    // visible, list order (created DESC, seq DESC)
    std::vector<entry> pending;    // added since the last finalize(), unordered
    // id -> index into entries; ids of pending objects map to
    // entries.size() + their pending position until finalize() renumbers them.
    string_map<std::uint32_t> by_id;
    std::array<string_pool, max_columns> pools;
    std::uint64_t next_seq = 0;
    const resource_store* expand_from = nullptr;  // where spec->expandable ids are looked up
    const resource_store* include_from = nullptr;  // where spec->includable objects are
    // Of each entry (by index), the include_from entries naming it: rows
    // included_rows[included_begin[i] .. included_begin[i + 1]), list order.
    std::vector<std::uint32_t> included_begin;
    std::vector<std::uint32_t> included_rows;

    std::string_view json(const entry& e, std::size_t version) const {
        return std::string_view(arena).substr(e.offset[version], e.length[version]);
    }
    std::optional<std::size_t> index_of(std::string_view id) const {
        auto it = by_id.find(id);
        if (it == by_id.end() || it->second >= entries.size()) return std::nullopt;
        return it->second;
    }
};

namespace {

// ------------------------------------------------------------------ errors

http_result error_result(unsigned status, std::string_view type, std::string_view code,
                         std::string_view message, std::string_view param) {
    boost::json::object err;
    err["type"] = type;
    err["code"] = code;
    err["message"] = message;
    err["param"] = param;
    boost::json::object root;
    root["error"] = std::move(err);
    return {status, boost::json::serialize(root)};
}

http_result invalid_request(std::string_view code, std::string_view message, std::string_view param) {
    return error_result(400, "invalid_request_error", code, message, param);
}

http_result unrecognized_url(std::string_view path) {
    return error_result(404, "invalid_request_error", "",
                        "Unrecognized request URL (GET: " + std::string(path) +
                            "). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                        "");
}

// Thrown while decoding a request; turned into a 400 at the top of handle_get.
struct request_error {
    http_result result;
};

// ------------------------------------------------------------ URL decoding

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Form decoding ('+' is a space), as Stripe's form-encoded parameters are.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

struct query_param {
    std::string key;   // decoded, e.g. "created[gte]"
    std::string base;  // "created"
    std::optional<std::string> sub;  // "gte"; nullopt without brackets
    std::string value;
};

std::vector<query_param> parse_query(std::string_view query) {
    std::vector<query_param> params;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value)
            throw request_error{invalid_request("parameter_invalid_string",
                                                "Invalid percent-encoding in query parameter: " + std::string(pair),
                                                "")};
        query_param p;
        p.key = *key;
        p.value = std::move(*value);
        auto open = p.key.find('[');
        if (open != std::string::npos && p.key.back() == ']' && p.key.find('[', open + 1) == std::string::npos) {
            p.base = p.key.substr(0, open);
            p.sub = p.key.substr(open + 1, p.key.size() - open - 2);
        } else {
            p.base = p.key;
        }
        params.push_back(std::move(p));
    }
    return params;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::int64_t require_int(const query_param& p) {
    auto v = parse_int(p.value);
    if (!v)
        throw request_error{invalid_request("parameter_invalid_integer",
                                            "Invalid integer: " + p.value, p.key)};
    return *v;
}

[[noreturn]] void unknown_parameter(const query_param& p) {
    throw request_error{invalid_request("parameter_unknown", "Received unknown parameter: " + p.key, p.key)};
}

// The value of expand[] / expand[N], which must be one of `allowed` (empty
// entries allow nothing): other values are a 400 as in Stripe; nullopt for
// any other parameter.
std::optional<std::string_view> expand_param(const query_param& p, std::initializer_list<std::string_view> allowed) {
    if (p.base != "expand" || !p.sub) return std::nullopt;
    if (!p.sub->empty() && !parse_int(*p.sub)) unknown_parameter(p);
    for (auto a : allowed)
        if (!a.empty() && p.value == a) return a;
    throw request_error{invalid_request("", "This property cannot be expanded (" + p.value + ").", "expand")};
}

// The expand[] values a resource takes at `version` (prefix "data." on a list).
std::string expandable_path(const resource_spec& spec, std::string_view prefix) {
    return spec.expandable.empty() ? "" : std::string(prefix) + std::string(spec.expandable);
}
std::string includable_path(const resource_spec& spec, std::string_view prefix, std::size_t version) {
    if (spec.includable.empty() || version < spec.includable_since) return "";
    return std::string(prefix) + std::string(spec.includable);
}

// ------------------------------------------------------ object attributes

// A field that is either an id string or an expanded object carrying "id";
// a boolean as its query spelling ("true" / "false"), for boolean filters.
std::string_view string_or_id(const boost::json::value* v) {
    if (!v) return {};
    if (auto s = v->if_string()) return *s;
    if (auto b = v->if_bool()) return *b ? "true" : "false";
    if (auto o = v->if_object())
        if (auto id = o->if_contains("id"))
            if (auto s = id->if_string()) return *s;
    return {};
}

// The interned value of a filter column; a string_view into `o`, or into
// `scratch` for composed values.
std::string_view column_value(const resource_spec& spec, std::string_view column, const boost::json::object& o,
                              std::string& scratch) {
    // An InvoicePayment's payment: {"type":"payment_intent","payment_intent":"pi_..."}.
    if (spec.name == "invoice_payments" && column == "payment") {
        const auto* payment = o.if_contains("payment");
        if (!payment || !payment->is_object()) return {};
        const auto type = string_or_id(payment->as_object().if_contains("type"));
        if (type.empty()) return {};
        scratch = std::string(type) + ':' + std::string(string_or_id(payment->as_object().if_contains(type)));
        return scratch;
    }
    auto v = string_or_id(o.if_contains(column));
    // Basil moved an invoice's subscription under parent.subscription_details.
    if (v.empty() && spec.name == "invoices" && column == "subscription") {
        if (auto parent = o.if_contains("parent"); parent && parent->is_object())
            if (auto details = parent->as_object().if_contains("subscription_details");
                details && details->is_object())
                v = string_or_id(details->as_object().if_contains("subscription"));
    }
    return v;
}

std::optional<std::int64_t> json_int(const boost::json::value* v) {
    if (!v) return std::nullopt;
    if (auto i = v->if_int64()) return *i;
    if (auto u = v->if_uint64(); u && *u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(*u);
    return std::nullopt;
}

// ------------------------------------------------------------------ lists

// Values accepted by enumerated filters; anything else is a 400, as in Stripe.
const std::vector<std::string_view>* allowed_values(const resource_spec& spec, std::string_view column) {
    static const std::vector<std::string_view> invoice_status{"draft", "open", "paid", "uncollectible", "void"};
    static const std::vector<std::string_view> subscription_status{
        "active", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired",
        "trialing", "paused", "all", "ended"};
    static const std::vector<std::string_view> invoice_payment_status{"open", "paid", "canceled"};
    static const std::vector<std::string_view> payment_types{"payment_intent", "payment_record"};
    static const std::vector<std::string_view> booleans{"true", "false"};
    if (spec.name == "invoice_payments" && column == "payment[type]") return &payment_types;
    if (column == "active" || column == "is_default") return &booleans;
    if (column != "status") return nullptr;
    if (spec.name == "invoices") return &invoice_status;
    if (spec.name == "subscriptions") return &subscription_status;
    if (spec.name == "invoice_payments") return &invoice_payment_status;
    return nullptr;
}

[[noreturn]] void invalid_value(const query_param& p, const std::vector<std::string_view>& allowed) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    throw request_error{invalid_request("parameter_invalid_string", "Invalid " + p.key + ": must be one of " + list,
                                        p.key)};
}

void require_non_empty(const query_param& p) {
    if (p.value.empty())
        throw request_error{invalid_request("parameter_invalid_empty",
                                            "You passed an empty string for '" + p.key +
                                                "'. We assume empty values are an attempt to unset a "
                                                "parameter; however '" + p.key + "' cannot be unset.",
                                            p.key)};
}

struct column_filter {
    std::size_t column = 0;
    std::vector<char> allowed;  // indexed by interned value
};

struct list_request {
    std::int64_t limit = default_limit;
    std::optional<std::string> starting_after;
    std::optional<std::string> ending_before;
    std::int64_t created_min = std::numeric_limits<std::int64_t>::min();
    std::int64_t created_max = std::numeric_limits<std::int64_t>::max();
    std::vector<column_filter> filters;
    bool expand = false;   // expand[]=data.<spec.expandable>
    bool include = false;  // expand[]=data.<spec.includable>
};

std::optional<std::size_t> column_index(const resource_spec& spec, std::string_view name) {
    for (std::size_t c = 0; c < max_columns; ++c)
        if (!spec.columns[c].empty() && spec.columns[c] == name) return c;
    return std::nullopt;
}

column_filter make_filter(const resource_store& store, std::size_t column,
                          const std::function<bool(std::string_view)>& accept) {
    const auto& values = store.pools[column].values();
    column_filter f{column, std::vector<char>(values.size(), 0)};
    for (std::size_t i = 0; i < values.size(); ++i) f.allowed[i] = accept(values[i]) ? 1 : 0;
    return f;
}

list_request parse_list_request(const resource_store& store, const std::vector<query_param>& params,
                                std::size_t version) {
    const resource_spec& spec = *store.spec;
    list_request req;
    std::optional<std::string> type;
    std::vector<std::string> types;
    bool subscription_status_given = false;
    std::optional<std::string> payment_type;                      // invoice_payments: payment[type]
    std::vector<std::pair<std::string, std::string>> payment_ids;  // payment[<type>]=<id>
    const std::string list_expandable = expandable_path(spec, "data.");
    const std::string list_includable = includable_path(spec, "data.", version);

    for (const auto& p : params) {
        if (p.base == "limit" && !p.sub) {
            req.limit = require_int(p);
            if (req.limit < 1 || req.limit > max_limit)
                throw request_error{invalid_request(
                    "parameter_invalid_integer",
                    "Invalid limit: must be between 1 and 100 (got " + p.value + ")", "limit")};
        } else if ((p.base == "starting_after" || p.base == "ending_before") && !p.sub) {
            require_non_empty(p);
            (p.base == "starting_after" ? req.starting_after : req.ending_before) = p.value;
        } else if (p.base == "created" && !spec.created_filter) {
            // Stripe names the parameter it does not know, not its sub-key.
            throw request_error{invalid_request("parameter_unknown", "Received unknown parameter: created", "created")};
        } else if (p.base == "created") {
            const std::int64_t v = require_int(p);
            constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
            constexpr auto highest = std::numeric_limits<std::int64_t>::max();
            if (!p.sub) {
                req.created_min = std::max(req.created_min, v);
                req.created_max = std::min(req.created_max, v);
            } else if (*p.sub == "gte") {
                req.created_min = std::max(req.created_min, v);
            } else if (*p.sub == "gt") {
                // created[gt]=MAX matches nothing: express it as an empty range.
                if (v == highest) req.created_max = lowest, req.created_min = highest;
                else req.created_min = std::max(req.created_min, v + 1);
            } else if (*p.sub == "lte") {
                req.created_max = std::min(req.created_max, v);
            } else if (*p.sub == "lt") {
                if (v == lowest) req.created_max = lowest, req.created_min = highest;
                else req.created_max = std::min(req.created_max, v - 1);
            } else {
                unknown_parameter(p);
            }
        } else if (spec.name == "events" && p.base == "type" && !p.sub) {
            type = p.value;
        } else if (spec.name == "events" && p.base == "types" && p.sub) {
            if (!p.sub->empty() && !parse_int(*p.sub)) unknown_parameter(p);
            types.push_back(p.value);
        } else if (spec.name == "invoice_payments" && p.base == "payment") {
            if (!p.sub) unknown_parameter(p);
            require_non_empty(p);
            if (*p.sub == "type") {
                const auto* allowed = allowed_values(spec, p.key);
                if (std::find(allowed->begin(), allowed->end(), p.value) == allowed->end()) invalid_value(p, *allowed);
                payment_type = p.value;
            } else if (*p.sub == "payment_intent" || *p.sub == "payment_record") {
                payment_ids.emplace_back(*p.sub, p.value);
            } else {
                unknown_parameter(p);
            }
        } else if (auto x = expand_param(p, {list_expandable, list_includable})) {
            (*x == list_includable ? req.include : req.expand) = true;
        } else if (auto c = column_index(spec, p.base); c && !p.sub) {
            require_non_empty(p);
            if (auto allowed = allowed_values(spec, p.base);
                allowed && std::find(allowed->begin(), allowed->end(), p.value) == allowed->end())
                invalid_value(p, *allowed);
            if (spec.name == "subscriptions" && p.base == "status") {
                subscription_status_given = true;
                if (p.value == "all") continue;
                if (p.value == "ended") {
                    req.filters.push_back(make_filter(store, *c, [](std::string_view s) {
                        return s == "canceled" || s == "incomplete_expired";
                    }));
                    continue;
                }
            }
            std::string wanted = p.value;
            req.filters.push_back(make_filter(store, *c, [&](std::string_view s) { return s == wanted; }));
        } else {
            unknown_parameter(p);
        }
    }

    // payment[payment_intent] / payment[payment_record] only with the
    // payment[type] they belong to, as Stripe's `payment` hash requires.
    if (!payment_ids.empty() && !payment_type)
        throw request_error{invalid_request("parameter_missing", "Missing required param: payment[type].",
                                            "payment[type]")};
    for (const auto& [sub, id] : payment_ids)
        if (sub != *payment_type)
            throw request_error{invalid_request("parameter_unknown",
                                                "Received unknown parameter: payment[" + sub + "] (payment[type] is " +
                                                    *payment_type + ")",
                                                "payment[" + sub + "]")};
    if (payment_type) {
        const std::string prefix = *payment_type + ':';
        const auto c = *column_index(spec, "payment");
        req.filters.push_back(make_filter(store, c, [&](std::string_view s) { return s.starts_with(prefix); }));
        for (const auto& [sub, id] : payment_ids) {
            const std::string exact = prefix + id;
            req.filters.push_back(make_filter(store, c, [&](std::string_view s) { return s == exact; }));
        }
    }

    if (req.starting_after && req.ending_before)
        throw request_error{invalid_request("parameter_invalid_string",
                                            "You may only specify one of these parameters: ending_before, starting_after.",
                                            "ending_before")};
    if (type && !types.empty())
        throw request_error{invalid_request("parameter_invalid_string",
                                            "You may only specify one of these parameters: type, types.", "types")};
    if (types.size() > max_types)
        throw request_error{invalid_request("parameter_invalid_array",
                                            "Invalid array: types may contain at most 20 elements (got " +
                                                std::to_string(types.size()) + ")",
                                            "types")};
    if (type) {
        std::string t = *type;
        if (t == "*") {
            // every type: no filter
        } else if (t.size() >= 2 && t.ends_with(".*")) {
            std::string prefix = t.substr(0, t.size() - 1);  // keep the dot: "invoice." not "invoice"
            req.filters.push_back(make_filter(store, 0, [&](std::string_view s) { return s.starts_with(prefix); }));
        } else {
            req.filters.push_back(make_filter(store, 0, [&](std::string_view s) { return s == t; }));
        }
    } else if (!types.empty()) {
        req.filters.push_back(make_filter(store, 0, [&](std::string_view s) {
            return std::find(types.begin(), types.end(), s) != types.end();
        }));
    }
    // Stripe's default for subscriptions: everything that is not canceled.
    if (spec.name == "subscriptions" && !subscription_status_given) {
        auto c = *column_index(spec, "status");
        req.filters.push_back(make_filter(store, c, [](std::string_view s) { return s != "canceled"; }));
    }
    return req;
}

bool matches(const entry& e, const std::vector<column_filter>& filters) {
    if (!e.listed) return false;
    for (const auto& f : filters)
        if (!f.allowed[e.columns[f.column]]) return false;
    return true;
}

std::size_t resolve_cursor(const resource_store& store, const std::string& id, std::string_view param) {
    auto idx = store.index_of(id);
    if (!idx)
        throw request_error{error_result(400, "invalid_request_error", "resource_missing",
                                         "No such " + std::string(store.spec->singular) + ": '" + id + "'", param)};
    return *idx;
}

// Stripe objects nest deeper than Boost.JSON's default of 32.
boost::json::parse_options stripe_parse_options() {
    boost::json::parse_options popts;
    popts.max_depth = 64;
    return popts;
}

// The object's JSON (at `version`) with its spec.expandable field replaced by
// the object it names, rendered at `version` too; unchanged when that object
// is not in the dataset (the id stays). Parses per request: only the few
// disputes expand, never the hot lists.
std::string expanded_json(const resource_store& store, const entry& e, std::size_t version) {
    const std::string_view own = store.json(e, version);
    const auto popts = stripe_parse_options();
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(own, ec, {}, popts);
    if (ec || !v.is_object() || !store.expand_from) return std::string(own);
    auto* field = v.as_object().if_contains(store.spec->expandable);
    if (!field) return std::string(own);
    const resource_store& from = *store.expand_from;
    auto idx = from.index_of(string_or_id(field));
    if (!idx) return std::string(own);
    boost::json::value target = boost::json::parse(from.json(from.entries[*idx], version), ec, {}, popts);
    if (ec) return std::string(own);
    *field = std::move(target);
    return boost::json::serialize(v);
}

// The object's JSON with its includable list spliced in before the closing
// brace (string concatenation: invoices are the hot list).
void append_with_included(std::string& out, const resource_store& store, std::size_t i, std::string_view own,
                          std::size_t version) {
    if (own.empty() || own.back() != '}' || !store.include_from) {
        out += own;
        return;
    }
    const resource_store& from = *store.include_from;
    const std::uint32_t b = store.included_begin[i], n = store.included_begin[i + 1] - b;
    out.append(own.data(), own.size() - 1);
    out += R"(,")";
    out += store.spec->includable;
    out += R"(":{"object":"list","data":[)";
    for (std::uint32_t k = 0; k < std::min<std::uint32_t>(n, included_items); ++k) {
        if (k) out += ',';
        out += from.json(from.entries[store.included_rows[b + k]], version);
    }
    out += R"(],"has_more":)";
    out += n > included_items ? "true" : "false";
    out += R"(,"url":"/v1/)";
    out += from.spec->name;
    out += R"("}})";
}

std::string rendered(const resource_store& store, std::size_t i, std::size_t version, bool expand, bool include) {
    std::string own = expand ? expanded_json(store, store.entries[i], version)
                             : std::string(store.json(store.entries[i], version));
    if (!include) return own;
    std::string out;
    append_with_included(out, store, i, own, version);
    return out;
}

http_result list(const resource_store& store, const std::vector<query_param>& params, std::size_t version) {
    const list_request req = parse_list_request(store, params, version);
    const auto& entries = store.entries;

    // [begin, end): the created range, found by binary search (list order is created DESC).
    std::size_t begin = 0, end = 0;
    if (req.created_min <= req.created_max) {
        begin = static_cast<std::size_t>(
            std::partition_point(entries.begin(), entries.end(),
                                 [&](const entry& e) { return e.created > req.created_max; }) - entries.begin());
        end = static_cast<std::size_t>(
            std::partition_point(entries.begin(), entries.end(),
                                 [&](const entry& e) { return e.created >= req.created_min; }) - entries.begin());
        end = std::max(begin, end);
    }

    const auto limit = static_cast<std::size_t>(req.limit);
    std::vector<std::size_t> page;
    page.reserve(limit + 1);
    if (req.ending_before) {
        // Walk towards newer objects from just before the cursor; the page is
        // the `limit` closest to it, shown in list order.
        std::size_t i = std::min(resolve_cursor(store, *req.ending_before, "ending_before"), end);
        while (i > begin && page.size() <= limit) {
            --i;
            if (matches(entries[i], req.filters)) page.push_back(i);
        }
    } else {
        std::size_t i = begin;
        if (req.starting_after)
            i = std::max(i, resolve_cursor(store, *req.starting_after, "starting_after") + 1);
        for (; i < end && page.size() <= limit; ++i)
            if (matches(entries[i], req.filters)) page.push_back(i);
    }
    const bool has_more = page.size() > limit;
    if (has_more) page.pop_back();
    if (req.ending_before) std::reverse(page.begin(), page.end());

    std::size_t bytes = 96;
    for (auto i : page) bytes += entries[i].length[version] + 1;
    std::string body;
    body.reserve(bytes);
    body += R"({"object":"list","data":[)";
    for (std::size_t k = 0; k < page.size(); ++k) {
        if (k) body += ',';
        if (req.expand) body += rendered(store, page[k], version, true, req.include);
        else if (req.include) append_with_included(body, store, page[k], store.json(entries[page[k]], version), version);
        else body += store.json(entries[page[k]], version);
    }
    body += R"(],"has_more":)";
    body += has_more ? "true" : "false";
    body += R"(,"url":"/v1/)";
    body += store.spec->name;
    body += R"("})";
    return {200, std::move(body)};
}

}  // namespace
}  // namespace detail

// ----------------------------------------------------------------- dataset

dataset::dataset() {
    for (const auto& spec : detail::specs) {
        auto store = std::make_unique<detail::resource_store>();
        store->spec = &spec;
        stores_.push_back(std::move(store));
    }
    for (auto& store : stores_)
        if (!store->spec->expandable.empty()) store->expand_from = find(std::string(store->spec->expandable) + "s");
    for (auto& store : stores_)
        if (!store->spec->includable.empty()) store->include_from = find(store->spec->includable_from);
}
dataset::~dataset() = default;
dataset::dataset(dataset&&) noexcept = default;
dataset& dataset::operator=(dataset&&) noexcept = default;

const std::vector<std::string>& dataset::resource_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& spec : detail::specs) n.emplace_back(spec.name);
        return n;
    }();
    return names;
}

const std::vector<std::string>& dataset::supported_api_versions() {
    static const std::vector<std::string> versions(detail::api_versions.begin(), detail::api_versions.end());
    return versions;
}

bool dataset::is_supported_api_version(std::string_view api_version) {
    return detail::version_index(api_version).has_value();
}

std::string dataset::rendition_file_name(std::string_view resource, std::string_view api_version) {
    const std::string stem = detail::file_stem(resource);
    if (api_version == detail::api_versions[detail::default_version]) return stem + ".json";
    return stem + "@" + std::string(api_version) + ".json";
}

std::optional<std::string> dataset::resource_of(std::string_view target) {
    const auto path = detail::percent_decode(target.substr(0, target.find('?')), false);
    if (!path || !path->starts_with("/v1/")) return std::nullopt;
    const auto r = detail::route_of(std::string_view(*path).substr(4));
    if (!r) return std::nullopt;
    return std::string(r->spec->name);
}

std::string dataset::read_permission(std::string_view resource) {
    const auto* spec = detail::spec_named(resource);
    if (!spec) throw std::invalid_argument("name the read permission of resource '" + std::string(resource) +
                                           "': no such resource");
    std::string name = "rak_" + std::string(spec->singular) + "_read";
    std::replace(name.begin(), name.end(), '.', '_');
    return name;
}

detail::resource_store* dataset::find(std::string_view resource) const {
    for (const auto& s : stores_)
        if (s->spec->name == resource) return s.get();
    return nullptr;
}

std::size_t dataset::size(std::string_view resource) const {
    auto store = find(resource);
    return store ? store->entries.size() : 0;
}

namespace detail {
namespace {

struct checked_object {
    std::string id;
    std::int64_t created = 0;
};

// What add() requires of an object; throws std::invalid_argument.
checked_object check_object(const resource_store& store, const boost::json::object& obj) {
    const auto* id_value = obj.if_contains("id");
    if (!id_value || !id_value->is_string() || id_value->as_string().empty())
        throw std::invalid_argument("add " + std::string(store.spec->singular) +
                                    " to dataset: missing string field \"id\"");
    checked_object c{std::string(id_value->as_string())};
    const auto created = json_int(obj.if_contains("created"));
    if (!created)
        throw std::invalid_argument("add " + std::string(store.spec->singular) + " " + c.id +
                                    " to dataset: missing integer field \"created\"");
    c.created = *created;
    if (store.by_id.contains(c.id))
        throw std::invalid_argument("add " + std::string(store.spec->singular) + " " + c.id +
                                    " to dataset: duplicate id");
    return c;
}

using renditions_view = std::span<const boost::json::object* const>;  // one per API version

// What add_renditions() requires beyond check_object(): every rendition is of
// the same object. Throws std::invalid_argument.
void check_renditions(const resource_store& store, const checked_object& c, renditions_view renditions) {
    for (std::size_t v = 0; v < n_versions; ++v) {
        const auto& r = *renditions[v];
        const auto* id = r.if_contains("id");
        const std::string what = "add " + std::string(store.spec->singular) + " " + c.id + " to dataset: its " +
                                 std::string(api_versions[v]) + " rendition ";
        if (!id || !id->is_string() || id->as_string() != c.id)
            throw std::invalid_argument(what + "has id " + (id ? boost::json::serialize(*id) : "(none)") +
                                        ": every rendition must be of the same object (rendition files: the same "
                                        "ids in the same order)");
        if (json_int(r.if_contains("created")) != c.created)
            throw std::invalid_argument(what + "has another \"created\": every rendition must be of the same object");
    }
}

// Serializes each distinct rendition once (versions given the same object
// share its bytes) and indexes the object by its default-version rendition.
void insert(resource_store& store, const checked_object& c, renditions_view renditions) {
    const boost::json::object& current = *renditions[default_version];
    entry e;
    e.created = c.created;
    std::string scratch;
    for (std::size_t k = 0; k < max_columns; ++k)
        if (!store.spec->columns[k].empty())
            e.columns[k] = store.pools[k].intern(column_value(*store.spec, store.spec->columns[k], current, scratch));
    if (store.spec->name == "customers")
        if (auto d = current.if_contains("deleted"); d && d->is_bool() && d->get_bool()) e.listed = false;

    std::array<std::string, n_versions> json;
    std::array<std::size_t, n_versions> same{};  // the first version with the same object
    for (std::size_t v = 0; v < n_versions; ++v) {
        same[v] = v;
        for (std::size_t u = 0; u < v && same[v] == v; ++u)
            if (renditions[u] == renditions[v]) same[v] = u;
        if (same[v] != v) continue;
        json[v] = boost::json::serialize(*renditions[v]);
        if (json[v].size() > std::numeric_limits<std::uint32_t>::max())
            throw std::invalid_argument("add " + std::string(store.spec->singular) + " " + c.id +
                                        " to dataset: object larger than 4 GiB");
    }
    e.seq = store.next_seq++;
    for (std::size_t v = 0; v < n_versions; ++v) {
        if (same[v] != v) {
            e.offset[v] = e.offset[same[v]];
            e.length[v] = e.length[same[v]];
            continue;
        }
        e.offset[v] = store.arena.size();
        e.length[v] = static_cast<std::uint32_t>(json[v].size());
        store.arena += json[v];
    }
    store.by_id.emplace(c.id, static_cast<std::uint32_t>(store.entries.size() + store.pending.size()));
    store.pending.push_back(e);
}

// The dispute a charge.dispute.created event carries in data.object, or
// nullptr for any other event. Throws std::invalid_argument if it has none.
const boost::json::object* created_dispute(const boost::json::object& event, std::string_view event_id) {
    const auto* type = event.if_contains("type");
    if (!type || !type->is_string() || type->as_string() != "charge.dispute.created") return nullptr;
    if (const auto* data = event.if_contains("data"); data && data->is_object())
        if (const auto* object = data->as_object().if_contains("object"); object && object->is_object())
            return &object->as_object();
    throw std::invalid_argument("add event " + std::string(event_id) +
                                " to dataset: charge.dispute.created without an object in data.object");
}

}  // namespace
}  // namespace detail

void dataset::add(std::string resource, boost::json::object obj) {
    std::array<const boost::json::object*, detail::n_versions> same;
    same.fill(&obj);
    add_rendered(resource, same);
}

void dataset::add_renditions(std::string resource, std::vector<boost::json::object> renditions) {
    const detail::resource_store* store = find(resource);
    if (!store) throw std::invalid_argument("add object to dataset: unknown resource '" + resource + "'");
    if (!store->spec->versioned)
        throw std::invalid_argument("add " + std::string(store->spec->singular) + " to dataset: " + resource +
                                    " are the same at every API version (use add)");
    if (renditions.size() != detail::n_versions)
        throw std::invalid_argument("add " + std::string(store->spec->singular) + " to dataset: " +
                                    std::to_string(renditions.size()) +
                                    " renditions, expected one per supported API version (" +
                                    std::to_string(detail::n_versions) + ")");
    std::array<const boost::json::object*, detail::n_versions> each;
    for (std::size_t v = 0; v < detail::n_versions; ++v) each[v] = &renditions[v];
    add_rendered(resource, each);
}

void dataset::add_rendered(std::string_view resource, std::span<const boost::json::object* const> renditions) {
    detail::resource_store* store = find(resource);
    if (!store) throw std::invalid_argument("add object to dataset: unknown resource '" + std::string(resource) + "'");
    const boost::json::object& obj = *renditions[detail::default_version];
    const auto checked = detail::check_object(*store, obj);
    detail::check_renditions(*store, checked, renditions);

    // Stripe's disputes are derived from their charge.dispute.created events
    // (datasets carry no disputes.json). An id already present (disputes.json,
    // loaded first, or a repeated event) is kept as it is. Both objects are
    // checked before either is added, so a throw leaves the dataset unchanged.
    detail::resource_store* disputes = nullptr;
    const boost::json::object* dispute = nullptr;
    std::optional<detail::checked_object> dispute_checked;
    if (store->spec->name == "events") {
        if ((dispute = detail::created_dispute(obj, checked.id))) {
            disputes = find("disputes");
            const auto* id = dispute->if_contains("id");
            if (id && id->is_string() && disputes->by_id.contains(id->as_string())) {
                dispute = nullptr;
            } else {
                try {
                    dispute_checked = detail::check_object(*disputes, *dispute);
                } catch (const std::invalid_argument& e) {
                    throw std::invalid_argument("add event " + checked.id + " to dataset: data.object: " + e.what());
                }
            }
        }
    }
    // The event first: if it fits, its (smaller) dispute does too.
    detail::insert(*store, checked, renditions);
    if (dispute) {
        std::array<const boost::json::object*, detail::n_versions> same;
        same.fill(dispute);
        detail::insert(*disputes, *dispute_checked, same);
    }
}

void dataset::finalize() {
    for (auto& store : stores_) {
        if (store->pending.empty()) continue;
        auto& all = store->entries;
        all.insert(all.end(), store->pending.begin(), store->pending.end());
        store->pending.clear();
        store->pending.shrink_to_fit();

        std::vector<std::uint32_t> order(all.size());
        for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (all[a].created != all[b].created) return all[a].created > all[b].created;
            return all[a].seq > all[b].seq;  // later-added first among same-second objects
        });
        std::vector<std::uint32_t> new_pos(all.size());
        std::vector<detail::entry> sorted;
        sorted.reserve(all.size());
        for (std::uint32_t k = 0; k < order.size(); ++k) {
            new_pos[order[k]] = k;
            sorted.push_back(all[order[k]]);
        }
        all = std::move(sorted);
        for (auto& [id, index] : store->by_id) index = new_pos[index];
    }
    for (auto& store : stores_)
        if (store->include_from) index_included(*store);
}

// store.included_begin / included_rows from include_from's first column
// (the id of the object each names), in include_from's list order.
void dataset::index_included(detail::resource_store& store) {
    const auto& from = *store.include_from;
    const auto& names = from.pools[0].values();
    std::vector<std::uint32_t> owner(from.entries.size(), UINT32_MAX);
    std::vector<std::uint32_t> begin(store.entries.size() + 1, 0);
    for (std::size_t k = 0; k < from.entries.size(); ++k)
        if (auto i = store.index_of(names[from.entries[k].columns[0]])) {
            owner[k] = static_cast<std::uint32_t>(*i);
            ++begin[*i + 1];
        }
    for (std::size_t i = 0; i < store.entries.size(); ++i) begin[i + 1] += begin[i];
    std::vector<std::uint32_t> rows(begin.back()), next(begin.begin(), begin.end() - 1);
    for (std::size_t k = 0; k < from.entries.size(); ++k)
        if (owner[k] != UINT32_MAX) rows[next[owner[k]]++] = static_cast<std::uint32_t>(k);
    store.included_begin = std::move(begin);
    store.included_rows = std::move(rows);
}

namespace detail {
namespace {

// Reads a JSON array of objects one element at a time, so loading a dataset
// of a million events holds one element's text and DOM at a time (plus the
// arena), not the whole file parsed (several times its size).
class array_reader {
public:
    explicit array_reader(const std::filesystem::path& file) : file_(file), in_(file, std::ios::binary) {
        if (!in_) throw std::runtime_error("load dataset: cannot open " + file.string());
    }

    // The next element's text (valid until the next call); nullopt after the
    // closing bracket. Throws std::runtime_error naming the file.
    std::optional<std::string_view> next() {
        if (!skip_space()) fail(started_ ? "unexpected end of file (no closing ']')" : "empty file");
        if (!started_) {
            if (buf_[pos_] != '[') fail("not a JSON array");
            started_ = true;
            ++pos_;
            if (!skip_space()) fail("unexpected end of file (no closing ']')");
            if (buf_[pos_] == ']') return finish();
        } else {
            if (buf_[pos_] == ']') return finish();
            if (buf_[pos_] != ',') fail("expected ',' or ']' after element " + std::to_string(count_ - 1));
            ++pos_;
            if (!skip_space()) fail("unexpected end of file (no closing ']')");
        }
        // Scan one value: nesting depth and strings decide where it ends.
        std::size_t start = pos_, i = pos_;
        int depth = 0;
        bool in_string = false, escape = false;
        for (;;) {
            if (i == buf_.size()) {
                const std::size_t shift = start;
                if (!refill(start)) {
                    if (depth == 0 && !in_string) break;  // a scalar at the very end: the parser judges it
                    fail("unexpected end of file inside element " + std::to_string(count_));
                }
                start -= shift;
                i -= shift;
                continue;
            }
            const char c = buf_[i];
            if (in_string) {
                if (escape) escape = false;
                else if (c == '\\') escape = true;
                else if (c == '"') in_string = false;
            } else if (c == '"') {
                in_string = true;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (depth == 0) break;  // the array's own ']' after a scalar
                if (--depth == 0) {
                    ++i;
                    break;
                }
            } else if (depth == 0 && (c == ',' || is_space(c))) {
                break;  // the end of a scalar element
            }
            ++i;
        }
        pos_ = i;
        ++count_;
        return std::string_view(buf_).substr(start, i - start);
    }

    std::size_t count() const { return count_; }
    [[noreturn]] void fail(const std::string& why) const {
        throw std::runtime_error("load dataset: parse " + file_.string() + ": " + why);
    }

private:
    static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

    // Drops buf_[0, keep_from) (already consumed) and appends the next chunk;
    // false at the end of the file. Indices into buf_ shift by keep_from.
    bool refill(std::size_t keep_from) {
        buf_.erase(0, keep_from);
        pos_ -= std::min(pos_, keep_from);
        if (!in_) return false;
        const std::size_t old = buf_.size();
        buf_.resize(old + chunk);
        in_.read(buf_.data() + old, static_cast<std::streamsize>(chunk));
        const auto got = static_cast<std::size_t>(in_.gcount());
        buf_.resize(old + got);
        if (in_.bad()) throw std::runtime_error("load dataset: cannot read " + file_.string());
        return got > 0;
    }

    bool skip_space() {
        for (;;) {
            while (pos_ < buf_.size() && is_space(buf_[pos_])) ++pos_;
            if (pos_ < buf_.size()) return true;
            if (!refill(pos_)) return false;
        }
    }

    std::optional<std::string_view> finish() {
        ++pos_;
        if (skip_space()) fail("unexpected content after the closing ']'");
        return std::nullopt;
    }

    static constexpr std::size_t chunk = 1 << 20;
    std::filesystem::path file_;
    std::ifstream in_;
    std::string buf_;
    std::size_t pos_ = 0;  // next unread byte of buf_
    std::size_t count_ = 0;
    bool started_ = false;
};

}  // namespace
}  // namespace detail

namespace detail {
namespace {

// The next element of an array file as an object; nullopt after the last.
// Throws std::runtime_error naming the file and the element.
std::optional<boost::json::object> next_object(array_reader& reader, const std::filesystem::path& file) {
    auto text = reader.next();
    if (!text) return std::nullopt;
    const std::size_t i = reader.count() - 1;
    boost::system::error_code ec;
    boost::json::value element = boost::json::parse(*text, ec, {}, stripe_parse_options());
    if (ec) reader.fail("element " + std::to_string(i) + ": " + ec.message());
    if (!element.is_object())
        throw std::runtime_error("load dataset: " + file.string() + " element " + std::to_string(i) +
                                 " is not an object");
    return std::move(element.as_object());
}

// A <resource>@<version>.json that load() would not read is refused rather
// than silently ignored: an unsupported version, or a resource whose objects
// are the same at every version.
void refuse_stray_renditions(const std::filesystem::path& dir) {
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        const std::string name = f.path().filename().string();
        const auto at = name.find('@');
        if (at == std::string::npos || !name.ends_with(".json")) continue;
        const std::string resource = name.substr(0, at);
        const std::string version = name.substr(at + 1, name.size() - at - 1 - 5);
        const auto spec =
            std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return file_stem(s.name) == resource; });
        if (spec == specs.end()) continue;  // not ours
        if (!spec->versioned)
            throw std::runtime_error("load dataset: " + f.path().string() + ": " + resource +
                                     " are the same at every API version; only " + resource +
                                     ".json is read");
        const auto v = version_index(version);
        if (!v || *v == default_version)
            throw std::runtime_error("load dataset: " + f.path().string() + ": not a rendition at a supported API " +
                                     "version other than the default (" + std::string(api_versions[default_version]) +
                                     ", which is " + resource + ".json)");
    }
}

}  // namespace
}  // namespace detail

dataset dataset::load(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir))
        throw std::runtime_error("load dataset: " + dir.string() + " is not a directory");
    detail::refuse_stray_renditions(dir);
    dataset ds;
    // disputes.json before events.json: add() then derives only the disputes
    // the file lacks, instead of the file colliding with derived copies.
    std::vector<detail::resource_store*> order;
    for (const auto& store : ds.stores_) order.push_back(store.get());
    std::stable_partition(order.begin(), order.end(),
                          [](const detail::resource_store* s) { return s->spec->name == "disputes"; });
    for (auto* store : order) {
        const std::string name(store->spec->name);
        const auto file = dir / rendition_file_name(name, detail::api_versions[detail::default_version]);
        if (!std::filesystem::exists(file)) continue;
        // Each other version's rendition file, read in step with <resource>.json;
        // a version without one is served <resource>.json's objects.
        struct rendition_file {
            std::size_t version;
            std::filesystem::path path;
            std::unique_ptr<detail::array_reader> reader;
        };
        std::vector<rendition_file> others;
        std::size_t bytes = static_cast<std::size_t>(std::filesystem::file_size(file));
        for (std::size_t v = 0; store->spec->versioned && v < detail::n_versions; ++v) {
            if (v == detail::default_version) continue;
            auto path = dir / rendition_file_name(name, detail::api_versions[v]);
            if (!std::filesystem::exists(path)) continue;
            bytes += static_cast<std::size_t>(std::filesystem::file_size(path));
            auto reader = std::make_unique<detail::array_reader>(path);
            others.push_back({v, std::move(path), std::move(reader)});
        }
        store->arena.reserve(store->arena.size() + bytes);
        detail::array_reader reader(file);
        for (;;) {
            auto obj = detail::next_object(reader, file);
            const std::size_t i = reader.count() - (obj ? 1 : 0);
            std::vector<boost::json::object> rendered;  // of the other versions, in `others` order
            for (auto& o : others) {
                auto r = detail::next_object(*o.reader, o.path);
                if (static_cast<bool>(r) != static_cast<bool>(obj))
                    throw std::runtime_error("load dataset: " + o.path.string() + " has " + (r ? "more" : "fewer") +
                                             " elements than " + file.string() + " (" + std::to_string(i) +
                                             " there): a rendition file holds the same objects in the same order");
                if (r) rendered.push_back(std::move(*r));
            }
            if (!obj) break;
            std::array<const boost::json::object*, detail::n_versions> renditions;
            renditions.fill(&*obj);
            for (std::size_t k = 0; k < others.size(); ++k) renditions[others[k].version] = &rendered[k];
            try {
                ds.add_rendered(name, renditions);
            } catch (const std::exception& e) {
                std::string files = file.string();
                for (const auto& o : others) files += " / " + o.path.filename().string();
                throw std::runtime_error("load dataset: " + files + " element " + std::to_string(i) + ": " + e.what());
            }
        }
        store->arena.shrink_to_fit();
    }
    ds.finalize();
    return ds;
}

http_result dataset::handle_get(std::string_view target) const {
    return handle_get(target, detail::api_versions[detail::default_version]);
}

http_result dataset::handle_get(std::string_view target, std::string_view api_version) const {
    const auto version = detail::version_index(api_version);
    if (!version)
        return detail::error_result(400, "invalid_request_error", "",
                                    "Invalid Stripe API version: " + std::string(api_version), "");
    const auto qmark = target.find('?');
    const std::string_view raw_path = target.substr(0, qmark);
    const std::string_view query = qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);
    try {
        auto path = detail::percent_decode(raw_path, false);
        if (!path || !path->starts_with("/v1/")) return detail::unrecognized_url(raw_path);
        const auto route = detail::route_of(std::string_view(*path).substr(4));
        if (!route) return detail::unrecognized_url(raw_path);
        const detail::resource_store* store = find(route->spec->name);
        // A resource newer than the request's version is not there at all.
        if (*version < store->spec->since_version) return detail::unrecognized_url(raw_path);
        const auto params = detail::parse_query(query);
        if (!route->id) return detail::list(*store, params, *version);

        const std::string_view id = *route->id;
        if (id.empty() || id.find('/') != std::string_view::npos) return detail::unrecognized_url(raw_path);
        bool expand = false, include = false;
        const std::string includable = detail::includable_path(*store->spec, "", *version);
        for (const auto& p : params) {
            auto x = detail::expand_param(p, {store->spec->expandable, includable});
            if (!x) detail::unknown_parameter(p);
            (*x == includable ? include : expand) = true;
        }
        auto idx = store->index_of(id);
        if (!idx)
            return detail::error_result(404, "invalid_request_error", "resource_missing",
                                        "No such " + std::string(store->spec->singular) + ": '" + std::string(id) + "'",
                                        "id");
        if (expand || include) return {200, detail::rendered(*store, *idx, *version, expand, include)};
        return {200, std::string(store->json(store->entries[*idx], *version))};
    } catch (detail::request_error& e) {
        return std::move(e.result);
    }
}

}  // namespace reconciler::sim
