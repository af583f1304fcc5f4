// The webhook replay's HTTPS POST. Includes Beast and OpenSSL (each such TU
// costs ~25 s to compile): keep everything HTTP- and TLS-specific here.
#include "stripe/webhook_forwarder.hpp"

#include "stripe/beast_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <stdexcept>

namespace reconciler::stripe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool bad_char(unsigned char c) { return c <= 0x20 || c >= 0x7f; }

bool has_crlf_or_nul(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// OpenSSL's reason text plus the X.509 verification result, which says why a
// certificate was refused.
std::string tls_error_text(const error_code& ec, SSL* ssl) {
    std::string text;
    if (ec.category() == asio::error::get_ssl_category()) {
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
        text = reason ? reason : ec.message();
    } else {
        text = ec.message();
    }
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    return text;
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

ssl::context make_tls_context(const std::string& ca_file) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
        throw std::invalid_argument("webhook forward TLS: cannot require TLS 1.2 or newer");
    ctx.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec)
            throw std::invalid_argument("webhook forward TLS: cannot load the system CA store (" + ec.message() +
                                        "); install ca-certificates or pass --ca-file");
    } else {
        ctx.load_verify_file(ca_file, ec);
        if (ec)
            throw std::invalid_argument("webhook forward CA file \"" + ca_file + "\": cannot load CA certificates (" +
                                        ec.message() + "); point --ca-file at a readable PEM bundle");
    }
    return ctx;
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

forward_url parse_forward_url(const std::string& url) {
    std::string scheme;
    std::string rest;
    auto lower_prefix = [&](std::size_t n) {
        std::string p = url.substr(0, std::min(n, url.size()));
        std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return p;
    };
    if (lower_prefix(8) == "https://") {
        scheme = "https";
        rest = url.substr(8);
    } else if (lower_prefix(7) == "http://") {
        scheme = "http";
        rest = url.substr(7);
    } else {
        throw std::invalid_argument("--forward-to: expected an https:// URL such as https://app.example.com/api/billing/webhook");
    }
    rest = rest.substr(0, rest.find('#'));  // a fragment is never sent
    const auto authority_end = rest.find_first_of("/?");
    const std::string authority = rest.substr(0, authority_end);
    std::string target = authority_end == std::string::npos ? std::string() : rest.substr(authority_end);
    const std::string path = target.substr(0, target.find('?'));

    forward_url out;
    // User info would be a credential: never in a message or a log line.
    const auto at = authority.rfind('@');
    out.for_log = scheme + "://" + (at == std::string::npos ? authority : "***@" + authority.substr(at + 1)) + path;
    const std::string where = "--forward-to URL \"" + out.for_log + "\": ";
    detail::base_url_parts parts;
    try {
        parts = detail::parse_base_url(scheme + "://" + authority);
    } catch (const std::invalid_argument& e) {
        // parse_base_url says `stripe base_url "<url>": why`: keep only the why.
        std::string why = e.what();
        if (const auto pos = why.find("\": "); pos != std::string::npos) why = why.substr(pos + 3);
        if (authority.find('@') != std::string::npos) why = "credentials do not belong in the URL";
        throw std::invalid_argument(where + why);
    }
    if (std::any_of(target.begin(), target.end(), [](unsigned char c) { return bad_char(c); }))
        throw std::invalid_argument(where + "the path or query contains whitespace or non-ASCII characters (percent-encode them)");
    if (target.empty() || target.front() == '?') target.insert(0, "/");
    if (!parts.tls && !detail::is_loopback_host(parts.host))
        throw std::invalid_argument(where + "plain http:// is refused for non-loopback host " + parts.host +
                                    " (the signed event would cross the network unencrypted); use https://");
    out.tls = parts.tls;
    out.host = parts.host;
    out.port = parts.port;
    out.target = std::move(target);
    return out;
}

asio::awaitable<forward_result> forward_webhook(std::string url, std::string body, header_list headers,
                                                std::string ca_file, std::chrono::milliseconds timeout,
                                                std::size_t max_body_bytes) {
    // Everything that can be refused is refused before the first byte is sent.
    const forward_url u = parse_forward_url(url);
    if (timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("webhook forward timeout must be positive");
    for (const auto& [name, value] : headers) {
        if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) { return bad_char(c) || c == ':'; }))
            throw std::invalid_argument("webhook forward: invalid header name \"" + name + "\"");
        if (has_crlf_or_nul(value))
            throw std::invalid_argument("webhook forward: header " + name + " contains CR, LF or NUL");
    }
    std::optional<ssl::context> ctx;
    if (u.tls) ctx.emplace(make_tls_context(ca_file));

    const bool v6 = u.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + u.host + "]" : u.host;
    const std::string host_port = host + ":" + u.port;
    const bool default_port = u.port == (u.tls ? "443" : "80");
    const std::string timeout_text = "timed out after " + std::to_string(timeout.count()) + " ms";

    http::request<http::string_body> req{http::verb::post, u.target, 11};
    req.set(http::field::host, default_port ? host : host_port);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(false);
    req.body() = std::move(body);
    req.prepare_payload();

    auto ex = co_await asio::this_coro::executor;

    // Resolve, under a deadline. The resolver has no per-operation timeout:
    // a timer cancels it, holding only a weak reference to it.
    struct resolve_state {
        explicit resolve_state(asio::any_io_executor e) : resolver(std::move(e)) {}
        tcp::resolver resolver;
        bool timed_out = false;
    };
    auto state = std::make_shared<resolve_state>(ex);
    asio::steady_timer resolve_deadline(ex, timeout);
    resolve_deadline.async_wait([weak = std::weak_ptr<resolve_state>(state)](error_code ec) {
        if (ec) return;
        if (auto s = weak.lock()) {
            s->timed_out = true;
            s->resolver.cancel();
        }
    });
    auto [rec, results] = co_await state->resolver.async_resolve(u.host, u.port, tcp::resolver::numeric_service, use_tuple);
    resolve_deadline.cancel();
    if (state->timed_out) co_return failed("resolve " + u.host + ": " + timeout_text);
    if (rec) co_return failed("resolve " + u.host + ": " + rec.message());

    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) {
        // Plain http only to loopback: checked on what the name resolved to.
        if (!u.tls && !entry.endpoint().address().is_loopback()) continue;
        endpoints.push_back(entry.endpoint());
    }
    if (endpoints.empty()) co_return failed("resolve " + u.host + ": no loopback address (plain http is loopback-only)");

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
    // SNI carries DNS names only (RFC 6066); the certificate must match the
    // host we dialled, as a DNS name or as an IP address SAN.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    error_code ip_ec;
    (void)asio::ip::make_address(u.host, ip_ec);
    const bool host_is_ip = !ip_ec;
    const bool configured = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str()) == 1
                                       : SSL_set_tlsext_host_name(ssl_handle, u.host.c_str()) == 1 &&
                                             X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), u.host.size()) == 1;
    if (!configured) co_return failed("TLS setup for " + host_port + ": cannot set the expected host name");
    stream.set_verify_mode(ssl::verify_peer);

    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
        const std::string what = "TLS handshake with " + host_port + ": ";
        if (hec == beast::error::timeout || hec == asio::error::operation_aborted)
            co_return failed(what + io_error_text(hec, timeout_text));
        co_return failed(what + tls_error_text(hec, ssl_handle));
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
