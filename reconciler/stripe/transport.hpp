// The network seam of the Stripe client.
//
// The client's paging, retry and rate logic talks only to `transport`, so it
// is tested deterministically with a scripted fake; the real implementation
// (beast_transport.cpp, the only client TU that includes Beast and OpenSSL)
// speaks HTTPS with keep-alive connections.
//
// Contract: get() never throws for the failures a network is expected to
// have (refused/reset connection, timeout, truncated stream, TLS failure):
// they come back as transport_result::error with a human-readable detail.
// It throws only for programming errors; when the calling coroutine is
// cancelled it completes with transport_error::cancelled or throws
// boost::system::system_error(operation_aborted), as Asio coroutines do.
// A response with any HTTP status is a success at this level.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace reconciler::stripe {

struct http_response {
    unsigned status = 0;
    std::string body;
    std::string request_id;                       // Request-Id header, empty when absent
    std::optional<bool> should_retry;             // Stripe-Should-Retry header
    std::optional<std::chrono::milliseconds> retry_after;  // Retry-After header (seconds)
};

enum class transport_error {
    none,
    connect,    // resolve/connect refused or unreachable
    tls,        // handshake or certificate verification failed: never retried
    timeout,    // a deadline expired
    reset,      // connection reset / closed before a full response
    truncated,  // body shorter than announced / stream_truncated
    protocol,   // malformed HTTP, oversized body
    cancelled,  // the operation was cancelled (shutdown)
};

const char* to_string(transport_error e) noexcept;

struct transport_result {
    transport_error error = transport_error::none;
    std::string detail;      // e.g. "connect 127.0.0.1:12111: Connection refused"
    http_response response;  // valid when error == none
};

class transport {
public:
    virtual ~transport() = default;
    // GET `target` (path and query, e.g. "/v1/events?limit=100").
    virtual boost::asio::awaitable<transport_result> get(std::string target) = 0;
    // Resolve, connect and (for https) complete the TLS handshake without
    // sending a request, so a run can tell a setup problem (certificate
    // refused: transport_error::tls) from a flaky network before it writes
    // anything. Same error contract as get(); the connection is kept for the
    // next get(). The default (scripted transports) has nothing to check.
    virtual boost::asio::awaitable<transport_result> probe();
};

}  // namespace reconciler::stripe
