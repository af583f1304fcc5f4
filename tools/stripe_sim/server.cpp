// The only TU of the simulator that includes Beast and Asio-SSL (slow to
// compile): keep everything else Beast-free.
#include "stripe_sim/server.hpp"

#include "stripe/webhook_signature.hpp"
#include "stripe_sim/loopback_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <tuple>

namespace reconciler::sim {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

constexpr auto handshake_timeout = 10s;
constexpr auto idle_timeout = 75s;  // keep-alive idle, like nginx's default in front of Stripe
constexpr auto write_timeout = 30s;
constexpr auto shutdown_timeout = 2s;
constexpr std::size_t max_request_body = 64 * 1024;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

enum class fault { none, too_many_requests, server_error, reset, truncated, malformed, stall, slow_body };

// How a connection ends after serving.
enum class close_mode { graceful, drop, reset };

// Disconnects, timeouts and TLS alerts are what clients (and fault tests) do
// all the time: not worth a line on stderr.
bool quiet_error(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted ||
           ec == net::error::connection_reset || ec == net::error::connection_aborted ||
           ec == net::error::eof || ec == net::error::broken_pipe || ec == net::error::not_connected ||
           ec == net::error::bad_descriptor || ec == beast::error::timeout;
}

std::string json_error(std::string_view type, std::string_view code, std::string_view message,
                       std::string_view param) {
    boost::json::object err{{"type", type}, {"code", code}, {"message", message}, {"param", param}};
    return boost::json::serialize(boost::json::object{{"error", std::move(err)}});
}

// Stripe shows a key's public prefix and last four characters; a short or
// unrecognised key shows no more than its last four (none when very short).
std::string mask_key(std::string_view key) {
    std::string_view prefix;
    for (std::string_view p : {"sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"})
        if (key.starts_with(p)) prefix = p;
    const std::string_view rest = key.substr(prefix.size());
    const std::string_view tail = rest.size() > 8 ? rest.substr(rest.size() - 4) : std::string_view{};
    return std::string(prefix) + "****" + std::string(tail);
}

// A uniform double in [0, 1) from the top 53 bits: identical on every
// platform, unlike std::uniform_real_distribution.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

template <class Stream>
tcp::socket& raw_socket(Stream& s) {
    return beast::get_lowest_layer(s).socket();
}

void close_socket(tcp::socket& s, close_mode mode) {
    beast::error_code ec;
    if (mode == close_mode::reset) s.set_option(net::socket_base::linger(true, 0), ec);  // RST, not FIN
    else s.shutdown(tcp::socket::shutdown_both, ec);
    s.close(ec);
}

net::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(d);
    co_await timer.async_wait(use_tuple);
}

}  // namespace

struct server::impl {
    server_options opts;
    net::ssl::context ssl_ctx{net::ssl::context::tls_server};
    unsigned short bound_port = 0;

    std::atomic<std::uint64_t> n_requests{0}, n_ok{0}, n_rate_limited{0}, n_faults{0}, n_unauthorized{0};
    mutable std::mutex webhook_mutex;  // guards webhooks: written by the server thread, read by stats()
    std::vector<webhook_delivery> webhooks;
    std::atomic<bool> stopping{false};
    std::mutex stop_mutex;  // serialises stop(): joining a thread twice is undefined
    bool stopped = false;

    // Touched only by the server thread.
    std::mt19937_64 fault_rng;
    std::mt19937_64 id_rng;
    double tokens = 0;
    std::chrono::steady_clock::time_point last_refill = std::chrono::steady_clock::now();

    std::thread thread;
    // Declared last: destroying the io_context destroys the suspended
    // coroutines, which still use the members above.
    std::optional<net::io_context> ioc;
    std::optional<tcp::acceptor> acceptor;

    explicit impl(server_options o)
        : opts(std::move(o)), fault_rng(opts.faults.seed), id_rng(opts.faults.seed ^ 0x9e3779b97f4a7c15ULL) {}

    // ------------------------------------------------------------ requests

    std::string request_id() {
        static constexpr std::string_view alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::string id = "req_";
        for (int i = 0; i < 14; ++i) id += alnum[id_rng() % alnum.size()];
        return id;
    }

    bool take_token() {
        const double rate = opts.rate_limit_per_second;
        if (rate <= 0) return true;
        const auto now = std::chrono::steady_clock::now();
        const double capacity = std::max(1.0, rate);  // one second's worth of burst
        tokens = std::min(capacity, tokens + std::chrono::duration<double>(now - last_refill).count() * rate);
        last_refill = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }

