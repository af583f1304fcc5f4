// The simulator's list engine: Stripe's read API over an in-memory dataset,
// with no network. The server hands it the request target and the request's
// API version; tests call it directly.
//
// Resources: events, invoices, subscriptions, customers, charges, disputes,
// invoice_payments, prices, billing_portal/configurations. A resource's name
// is its URL path after /v1/ (GET /v1/billing_portal/configurations/bpc_...)
// and, with '/' as '_', its file stem. Every object is a JSON object with a string "id" (unique
// within its resource) and an integer "created". Disputes also come from
// events: adding a charge.dispute.created event adds its data.object unless
// that id exists.
//
// API versions (supported_api_versions(): "2024-06-20" and
// "2025-03-31.basil", the newest being the default): invoices, charges and
// subscriptions change shape between them, so each of their objects may hold
// one rendition per version (add_renditions) and is served in the rendition
// of the request's version; an object added with add() is the same bytes at
// every version. Every other resource is the same bytes at every version; an
// event's data.object in particular keeps the event's own api_version, as in
// Stripe. A dispute's expanded charge is rendered at the request's version.
// invoice_payments exist from basil on: at an older version their URLs are
// unknown (404), as before Stripe had them. An unsupported version is a 400
// ("Invalid Stripe API version: <v>").
//
// Semantics (see /work/shared/stripe/README.md):
//   GET /v1/<resource>        list, newest first: created DESC, and among
//                             same-second objects the later-added first, so
//                             pages never lose or repeat an object.
//   GET /v1/<resource>/<id>   retrieve, or 404 resource_missing.
// List parameters: limit (1..100, default 10), starting_after / ending_before
// (exclusive, mutually exclusive, must name an existing object of the
// resource), created / created[gt|gte|lt|lte] (not on invoice_payments nor
// billing_portal/configurations, whose Stripe lists have no created filter:
// a 400 parameter_unknown); events: type
// (trailing ".*" wildcard) or types[N] (<= 20, exact names), not both;
// invoices: status, customer, subscription; subscriptions: status (default
// excludes canceled, "all", "ended" = canceled + incomplete_expired),
// customer; customers: email (deleted customers are retrievable but never
// listed); charges: customer; disputes: charge, and expand[]=data.charge
// (retrieve: expand[]=charge) to inline the charge object; invoices, from
// basil on: expand[]=data.payments (retrieve: expand[]=payments) to include
// the `payments` list, the first 10 InvoicePayments naming the invoice
// (has_more, url), absent unless expanded and a 400 before basil; invoice_payments:
// invoice, status (open|paid|canceled), payment[type]
// (payment_intent|payment_record) with optionally payment[payment_intent] or
// payment[payment_record] (which require payment[type], and the one that
// matches it); prices: active (true|false), product;
// billing_portal/configurations: active, is_default (true|false). Any other
// expand is a 400, as is any other value of an enumerated or boolean filter.
// Unknown parameters, malformed values and unknown URLs are answered with
// Stripe's error envelope
//   {"error":{"type":"invalid_request_error","code":...,"message":...,"param":...}}.
//
// Files (load()): <stem>.json (rendition_file_name) holds every object at
// the default version; for invoices, charges and subscriptions
// <resource>@<version>.json may hold
// the same objects (same ids, same order) rendered at another supported
// version. A versioned resource without it serves <resource>.json at that
// version too (so small hand-written datasets keep working).
//
// Performance contract (benchmarked at 1M events): every object is serialized
// once per rendition, when added; a page is string concatenation. Created
// bounds are binary searched; cursor lookups are hashed; attribute filters
// compare interned integers while scanning forward from the start position.
//
// Thread safety: after finalize(), the const interface may be used from any
// number of threads concurrently. add()/finalize() need exclusive access.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::sim {

struct http_result {
    unsigned status = 200;
    std::string body;  // always JSON: a resource, a list envelope or an error envelope
};

namespace detail {
struct resource_store;
}

class dataset {
public:
    dataset();
    ~dataset();
    dataset(dataset&&) noexcept;
    dataset& operator=(dataset&&) noexcept;
    dataset(const dataset&) = delete;
    dataset& operator=(const dataset&) = delete;

