// Delivers one webhook request (a replayed Stripe event) to the app's
// endpoint over HTTPS (runbook §4 without the Stripe CLI).
//
// Contract:
//  - The URL is read by parse_forward_url() (url.hpp), before anything else.
//  - forward_webhook() POSTs `body` once (no retries, no redirects followed)
//    with the given headers plus Host and Content-Length, and
//    `Connection: close`. TLS: the peer chain is verified against ca_file (or
//    the system store), the certificate must match the URL's host (DNS name
//    or IP literal), SNI is sent for DNS names, TLS 1.2 minimum. Plain http
//    connects only to loopback addresses, whatever the name resolves to.
//  - Every step (resolve, connect, handshake, write, read) has its own
//    `timeout` deadline. Network failures come back as values
//    (forward_result::delivered == false with `error` naming the step);
//    setup problems (bad URL, unreadable CA file, a header with CR/LF)
//    throw std::invalid_argument before anything is sent.
//  - The exchange itself is post_once() (https_post.hpp), shared with the
//    escalation senders.
//  - Threading: runs on the caller's executor (one io_context on one thread).
#pragma once

#include "stripe/https_post.hpp"  // post_result, header_list
#include "stripe/url.hpp"         // forward_url, parse_forward_url

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace reconciler::stripe {

// delivered, status, body (the first max_body_bytes bytes), body_truncated,
// retry_after, error: see https_post.hpp.
using forward_result = post_result;

// POSTs `body` to `url`. `ca_file` empty: the system CA store. Only the first
// `max_body_bytes` of the answer are kept.
boost::asio::awaitable<forward_result> forward_webhook(std::string url, std::string body, header_list headers,
                                                       std::string ca_file, std::chrono::milliseconds timeout,
                                                       std::size_t max_body_bytes = 64 * 1024);

}  // namespace reconciler::stripe