    // Two draws per request, always, so the fault sequence depends only on
    // the order of requests, not on which faults are enabled.
    std::pair<fault, double> draw_fault() {
        const double u = unit(fault_rng), v = unit(fault_rng);
        const auto& f = opts.faults;
        const std::array<std::pair<double, fault>, 7> table{{{f.rate_429, fault::too_many_requests},
                                                             {f.rate_5xx, fault::server_error},
                                                             {f.rate_reset, fault::reset},
                                                             {f.rate_truncated, fault::truncated},
                                                             {f.rate_malformed, fault::malformed},
                                                             {f.rate_stall, fault::stall},
                                                             {f.rate_slow_body, fault::slow_body}}};
        double edge = 0;
        for (const auto& [rate, kind] : table) {
            edge += std::max(0.0, rate);
            if (u < edge) return {kind, v};
        }
        return {fault::none, v};
    }

    bool is_webhook(const request& req) const {
        if (opts.webhook_secret.empty() || req.method() != http::verb::post) return false;
        const std::string_view target = req.target();
        return target.substr(0, target.find('?')) == "/webhook";
    }

    // The app's side of a webhook: verify the signature over the raw body.
    unsigned receive_webhook(const request& req, std::string& body_out) {
        const std::string_view header = req["Stripe-Signature"];
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const auto verdict =
            reconciler::stripe::verify_stripe_signature(header, opts.webhook_secret, req.body(), now, 300);
        webhook_delivery d;
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(req.body(), ec);
        if (!ec && v.is_object()) {
            if (const auto* id = v.as_object().if_contains("id"); id && id->is_string()) d.event_id = id->as_string();
            if (const auto* t = v.as_object().if_contains("type"); t && t->is_string()) d.event_type = t->as_string();
        }
        d.verdict = reconciler::stripe::to_string(verdict);
        d.status = verdict == reconciler::stripe::signature_check::valid ? 200 : 400;
        d.user_agent = std::string(req[http::field::user_agent]);
        d.content_type = std::string(req[http::field::content_type]);
        d.target = std::string(req.target());
        body_out = d.status == 200 ? std::string(R"({"received":true})")
                                   : boost::json::serialize(boost::json::object{{"error", "signature " + d.verdict}});
        const unsigned status = d.status;
        std::lock_guard lock(webhook_mutex);
        webhooks.push_back(std::move(d));
        return status;
    }