    // "events", "invoices", "subscriptions", "customers", "charges", "disputes",
    // "invoice_payments", "prices", "billing_portal/configurations".
    static const std::vector<std::string>& resource_names();

    // The resource whose list or retrieve URL `target` (path, optional
    // query, percent-encoded as received) is, by the same routing as
    // handle_get; nullopt for any other target. Lets the server refuse a
    // resource however its URL is spelled.
    static std::optional<std::string> resource_of(std::string_view target);

    // The restricted-key permission reading `resource` takes, as Stripe
    // names it in a 403: "rak_<object type, '.' as '_'>_read"
    // ("rak_dispute_read", "rak_billing_portal_configuration_read").
    // Throws std::invalid_argument for an unknown resource.
    static std::string read_permission(std::string_view resource);

    // The Stripe-Version values served, oldest first; the last (the newest,
    // "2025-03-31.basil") is the default and the version of <resource>.json.
    static const std::vector<std::string>& supported_api_versions();
    static bool is_supported_api_version(std::string_view api_version);  // one of the above

    // The file holding `resource` rendered at `api_version`: "<stem>.json"
    // for the default version, "<stem>@<api_version>.json" otherwise, where
    // the stem is the resource's name with '/' as '_'
    // ("billing_portal_configurations.json").
    static std::string rendition_file_name(std::string_view resource, std::string_view api_version);

    // Reads <dir>/<resource>.json for every resource (each a JSON array of
    // objects; a missing file is an empty resource), and for invoices,
    // charges and subscriptions the other versions' renditions
    // (<resource>@<version>.json, see the file comment), then finalizes.
    // disputes.json is read before events.json (see add()).
    // Throws std::runtime_error naming the file and the offending element:
    // also when a rendition file's ids differ from <resource>.json's (order
    // included) or a <resource>@<version>.json names an unsupported version
    // or a resource that is not versioned.
    static dataset load(const std::filesystem::path& dir);

    // Adds one object; it becomes visible at the next finalize(). Throws
    // std::invalid_argument for an unknown resource, a duplicate id, or an
    // object without a string "id" / integer "created". A charge.dispute.created
    // event also adds its data.object to "disputes" unless that id is already
    // there (so a later add("disputes", ...) of it is a duplicate); the event
    // is refused if that dispute is malformed.
    // The object is served as these same bytes at every API version.
    void add(std::string resource, boost::json::object obj);

    // Adds one object of a versioned resource (invoices, charges,
    // subscriptions) rendered per API version: renditions[i] is served at
    // supported_api_versions()[i]. Its filters read the default version's
    // rendition. Throws std::invalid_argument as add() does, and for another
    // resource, a count other than supported_api_versions().size(), or
    // renditions whose "id" or "created" differ.
    void add_renditions(std::string resource, std::vector<boost::json::object> renditions);

    // Orders and indexes everything added so far. Throws std::invalid_argument
    // on a duplicate id within a resource. May be called again after more add()s.
    void finalize();

    // Answers GET <target> (path plus optional query, e.g.
    // "/v1/events?limit=100&created%5Bgte%5D=10") at `api_version` (the
    // request's Stripe-Version); the one-argument form uses the default
    // version. Never throws for bad input: that is a 4xx result (an
    // unsupported version: 400 invalid_request_error, param "").
    http_result handle_get(std::string_view target) const;
    http_result handle_get(std::string_view target, std::string_view api_version) const;

    // Objects in a resource (as of the last finalize()); 0 for unknown names.
    std::size_t size(std::string_view resource) const;

private:
    detail::resource_store* find(std::string_view resource) const;
    static void index_included(detail::resource_store& store);  // finalize(): includable lists' rows
    // add() and add_renditions(): one object pointer per supported version
    // (the same pointer: the same bytes).
    void add_rendered(std::string_view resource, std::span<const boost::json::object* const> renditions);
    std::vector<std::unique_ptr<detail::resource_store>> stores_;
};

}  // namespace reconciler::sim
