// The Stripe API client: paging, retries, backoff and the request-rate
// budget. It speaks only to `transport` (no Beast here), so every rule below
// is tested deterministically with a scripted fake.
//
// Retry rules (per request; see shared/stripe/README.md):
//   retried   transport connect/reset/truncated/timeout; HTTP 409, 429, 5xx;
//             any non-2xx with `Stripe-Should-Retry: true`; a 2xx whose body
//             does not parse (a broken proxy must not fail the night)
//   final     `Stripe-Should-Retry: false` (even on 5xx/429); TLS, protocol
//             and cancelled transport errors; every other status (400, 401,
//             403, 404, ...)
//   cap       after max_retries retries the request fails with
//             stripe_error::retries_exhausted() == true
// Delay before retry n (1-based):
//   Retry-After present   min(Retry-After, max_retry_after), exactly
//   429 without it        min(rate_limited_base_delay * 2^(n-1), rate_limited_max_delay) * U[0.5, 1],
//                         at least rate_limited_base_delay
//   otherwise             min(base_delay * 2^(n-1), max_delay) * U[0.5, 1], at least base_delay
//                         (the official SDKs' formula)
// A 429 also halves the shared request rate (see rate_limiter.hpp), so every
// worker slows down; successes restore it gradually.
//
// Errors: stripe_error's what() names the action, the object (resource,
// window and page, or path), the Request-Id, and Stripe's status, code, type
// and message, e.g.
//   fetch /v1/events created [1700000000, 1700086400) page 7 (req_123): 429 rate_limit (invalid_request_error): Too many requests; gave up after 6 retries
// Secrets never appear in it: anything shaped like a Stripe key (sk_/rk_/
// pk_ live/test, whsec_) and every string in client_options::redact is masked.
//
// Threading: a client and its operations belong to one io_context running on
// one thread; the client and the transport must outlive every operation.
#pragma once

#include "core/model.hpp"
#include "core/stripe_parse.hpp"
#include "stripe/transport.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::stripe {

struct client_options {
    int max_retries = 6;
    std::chrono::milliseconds base_delay{500};
    std::chrono::milliseconds max_delay{5000};
    std::chrono::milliseconds rate_limited_base_delay{1000};  // 429 without Retry-After
    std::chrono::milliseconds rate_limited_max_delay{30000};
    std::chrono::milliseconds max_retry_after{60000};  // cap on an honoured Retry-After
    double requests_per_second = 25;  // shared token-bucket budget
    double burst = 0;                 // bucket capacity in requests; 0: max(1, requests_per_second / 4)
    int concurrency = 4;              // pieces paged at once over all lists (one page in flight each), 1..64
    int page_limit = 100;             // 1..100
    std::uint64_t jitter_seed = 0;    // 0: std::random_device
    std::vector<std::string> redact;  // exact strings (e.g. the API key) masked in every error text
};

struct list_query {
    std::string resource;                                      // "/v1/events", "/v1/invoices", ...
    std::vector<std::pair<std::string, std::string>> params;  // e.g. {"types[0]","invoice.paid"}; URL-encoded by the client
    std::int64_t created_gte = 0;                              // window [created_gte, created_lt), unix seconds
    std::int64_t created_lt = 0;
};

// Called on the io_context's thread for every page, in no particular order
// across pieces of the window. An exception thrown here stops list_all and propagates.
using page_sink = std::function<void(const list_page_info& page, list_envelope&& envelope)>;

class stripe_error : public std::runtime_error {
public:
    struct details {
        std::string action;  // "fetch /v1/events created [a, b) page 7", "retrieve /v1/subscriptions/sub_1"
        unsigned http_status = 0;  // 0: transport failure (see transport)
        transport_error transport = transport_error::none;
        std::string request_id;
        std::string type;     // Stripe error.type
        std::string code;     // Stripe error.code
        std::string message;  // Stripe error.message (redacted), or the transport/parse detail
        bool retries_exhausted = false;
        int retries = 0;  // retries made before giving up
    };
    // `what` is the full, already redacted message.
    stripe_error(std::string what, details d);

