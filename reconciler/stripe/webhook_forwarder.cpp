// The webhook replay's HTTPS POST. Includes Beast and OpenSSL (slow to
// compile): keep everything HTTP- and TLS-specific here.
#include "stripe/webhook_forwarder.hpp"

#include "stripe/resolve.hpp"
#include "stripe/tls.hpp"
#include "stripe/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <stdexcept>

namespace reconciler::stripe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

namespace {

bool bad_char(unsigned char c) { return c <= 0x20 || c >= 0x7f; }

bool has_crlf_or_nul(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string io_error_text(const error_code& ec, const std::string& timeout_text) {
    if (ec == beast::error::timeout) return timeout_text;
    if (ec == asio::error::operation_aborted) return "cancelled";
    return ec.message();
}

forward_result failed(std::string error) {
    forward_result r;
    r.error = std::move(error);
    return r;
}

template <class Stream>
asio::awaitable<forward_result> exchange(Stream& stream, beast::tcp_stream& lowest,
                                         const http::request<http::string_body>& req, const std::string& where,
                                         const std::string& timeout_text, std::chrono::milliseconds timeout,
                                         std::size_t max_body_bytes) {
    lowest.expires_after(timeout);
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    (void)written;
    if (wec) co_return failed("send request to " + where + ": " + io_error_text(wec, timeout_text));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(max_body_bytes);
    lowest.expires_after(timeout);
    auto [hec, hread] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)hread;
    if (hec == http::error::body_limit && parser.is_header_done()) {
        // A Content-Length beyond the limit: the status is all we keep.
        forward_result r;
        r.delivered = true;
        r.status = parser.get().result_int();
        r.body_truncated = true;
        co_return r;
    }
    if (hec) {
        if (hec == http::error::end_of_stream || hec == asio::error::eof)
            co_return failed("read response from " + where + ": connection closed before a response");
        co_return failed("read response from " + where + ": " + io_error_text(hec, timeout_text));
    }
    forward_result r;
    r.delivered = true;
    r.status = parser.get().result_int();
    if (!parser.is_done()) {
        lowest.expires_after(timeout);
        auto [bec, bread] = co_await http::async_read(stream, buffer, parser, use_tuple);
        (void)bread;
        if (bec == http::error::body_limit) {
            r.body_truncated = true;
        } else if (bec) {
            // The status line is the app's verdict; a broken body does not change it.
            r.body_truncated = true;
            r.error = "read response body from " + where + ": " + io_error_text(bec, timeout_text);
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

asio::awaitable<forward_result> forward_webhook(std::string url, std::string body, header_list headers,
                                                std::string ca_file, std::chrono::milliseconds timeout,
                                                std::size_t max_body_bytes) {
    // Everything that can be refused is refused before the first byte is sent.
    const forward_url f = parse_forward_url(url);
    const http_url& u = f.endpoint;
    if (timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("webhook forward timeout must be positive");
    for (const auto& [name, value] : headers) {
        if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) { return bad_char(c) || c == ':'; }))
            throw std::invalid_argument("webhook forward: invalid header name \"" + name + "\"");
        if (has_crlf_or_nul(value))
            throw std::invalid_argument("webhook forward: header " + name + " contains CR, LF or NUL");
    }
    std::optional<ssl::context> ctx;
    if (u.tls) ctx.emplace(tls::make_client_context(ca_file, {"webhook forward", "CA file", "--ca-file", "pass --ca-file"}));

    const std::string host_port = u.host_port();
    const std::string timeout_text = "timed out after " + std::to_string(timeout.count()) + " ms";

    http::request<http::string_body> req{http::verb::post, f.target, 11};
    req.set(http::field::host, u.host_header());
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(false);
    req.body() = std::move(body);
    req.prepare_payload();

    auto ex = co_await asio::this_coro::executor;

    detail::resolved resolved = co_await detail::resolve_endpoints(ex, u, timeout, timeout_text);
    if (resolved.endpoints.empty()) co_return failed(std::move(resolved.error));
    const std::vector<tcp::endpoint>& endpoints = resolved.endpoints;

    beast::tcp_stream plain(ex);
    plain.expires_after(timeout);
    auto [cec, endpoint] = co_await plain.async_connect(endpoints, use_tuple);
    (void)endpoint;
    if (cec) co_return failed("connect " + host_port + ": " + io_error_text(cec, timeout_text));

    if (!u.tls) {
        forward_result r = co_await exchange(plain, plain, req, host_port, timeout_text, timeout, max_body_bytes);
        error_code ignored;
        plain.socket().shutdown(tcp::socket::shutdown_both, ignored);
        plain.close();
        co_return r;
    }

    beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *ctx);
    SSL* ssl_handle = stream.native_handle();
    if (!tls::expect_peer(ssl_handle, u.host, u.host_is_ip)) co_return failed("TLS setup for " + host_port + ": cannot set the expected host name");
    stream.set_verify_mode(ssl::verify_peer);

    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
        const std::string what = "TLS handshake with " + host_port + ": ";
        if (hec == beast::error::timeout || hec == asio::error::operation_aborted)
            co_return failed(what + io_error_text(hec, timeout_text));
        co_return failed(what + tls::error_text(hec, ssl_handle));
    }

    forward_result r = co_await exchange(stream, lowest, req, host_port, timeout_text, timeout, max_body_bytes);
    if (r.delivered && r.error.empty()) {
        // Polite close_notify; whatever the peer does next changes nothing.
        lowest.expires_after(std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(2000)));
        auto [sec] = co_await stream.async_shutdown(use_tuple);
        (void)sec;
    }
    lowest.close();
    co_return r;
}

}  // namespace reconciler::stripe