    // Decides the whole answer to one request: the response and the fault
    // that shapes how it is delivered.
    std::pair<response, fault> answer(const request& req) {
        n_requests.fetch_add(1, std::memory_order_relaxed);
        response res{http::status::ok, req.version()};
        res.keep_alive(req.keep_alive());
        res.set(http::field::server, "stripe-sim");
        res.set(http::field::content_type, "application/json");
        res.set("Request-Id", request_id());
        if (auto v = req.find("Stripe-Version"); v != req.end()) res.set("Stripe-Version", v->value());

        auto finish = [&](unsigned status, std::string body, fault f = fault::none) {
            res.result(status);
            res.body() = std::move(body);
            res.prepare_payload();
            return std::pair<response, fault>{std::move(res), f};
        };

        if (is_webhook(req)) {
            std::string body;
            const unsigned status = receive_webhook(req, body);
            if (status < 300) n_ok.fetch_add(1, std::memory_order_relaxed);
            return finish(status, std::move(body));
        }

        const std::string_view auth = req[http::field::authorization];
        const std::string expected = "Bearer " + opts.api_key;
        if (auth.size() != expected.size() || CRYPTO_memcmp(auth.data(), expected.data(), auth.size()) != 0) {
            n_unauthorized.fetch_add(1, std::memory_order_relaxed);
            res.set(http::field::www_authenticate, "Bearer realm=\"Stripe\"");
            std::string message;
            if (auth.empty()) {
                message = "You did not provide an API key. You need to provide your API key in the Authorization "
                          "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
            } else {
                std::string_view key = auth;
                if (key.starts_with("Bearer ")) key.remove_prefix(7);
                message = "Invalid API Key provided: " + mask_key(key);
            }
            boost::json::object err{{"type", "invalid_request_error"}, {"message", message}};
            return finish(401, boost::json::serialize(boost::json::object{{"error", std::move(err)}}));
        }

        const std::string_view target = req.target();
        if (req.method() != http::verb::get) {
            res.set(http::field::allow, "GET");
            return finish(405, json_error("invalid_request_error", "",
                                          "Method " + std::string(req.method_string()) + " not allowed on " +
                                              std::string(target.substr(0, target.find('?'))) +
                                              ": the simulator serves Stripe's read API (GET) only",
                                          ""));
        }

        fault f = fault::none;
        double v = 0;
        if (target.starts_with("/v1/")) {
            std::tie(f, v) = draw_fault();
            if (!take_token()) {
                n_rate_limited.fetch_add(1, std::memory_order_relaxed);
                return finish(429, json_error("invalid_request_error", "rate_limit",
                                              "Request rate limit exceeded. You can learn more about rate limits "
                                              "here https://stripe.com/docs/rate-limits.",
                                              ""));
            }
        }
        if (f != fault::none) n_faults.fetch_add(1, std::memory_order_relaxed);
        switch (f) {
        case fault::too_many_requests:
            n_rate_limited.fetch_add(1, std::memory_order_relaxed);
            if (v < 0.5) res.set(http::field::retry_after, "1");
            return finish(429, json_error("invalid_request_error", "rate_limit",
                                          "Request rate limit exceeded (injected by stripe-sim).", ""));
        case fault::server_error: {
            static constexpr std::array<unsigned, 3> statuses{500, 502, 503};
            const double third = v * 3;
            const auto pick = std::min<std::size_t>(2, static_cast<std::size_t>(third));
            if (third - std::floor(third) < 0.5) res.set("Stripe-Should-Retry", "true");
            return finish(statuses[pick], json_error("api_error", "",
                                                     "An unknown error occurred (injected by stripe-sim).", ""));
        }
        case fault::malformed:
            return finish(200, R"({"object":"list","data":[{"id":"evt_)" "<html>502 Bad Gateway</html>", f);
        default:
            break;
        }

        if (const auto resource = dataset::resource_of(target);
            resource && std::find(opts.forbidden_resources.begin(), opts.forbidden_resources.end(), *resource) !=
                            opts.forbidden_resources.end())
            return finish(403, json_error("invalid_request_error", "",
                                          "The provided key '" + mask_key(opts.api_key) +
                                              "' does not have the required permissions for this endpoint. "
                                              "Having the '" + dataset::read_permission(*resource) +
                                              "' permission would allow this request to continue.",
                                          ""));
        const auto version = req.find("Stripe-Version");
        const std::string_view api_version =
            version != req.end() ? std::string_view(version->value()) : std::string_view(opts.default_api_version);
        http_result result = opts.data->handle_get(target, api_version);
        if (opts.rewrite_body && result.status < 300) result.body = opts.rewrite_body(target, std::move(result.body));
        if (result.status < 300 && f != fault::reset && f != fault::truncated)
            n_ok.fetch_add(1, std::memory_order_relaxed);
        return finish(result.status, std::move(result.body), f);
    }

    // --------------------------------------------------------- connections

    void log_error(std::string_view what, const beast::error_code& ec) const {
        if (quiet_error(ec) || stopping.load()) return;
        std::cerr << "stripe-sim: " << what << ": " << ec.message() << '\n';
    }

