// One of the two client TUs that include Beast and OpenSSL (the slowest to
// compile): keep everything HTTP- and TLS-specific here.
#include "stripe/beast_transport.hpp"

#include "stripe/resolve.hpp"
#include "stripe/tls.hpp"
#include "stripe/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace reconciler::stripe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

// ------------------------------------------------------------------ transport

namespace {

// One keep-alive connection: exactly one of the two streams is engaged.
struct connection {
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    std::optional<beast::tcp_stream> plain;
    beast::flat_buffer buffer;
    bool reused = false;  // it already served a response, so the server may have closed it since

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

struct exchange_outcome {
    transport_result result;
    bool keep_alive = false;
    // Failed at write or before the first response byte with a "peer closed"
    // error: on a reused connection that means the server dropped it while idle.
    bool stale = false;
};

transport_result failure(transport_error e, std::string detail) {
    transport_result r;
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

bool is_peer_closed(const error_code& ec) {
    return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == ssl::error::stream_truncated;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

class beast_transport final : public transport {
public:
    beast_transport(asio::io_context& ioc, beast_transport_options opts, http_url url,
                    std::optional<ssl::context> ctx)
        : ioc_(ioc), opts_(std::move(opts)), url_(std::move(url)), ctx_(std::move(ctx)) {
        host_port_ = url_.host_port();
        host_header_ = url_.host_header();
        timeout_text_ = "timed out after " + std::to_string(opts_.timeout.count()) + " ms";
    }

    asio::awaitable<transport_result> get(std::string target) override {
        if (target.empty() || target.front() != '/' ||
            std::any_of(target.begin(), target.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
            throw std::invalid_argument("GET: target must be an encoded path starting with '/'");

        http::request<http::empty_body> req{http::verb::get, url_.path + target, 11};
        req.set(http::field::host, host_header_);
        req.set(http::field::user_agent, opts_.user_agent);
        req.set(http::field::accept, "application/json");
        req.set(http::field::authorization, "Bearer " + opts_.api_key);
        if (!opts_.stripe_version.empty()) req.set("Stripe-Version", opts_.stripe_version);
        if (!opts_.stripe_account.empty()) req.set("Stripe-Account", opts_.stripe_account);
        req.keep_alive(true);

        // At most two rounds: the second only when a reused connection turned
        // out to be closed by the server, and then always on a new connection.
        for (int round = 0; round < 2; ++round) {
            std::unique_ptr<connection> conn;
            if (round == 0 && !idle_.empty()) {
                conn = std::move(idle_.back());  // LIFO: the most recently used is the least likely stale
                idle_.pop_back();
            }
            if (!conn) {
                transport_result error;
                conn = co_await open(error);
                if (!conn) co_return error;
            }
            // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (double destruction).
            exchange_outcome out;
            if (conn->tls)
                out = co_await exchange(*conn->tls, *conn, req);
            else
                out = co_await exchange(*conn->plain, *conn, req);
            if (out.result.error == transport_error::none) {
                if (out.keep_alive && idle_.size() < opts_.max_idle_connections) {
                    conn->reused = true;
                    idle_.push_back(std::move(conn));
                }
                co_return std::move(out.result);
            }
            if (!(out.stale && conn->reused)) co_return std::move(out.result);
        }
        co_return failure(transport_error::reset, "GET " + host_port_ + ": connection closed twice");  // unreachable
    }

    asio::awaitable<transport_result> probe() override {
        if (!idle_.empty()) co_return transport_result{};
        transport_result error;
        auto conn = co_await open(error);
        if (!conn) co_return error;
        // Marked as reused: the server may close it before the first get(),
        // and then get() retries once on a fresh connection.
        conn->reused = true;
        idle_.push_back(std::move(conn));
        co_return transport_result{};
    }

private:
    // Resolve + connect (+ TLS handshake). Returns null and sets `error` on failure.
    asio::awaitable<std::unique_ptr<connection>> open(transport_result& error) {
        // Everything lives on the transport's io_context (see the threading contract).
        asio::any_io_executor ex = ioc_.get_executor();

        detail::resolved r = co_await detail::resolve_endpoints(ex, url_, opts_.timeout, timeout_text_);
        if (r.endpoints.empty()) {
            error = failure(r.timed_out ? transport_error::timeout : transport_error::connect, std::move(r.error));
            co_return nullptr;
        }
        const std::vector<tcp::endpoint>& endpoints = r.endpoints;

        auto conn = std::make_unique<connection>();
        if (url_.tls)
            conn->tls.emplace(ex, *ctx_);
        else
            conn->plain.emplace(ex);

        auto& lowest = conn->lowest();
        lowest.expires_after(opts_.timeout);
        auto [cec, endpoint] = co_await lowest.async_connect(endpoints, use_tuple);
        (void)endpoint;
        if (cec) {
            error = cec == beast::error::timeout
                        ? failure(transport_error::timeout, "connect " + host_port_ + ": " + timeout_text_)
                        : failure(transport_error::connect, "connect " + host_port_ + ": " + cec.message());
            co_return nullptr;
        }
        if (!url_.tls) co_return conn;

        SSL* ssl_handle = conn->tls->native_handle();
        if (!tls::expect_peer(ssl_handle, url_.host, url_.host_is_ip)) {
            error = failure(transport_error::tls, "TLS setup for " + host_port_ + ": cannot set the expected host name");
            co_return nullptr;
        }
        conn->tls->set_verify_mode(ssl::verify_peer);

        lowest.expires_after(opts_.timeout);
        auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_tuple);
        if (hec) {
            const std::string what = "TLS handshake with " + host_port_ + ": ";
            if (hec == beast::error::timeout)
                error = failure(transport_error::timeout, what + timeout_text_);
            else if (hec == asio::error::operation_aborted)
                error = failure(transport_error::cancelled, what + "cancelled");
            else if (is_peer_closed(hec))
                // The peer hung up before deciding anything: transient, not a
                // verdict on its certificate.
                error = failure(transport_error::reset, what + hec.message());
            else
                error = failure(transport_error::tls, what + tls::error_text(hec, ssl_handle));
            co_return nullptr;
        }
        co_return conn;
    }

    template <class Stream>
    asio::awaitable<exchange_outcome> exchange(Stream& stream, connection& conn,
                                               const http::request<http::empty_body>& req) {
        exchange_outcome out;
        auto& lowest = conn.lowest();

        lowest.expires_after(opts_.timeout);
        auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
        (void)written;
        if (wec) {
            out.result = map_io_error(wec, "send request to " + host_port_, false);
            out.stale = is_peer_closed(wec);
            co_return out;
        }

        http::response_parser<http::string_body> parser;
        parser.body_limit(opts_.max_body_bytes);
        parser.header_limit(64 * 1024);
        lowest.expires_after(opts_.timeout);
        auto [rec, read] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
        (void)read;
        if (rec) {
            out.result = map_io_error(rec, "read response from " + host_port_, parser.got_some());
            out.stale = !parser.got_some() && is_peer_closed(rec);
            co_return out;
        }

        auto res = parser.release();
        out.keep_alive = res.keep_alive();
        http_response& r = out.result.response;
        r.status = res.result_int();
        if (auto it = res.find("Request-Id"); it != res.end()) r.request_id = trim(it->value());
        if (auto it = res.find("Stripe-Should-Retry"); it != res.end()) {
            const std::string v = lower(trim(it->value()));
            if (v == "true") r.should_retry = true;
            if (v == "false") r.should_retry = false;
        }
        if (auto it = res.find(http::field::retry_after); it != res.end()) {
            // Delta-seconds only; an HTTP-date is ignored (the client backs off on its own).
            const std::string v = trim(it->value());
            unsigned long long seconds = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
            if (ec == std::errc() && end == v.data() + v.size())
                r.retry_after = std::chrono::seconds(std::min<unsigned long long>(seconds, 86400));
        }
        r.body = std::move(res.body());
        co_return out;
    }

    transport_result map_io_error(const error_code& ec, const std::string& what, bool got_some) const {
        if (ec == beast::error::timeout) return failure(transport_error::timeout, what + ": " + timeout_text_);
        if (ec == asio::error::operation_aborted) return failure(transport_error::cancelled, what + ": cancelled");
        if (ec == http::error::body_limit)
            return failure(transport_error::protocol, what + ": body exceeds the limit of " +
                                                          std::to_string(opts_.max_body_bytes) + " bytes");
        if (ec == http::error::partial_message || ec == ssl::error::stream_truncated)
            return failure(transport_error::truncated, what + ": " + ec.message());
        if (ec == http::error::end_of_stream || ec == asio::error::eof)
            return failure(transport_error::reset,
                           what + (got_some ? ": connection closed mid-response" : ": connection closed before a response"));
        if (ec.category() == http::make_error_code(http::error::end_of_stream).category())
            return failure(transport_error::protocol, what + ": malformed HTTP: " + ec.message());
        // Everything else the network can do to an open connection (reset,
        // broken pipe, unreachable) is worth another attempt.
        return failure(transport_error::reset, what + ": " + ec.message());
    }

    asio::io_context& ioc_;
    beast_transport_options opts_;
    http_url url_;
    std::optional<ssl::context> ctx_;  // engaged for https://
    std::string host_port_;    // for messages: "127.0.0.1:12111"
    std::string host_header_;  // Host: omits a default port
    std::string timeout_text_;
    std::vector<std::unique_ptr<connection>> idle_;
};

bool has_control_chars(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

std::unique_ptr<transport> make_beast_transport(asio::io_context& ioc, beast_transport_options opts) {
    http_url url = parse_base_url(opts.base_url);
    const std::string where = "stripe base_url \"" + opts.base_url + "\": ";
    if (!url.tls) {
        if (!is_loopback_host(url.host))
            throw std::invalid_argument(where + "plain http:// is refused for non-loopback host " + url.host +
                                        " (the API key would cross the network unencrypted); use https://");
        if (!opts.allow_plain_http_loopback)
            throw std::invalid_argument(where +
                                        "plain http:// is refused unless allow_plain_http_loopback is true "
                                        "(meant for a local simulator on 127.0.0.0/8, ::1 or localhost); "
                                        "otherwise use https://");
    }
    // Never echo the key: say what is wrong with it and where to look.
    if (opts.api_key.empty())
        throw std::invalid_argument("stripe API key is empty: check the configured key source");
    if (has_control_chars(opts.api_key) || opts.api_key.find(' ') != std::string::npos)
        throw std::invalid_argument(
            "stripe API key contains whitespace or control characters: check the key source for a stray newline");
    if (has_control_chars(opts.stripe_version) || has_control_chars(opts.stripe_account) ||
        has_control_chars(opts.user_agent))
        throw std::invalid_argument("stripe Stripe-Version, Stripe-Account or User-Agent contains control characters");
    if (opts.timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("stripe request timeout must be positive, got " +
                                    std::to_string(opts.timeout.count()) + " ms");
    if (opts.max_body_bytes == 0) throw std::invalid_argument("stripe max_body_bytes must be positive");

    std::optional<ssl::context> ctx;
    if (url.tls) ctx.emplace(tls::make_client_context(opts.ca_file, {"stripe", "ca_file", "ca_file", "set ca_file"}));
    return std::make_unique<beast_transport>(ioc, std::move(opts), std::move(url), std::move(ctx));
}

void refuse_tls_failure(const transport_result& r, const std::string& base_url) {
    if (r.error != transport_error::tls) return;
    // The verification result OpenSSL gave, turned into the fix.
    std::string fix;
    if (r.detail.find("expired") != std::string::npos)
        fix = "the server's certificate has expired: renew it (or check this machine's clock)";
    else if (r.detail.find("mismatch") != std::string::npos)
        fix = "the certificate does not name the host in stripe.base_url: use the host name it was issued for";
    else if (r.detail.find("issuer") != std::string::npos || r.detail.find("self-signed") != std::string::npos ||
             r.detail.find("self signed") != std::string::npos)
        fix = "the certificate does not chain to a trusted CA: point stripe.ca_file at the CA that signed it "
              "(unset it for api.stripe.com and install ca-certificates)";
    else
        fix = "check stripe.base_url and stripe.ca_file";
    throw std::invalid_argument("stripe base_url \"" + base_url + "\": certificate refused (" + r.detail + "); " + fix);
}

}  // namespace reconciler::stripe
