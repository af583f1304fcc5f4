// One HTTP(S) POST, one attempt: the exchange the webhook forwarder (replay)
// and the escalation senders (deliver/) share, so that both dial, verify
// peers and bound their waits the same way.
//
// Contract:
//  - post_once() resolves `endpoint` (plain http keeps only loopback
//    addresses, resolve.hpp), connects, for https does the TLS handshake
//    with `tls` (from tls::make_client_context: the peer must be named by
//    the certificate, SNI for DNS names), writes the request (the given
//    headers plus Host, Content-Length, `Connection: close`), reads the
//    answer and closes. No redirects are followed.
//  - Every network step gets its own expiry: `step_timeout` from the step's
//    start, never past `deadline` (the whole attempt's). Network failures
//    are values: delivered == false and `error` names the step and the
//    host:port ("connect 127.0.0.1:9: Connection refused"), never the
//    path or query (they may carry a credential).
//  - The answer's body is read up to `max_body_bytes`; a longer one is cut
//    (body_truncated), its status still counts. Retry-After is kept as sent.
//  - Headers are sent as given: callers check what they did not write
//    themselves (forward_webhook refuses CR/LF in a header).
//  - Threading: runs on the caller's executor; `tls` must outlive the call.
#pragma once

#include "stripe/url.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::stripe {

struct post_result {
    bool delivered = false;  // an HTTP response was read
    unsigned status = 0;     // when delivered
    std::string body;        // when delivered: the first max_body_bytes bytes of the answer
    bool body_truncated = false;
    std::string retry_after; // when delivered: the Retry-After header as sent, "" when none
    std::string error;       // when not delivered: step and reason, e.g. "connect 127.0.0.1:9: Connection refused"
};

using header_list = std::vector<std::pair<std::string, std::string>>;

struct post_options {
    boost::asio::ssl::context* tls = nullptr;  // required for https
    std::chrono::milliseconds step_timeout{10'000};
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::string timeout_text;  // how a passed expiry reads; "" : "timed out after <step_timeout> ms"
    std::size_t max_body_bytes = 64 * 1024;
};

// `target` is the request line's path and query ("/" at least).
boost::asio::awaitable<post_result> post_once(const http_url& endpoint, const std::string& target, std::string body,
                                              const header_list& headers, const post_options& options);

}  // namespace reconciler::stripe