    template <class Stream>
    net::awaitable<close_mode> serve(Stream& stream) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(max_request_body);
            beast::get_lowest_layer(stream).expires_after(idle_timeout);
            auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, use_tuple);
            (void)read_n;
            if (read_ec == http::error::end_of_stream) co_return close_mode::graceful;
            if (read_ec) {
                log_error("read request", read_ec);
                co_return close_mode::drop;
            }

            auto [res, f] = answer(parser.get());
            if (opts.faults.latency.count() > 0) co_await sleep_for(opts.faults.latency);
            if (f == fault::stall) co_await sleep_for(opts.faults.stall);
            if (f == fault::reset) co_return close_mode::reset;

            beast::get_lowest_layer(stream).expires_after(write_timeout);
            if (f == fault::truncated || f == fault::slow_body) {
                // Headers announce the full Content-Length; the body follows by hand.
                http::response_serializer<http::string_body> sr{res};
                auto [hdr_ec, hdr_n] = co_await http::async_write_header(stream, sr, use_tuple);
                (void)hdr_n;
                if (hdr_ec) {
                    log_error("write response header", hdr_ec);
                    co_return close_mode::drop;
                }
                const std::string& body = res.body();
                if (f == fault::truncated) {
                    co_await net::async_write(stream, net::buffer(body.data(), body.size() / 2), use_tuple);
                    co_return close_mode::drop;  // no TLS close_notify: the client sees a truncated stream
                }
                const std::size_t chunk = std::max<std::size_t>(64, body.size() / 16);
                for (std::size_t off = 0; off < body.size(); off += chunk) {
                    co_await sleep_for(10ms);
                    beast::get_lowest_layer(stream).expires_after(write_timeout);
                    auto [ec, n] = co_await net::async_write(
                        stream, net::buffer(body.data() + off, std::min(chunk, body.size() - off)), use_tuple);
                    (void)n;
                    if (ec) {
                        log_error("write slow response body", ec);
                        co_return close_mode::drop;
                    }
                }
            } else {
                auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
                (void)n;
                if (ec) {
                    log_error("write response", ec);
                    co_return close_mode::drop;
                }
            }
            if (!res.keep_alive()) co_return close_mode::graceful;
        }
    }

    net::awaitable<void> session(tcp::socket socket) {
        try {
            beast::error_code ec;
            socket.set_option(tcp::no_delay(true), ec);
            beast::tcp_stream plain(std::move(socket));
            if (!opts.tls) {
                close_socket(plain.socket(), co_await serve(plain));
                co_return;
            }
            beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), ssl_ctx);
            beast::get_lowest_layer(stream).expires_after(handshake_timeout);
            auto [hs_ec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
            if (hs_ec) {
                // A client refusing our certificate (the expired-cert test) lands here: not an error.
                if (hs_ec.category() != net::error::get_ssl_category()) log_error("TLS handshake", hs_ec);
                close_socket(raw_socket(stream), close_mode::drop);
                co_return;
            }
            const close_mode mode = co_await serve(stream);
            if (mode == close_mode::graceful) {
                beast::get_lowest_layer(stream).expires_after(shutdown_timeout);
                co_await stream.async_shutdown(use_tuple);  // peers often just hang up: ignore errors
            }
            close_socket(raw_socket(stream), mode);
        } catch (const std::exception& e) {
            if (!stopping.load()) std::cerr << "stripe-sim: serve connection: " << e.what() << '\n';
        }
    }

    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
            if (ec == net::error::operation_aborted || stopping.load()) co_return;
            if (ec) {
                log_error("accept connection", ec);
                co_await sleep_for(50ms);  // e.g. out of file descriptors: do not spin
                continue;
            }
            net::co_spawn(*ioc, session(std::move(socket)), net::detached);
        }
    }
};

server::server(server_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {
    auto& s = *impl_;
    if (!s.opts.data) throw std::invalid_argument("start stripe-sim server: no dataset given");
    if (s.opts.api_key.empty()) throw std::invalid_argument("start stripe-sim server: empty API key");
    // A misspelt name would silently forbid nothing: kinder than the key meant.
    for (const auto& r : s.opts.forbidden_resources) {
        const auto& names = dataset::resource_names();
        if (std::find(names.begin(), names.end(), r) == names.end())
            throw std::invalid_argument("start stripe-sim server: forbidden_resources names unknown resource '" + r +
                                        "'");
    }
    if (!dataset::is_supported_api_version(s.opts.default_api_version))
        throw std::invalid_argument("start stripe-sim server: unsupported default API version '" +
                                    s.opts.default_api_version + "'");
    s.tokens = std::max(1.0, s.opts.rate_limit_per_second);

    if (s.opts.tls) use_server_identity(s.ssl_ctx, s.opts.identity, "stripe-sim server");

    s.ioc.emplace(1);
    s.acceptor.emplace(*s.ioc);
    s.bound_port = listen_on(*s.acceptor, s.opts.bind_address, s.opts.port, "stripe-sim server");

    net::co_spawn(*s.ioc, s.accept_loop(), net::detached);
    s.thread = std::thread([&s] {
        for (;;) {
            try {
                s.ioc->run();
                return;
            } catch (const std::exception& e) {
                std::cerr << "stripe-sim: server loop: " << e.what() << '\n';
            }
        }
    });
}

server::~server() { stop(); }

unsigned short server::port() const { return impl_->bound_port; }

void server::stop() {
    auto& s = *impl_;
    std::lock_guard lock(s.stop_mutex);
    if (s.stopped) return;
    s.stopped = true;
    s.stopping.store(true);
    s.ioc->stop();
    if (s.thread.joinable()) s.thread.join();
    // With the loop stopped, closing the listener and destroying the context
    // drops every open connection now rather than at destruction.
    s.acceptor.reset();
    s.ioc.reset();
}

server_stats server::stats() const {
    const auto& s = *impl_;
    server_stats out{s.n_requests.load(), s.n_ok.load(), s.n_rate_limited.load(), s.n_faults.load(),
                     s.n_unauthorized.load(), {}};
    std::lock_guard lock(s.webhook_mutex);
    out.webhooks = s.webhooks;
    return out;
}

}  // namespace reconciler::sim