    const std::string& action() const noexcept { return d_.action; }
    unsigned http_status() const noexcept { return d_.http_status; }
    transport_error transport() const noexcept { return d_.transport; }
    const std::string& request_id() const noexcept { return d_.request_id; }
    const std::string& type() const noexcept { return d_.type; }
    const std::string& code() const noexcept { return d_.code; }
    const std::string& stripe_message() const noexcept { return d_.message; }
    bool retries_exhausted() const noexcept { return d_.retries_exhausted; }
    int retries() const noexcept { return d_.retries; }

private:
    details d_;
};

struct retry_record {
    std::string action;
    std::string reason;  // e.g. "429 rate_limit (req_1)", "timeout: read response from ...: timed out after 30000 ms"
    std::chrono::milliseconds delay{0};
};

struct client_stats {
    std::uint64_t requests = 0;      // every attempt sent to the transport
    std::uint64_t retries = 0;
    std::uint64_t rate_limited = 0;  // 429 responses
    std::uint64_t malformed = 0;     // 2xx bodies that did not parse (each retried)
    std::uint64_t pages = 0;
    std::uint64_t objects = 0;
    std::vector<retry_record> retry_log;  // oldest first; the first 1000 retries only
};

// One object of client::retrieve_all.
struct retrieved {
    std::string path;
    std::optional<boost::json::object> object;  // empty: 404 (allow_missing)
    std::string request_id;
};

class client {
public:
    // Awaits a delay; tests inject one that records delays. Default: steady_timer.
    using sleeper = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)>;
    // The rate limiter's clock; default std::chrono::steady_clock::now.
    using clock = std::function<std::chrono::steady_clock::time_point()>;

    // Throws std::invalid_argument for options out of range.
    client(transport& t, client_options opts, sleeper sleep = {}, clock now = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Pages every object of q's window exactly once, newest-first within
    // each piece of the window: limit, created[gte], created[lt] and
    // starting_after=<last id of the previous page> while has_more.
    // `concurrency` worker coroutines on the caller's executor share the
    // work. The window starts as one piece, so a list that fits one page
    // costs one request; when the first page says has_more, the rest is cut
    // into up to `concurrency` pieces by the density that page showed, and
    // from then on an idle worker splits the older half off the busy piece
    // with the most seconds left (only pieces known to hold more than one
    // page, and never below one second). Requests follow the objects: almost
    // every page is full, and no worker idles while another has pages left.
    // `concurrency` bounds the client, not each call: lists running side by
    // side (and retrieve_all) split only while all of them together page
    // fewer than `concurrency` pieces, since every piece ends in a partial
    // page and more than that many cannot be in flight usefully. Each list
    // always pages its first piece.
    // Throws std::invalid_argument for a bad query (resource not starting
    // with '/', created_lt <= created_gte, or params that set what the
    // client controls: limit, created*, starting_after, ending_before),
    // stripe_error on a final failure; on the first failure the other
    // workers are cancelled.
    boost::asio::awaitable<void> list_all(list_query q, page_sink sink);

    // GETs one object (e.g. "/v1/subscriptions/sub_123"): the object and the
    // Request-Id. Same retry rules. Throws stripe_error.
    boost::asio::awaitable<std::pair<boost::json::object, std::string>> retrieve(std::string path);

    // GETs every path (same rules as retrieve) with up to `concurrency`
    // requests in flight; results in the order of `paths`. With
    // allow_missing, a 404 is a result without object (its Request-Id kept);
    // any other final failure throws stripe_error and cancels the rest.
    // Throws std::invalid_argument for a malformed path before sending any.
    boost::asio::awaitable<std::vector<retrieved>> retrieve_all(std::vector<std::string> paths,
                                                                bool allow_missing = false);

    client_stats stats() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

namespace detail {

// [gte, lt) split into min(slices, lt - gte) contiguous, disjoint, non-empty
// windows, newest first. Requires lt > gte, slices >= 1.
std::vector<std::pair<std::int64_t, std::int64_t>> split_window(std::int64_t gte, std::int64_t lt, int slices);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

// Masks Stripe-shaped secrets and each of `extra` in `text`.
std::string redact_secrets(std::string text, const std::vector<std::string>& extra = {});

}  // namespace detail

}  // namespace reconciler::stripe
