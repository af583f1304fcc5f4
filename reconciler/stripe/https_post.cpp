// One POST over HTTP(S), shared by the webhook forwarder and the escalation
// senders. Includes Beast and OpenSSL (slow to compile): keep everything
// HTTP- and TLS-specific for one-shot requests here.
#include "stripe/https_post.hpp"

#include "stripe/resolve.hpp"
#include "stripe/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>

namespace reconciler::stripe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;
using steady = std::chrono::steady_clock;

namespace {

// A step's expiry: its own timeout from now, never past the attempt's deadline.
struct step_clock {
    std::chrono::milliseconds step;
    steady::time_point deadline;
    std::string timeout_text;

    steady::time_point next() const {
        const auto now = steady::now();
        return deadline - now < step ? deadline : now + step;
    }
    std::chrono::milliseconds remaining() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(next() - steady::now());
    }
};

std::string io_error_text(const error_code& ec, const std::string& timeout_text) {
    if (ec == beast::error::timeout) return timeout_text;
    if (ec == asio::error::operation_aborted) return "cancelled";
    return ec.message();
}

post_result failed(std::string error) {
    post_result r;
    r.error = std::move(error);
    return r;
}

template <class Stream>
asio::awaitable<post_result> exchange(Stream& stream, beast::tcp_stream& lowest,
                                      const http::request<http::string_body>& req, const std::string& where,
                                      const step_clock& clock, std::size_t max_body_bytes) {
    lowest.expires_at(clock.next());
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    (void)written;
    if (wec) co_return failed("send request to " + where + ": " + io_error_text(wec, clock.timeout_text));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(max_body_bytes);
    lowest.expires_at(clock.next());
    auto [hec, hread] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)hread;
    post_result r;
    if (parser.is_header_done()) r.retry_after = std::string(parser.get()[http::field::retry_after]);
    if (hec == http::error::body_limit && parser.is_header_done()) {
        // A Content-Length beyond the limit: the status is all we keep.
        r.delivered = true;
        r.status = parser.get().result_int();
        r.body_truncated = true;
        co_return r;
    }
    if (hec) {
        if (hec == http::error::end_of_stream || hec == asio::error::eof)
            co_return failed("read response from " + where + ": connection closed before a response");
        co_return failed("read response from " + where + ": " + io_error_text(hec, clock.timeout_text));
    }
    r.delivered = true;
    r.status = parser.get().result_int();
    if (!parser.is_done()) {
        lowest.expires_at(clock.next());
        auto [bec, bread] = co_await http::async_read(stream, buffer, parser, use_tuple);
        (void)bread;
        if (bec == http::error::body_limit) {
            r.body_truncated = true;
        } else if (bec) {
            // The status line is the receiver's verdict; a broken body does not change it.
            r.body_truncated = true;
            r.error = "read response body from " + where + ": " + io_error_text(bec, clock.timeout_text);
        }
    }
    r.body = std::move(parser.get().body());
    if (r.body.size() > max_body_bytes) {
        r.body.resize(max_body_bytes);
        r.body_truncated = true;
    }
    co_return r;
}

}  // namespace

asio::awaitable<post_result> post_once(const http_url& u, const std::string& target, std::string body,
                                       const header_list& headers, const post_options& options) {
    if (options.step_timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("POST " + u.host_port() + ": the timeout must be positive");
    if (u.tls && !options.tls) throw std::invalid_argument("POST " + u.host_port() + ": https without a TLS context");
    const step_clock clock{options.step_timeout, options.deadline,
                           options.timeout_text.empty()
                               ? "timed out after " + std::to_string(options.step_timeout.count()) + " ms"
                               : options.timeout_text};
    const std::string host_port = u.host_port();

    http::request<http::string_body> req{http::verb::post, target.empty() ? "/" : target, 11};
    req.set(http::field::host, u.host_header());
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(false);
    req.body() = std::move(body);
    req.prepare_payload();

    auto ex = co_await asio::this_coro::executor;
    detail::resolved resolved = co_await detail::resolve_endpoints(ex, u, clock.remaining(), clock.timeout_text);
    if (resolved.endpoints.empty()) co_return failed(std::move(resolved.error));

    beast::tcp_stream plain(ex);
    plain.expires_at(clock.next());
    auto [cec, endpoint] = co_await plain.async_connect(resolved.endpoints, use_tuple);
    (void)endpoint;
    if (cec) co_return failed("connect " + host_port + ": " + io_error_text(cec, clock.timeout_text));

    if (!u.tls) {
        post_result r = co_await exchange(plain, plain, req, host_port, clock, options.max_body_bytes);
        error_code ignored;
        plain.socket().shutdown(tcp::socket::shutdown_both, ignored);
        plain.close();
        co_return r;
    }

    beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *options.tls);
    SSL* ssl_handle = stream.native_handle();
    if (!tls::expect_peer(ssl_handle, u.host, u.host_is_ip))
        co_return failed("TLS setup for " + host_port + ": cannot set the expected host name");
    stream.set_verify_mode(ssl::verify_peer);

    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(clock.next());
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
        const std::string what = "TLS handshake with " + host_port + ": ";
        if (hec == beast::error::timeout || hec == asio::error::operation_aborted)
            co_return failed(what + io_error_text(hec, clock.timeout_text));
        co_return failed(what + tls::error_text(hec, ssl_handle));
    }

    post_result r = co_await exchange(stream, lowest, req, host_port, clock, options.max_body_bytes);
    if (r.delivered && r.error.empty()) {
        // Polite close_notify; whatever the peer does next changes nothing.
        lowest.expires_at(std::min(clock.next(), steady::now() + std::chrono::milliseconds(2000)));
        auto [sec] = co_await stream.async_shutdown(use_tuple);
        (void)sec;
    }
    lowest.close();
    co_return r;
}

}  // namespace reconciler::stripe
