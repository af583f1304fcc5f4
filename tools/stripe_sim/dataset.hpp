// The simulator's list engine: Stripe's read API over an in-memory dataset,
// with no network. The server hands it the request target; tests call it
// directly.
//
// Resources: events, invoices, subscriptions, customers, charges, disputes.
// Every object is a JSON object with a string "id" (unique within its
// resource) and an integer "created". Disputes also come from events: adding a
// charge.dispute.created event adds its data.object unless that id exists.
//
// Semantics (see /work/shared/stripe/README.md):
//   GET /v1/<resource>        list, newest first: created DESC, and among
//                             same-second objects the later-added first, so
//                             pages never lose or repeat an object.
//   GET /v1/<resource>/<id>   retrieve, or 404 resource_missing.
// List parameters: limit (1..100, default 10), starting_after / ending_before
// (exclusive, mutually exclusive, must name an existing object of the
// resource), created / created[gt|gte|lt|lte]; events: type (trailing ".*"
// wildcard) or types[N] (<= 20, exact names), not both; invoices: status,
// customer, subscription; subscriptions: status (default excludes canceled,
// "all", "ended" = canceled + incomplete_expired), customer; customers: email
// (deleted customers are retrievable but never listed); charges: customer;
// disputes: charge, and expand[]=data.charge (retrieve: expand[]=charge) to
// inline the charge object; any other expand is a 400.
// Unknown parameters, malformed values and unknown URLs are answered with
// Stripe's error envelope
//   {"error":{"type":"invalid_request_error","code":...,"message":...,"param":...}}.
//
// Performance contract (benchmarked at 1M events): every object is serialized
// once, when added; a page is string concatenation. Created bounds are binary
// searched; cursor lookups are hashed; attribute filters compare interned
// integers while scanning forward from the start position.
//
// Thread safety: after finalize(), the const interface may be used from any
// number of threads concurrently. add()/finalize() need exclusive access.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
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

    // "events", "invoices", "subscriptions", "customers", "charges", "disputes".
    static const std::vector<std::string>& resource_names();

    // Reads <dir>/<resource>.json for every resource (each a JSON array of
    // objects; a missing file is an empty resource) and finalizes.
    // disputes.json is read before events.json (see add()).
    // Throws std::runtime_error naming the file and the offending element.
    static dataset load(const std::filesystem::path& dir);

    // Adds one object; it becomes visible at the next finalize(). Throws
    // std::invalid_argument for an unknown resource, a duplicate id, or an
    // object without a string "id" / integer "created". A charge.dispute.created
    // event also adds its data.object to "disputes" unless that id is already
    // there (so a later add("disputes", ...) of it is a duplicate); the event
    // is refused if that dispute is malformed.
    void add(std::string resource, boost::json::object obj);

    // Orders and indexes everything added so far. Throws std::invalid_argument
    // on a duplicate id within a resource. May be called again after more add()s.
    void finalize();

    // Answers GET <target> (path plus optional query, e.g.
    // "/v1/events?limit=100&created%5Bgte%5D=10"). Never throws for bad input:
    // that is a 4xx result.
    http_result handle_get(std::string_view target) const;

    // Objects in a resource (as of the last finalize()); 0 for unknown names.
    std::size_t size(std::string_view resource) const;

private:
    detail::resource_store* find(std::string_view resource) const;
    std::vector<std::unique_ptr<detail::resource_store>> stores_;
};

}  // namespace reconciler::sim
