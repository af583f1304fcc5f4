// The real `transport`: HTTPS (or, for a local simulator only, plain HTTP)
// over Boost.Beast with pooled keep-alive connections.
//
// Contract:
//  - make_beast_transport() validates everything it can up front and throws
//    std::invalid_argument saying what is wrong and how to fix it (bad URL,
//    plain http to a non-loopback host, unreadable CA file, empty API key or
//    a header value with CR/LF). The API key never appears in any message.
//  - TLS: the peer chain is verified against ca_file (or the system store),
//    the certificate must match the URL's host (DNS name or IP literal), SNI
//    is sent for DNS names, TLS 1.2 is the minimum.
//  - probe() opens one connection (TCP + TLS handshake) and keeps it for the
//    next get(); refuse_tls_failure() turns a refused certificate into a
//    setup error, so a run whose TLS cannot work stops before writing anything.
//  - get() follows transport.hpp: network failures come back as values. Every
//    network step (resolve, connect, handshake, write, read) has its own
//    `timeout` deadline.
//  - Connections are kept alive and reused; concurrent get()s use separate
//    connections. A reused idle connection the server has meanwhile closed
//    (reset/eof at write or before the first response byte) is retried once
//    on a fresh connection inside get(), since that is not a server failure.
//  - Threading: the transport and every get() belong to one io_context that
//    runs on one thread. The transport must outlive all get() calls.
#pragma once

#include "stripe/transport.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace reconciler::stripe {

struct beast_transport_options {
    std::string base_url;                    // https://api.stripe.com or https://127.0.0.1:12111 (http:// only when allowed below)
    std::string ca_file;                     // empty: system default verify paths
    bool allow_plain_http_loopback = false;  // http:// refused unless host is loopback (127.0.0.0/8, ::1, localhost) AND this is true
    std::chrono::milliseconds timeout{30000};  // per resolve / connect / handshake / write / read
    std::string api_key;                     // sent as Authorization: Bearer; NEVER appears in any error/log text
    std::string stripe_version;              // Stripe-Version header (omitted when empty)
    std::string stripe_account;              // Stripe-Account header when non-empty
    std::string user_agent = "stripe-reconciler/0.1";
    std::size_t max_body_bytes = 32 * 1024 * 1024;
    std::size_t max_idle_connections = 16;   // idle keep-alive connections kept for reuse
};

// Throws std::invalid_argument (see contract above).
std::unique_ptr<transport> make_beast_transport(boost::asio::io_context& ioc, beast_transport_options opts);

// For the result of transport::probe(): throws std::invalid_argument when the
// server's certificate was refused (transport_error::tls), naming the
// verification failure and the config key that fixes it. Any other outcome
// (connected, refused, timed out) returns: those are the run's to retry and
// report.
void refuse_tls_failure(const transport_result& probed, const std::string& base_url);

}  // namespace reconciler::stripe
