// The receiver's server: the only TU here that includes Beast and Asio-SSL.
#include "test_receiver/receiver.hpp"

#include "stripe/webhook_signature.hpp"
#include "stripe_sim/loopback_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace reconciler::test_receiver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

unsigned parse_status(const std::string& text, const std::string& whole) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v < 100 || v > 599)
        throw std::invalid_argument("receiver rule \"" + whole + "\": expected STATUS, STATUSxN or hang");
    return v;
}

}  // namespace

rule parse_rule(const std::string& text, unsigned after) {
    rule r;
    r.status = after;
    if (text == "hang") {
        r.hang = true;
        return r;
    }
    const auto x = text.find('x');
    if (x == std::string::npos) {
        r.status = parse_status(text, text);
        return r;
    }
    r.fail_status = parse_status(text.substr(0, x), text);
    const std::string n = text.substr(x + 1);
    const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), r.fail_first);
    if (ec != std::errc{} || p != n.data() + n.size() || n.empty())
        throw std::invalid_argument("receiver rule \"" + text + "\": expected STATUS, STATUSxN or hang");
    return r;
}

std::string to_json_line(const recorded_request& r) {
    boost::json::object headers;
    for (const auto& [k, v] : r.headers) headers[k] = v;
    boost::json::object o{{"at_ms", r.at_ms}, {"method", r.method},   {"path", r.path},
                          {"target", r.target}, {"headers", headers}, {"body", r.body},
                          {"answer", r.answer}};
    if (!r.signature.empty()) o["signature"] = r.signature;
    return boost::json::serialize(o);
}

struct receiver::impl {
    receiver_options opts;
    net::ssl::context ssl_ctx{net::ssl::context::tls_server};
    std::optional<net::io_context> ioc;
    std::optional<tcp::acceptor> acceptor;
    std::thread thread;
    unsigned short bound_port = 0;
    std::atomic<bool> stopping{false};
    std::mutex stop_mutex;
    bool stopped = false;

    mutable std::mutex mutex;  // guards everything below
    mutable std::condition_variable recorded;
    std::vector<recorded_request> seen;
    std::map<std::string, unsigned> count_by_path;
    std::ofstream log;

    explicit impl(receiver_options o) : opts(std::move(o)) {}

    // Records the request; returns the answer's status, 0 to hang.
    unsigned record(const http::request<http::string_body>& req, rule& chosen) {
        recorded_request r;
        r.at_ms = now_ms();
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.path = r.target.substr(0, r.target.find('?'));
        for (const auto& field : req) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            r.headers[name] = std::string(field.value());
        }
        r.body = req.body();
        if (!opts.webhook_secret.empty()) {
            const auto sig = r.headers.find("x-reconciler-signature");
            r.signature = sig == r.headers.end()
                              ? "missing"
                              : stripe::to_string(stripe::verify_stripe_signature(sig->second, opts.webhook_secret,
                                                                                  r.body, r.at_ms / 1000));
        }
        const auto found = opts.rules.find(r.path);
        chosen = found == opts.rules.end() ? opts.default_rule : found->second;
        std::lock_guard lock(mutex);
        const unsigned n = ++count_by_path[r.path];
        r.answer = chosen.hang ? 0 : n <= chosen.fail_first ? chosen.fail_status : chosen.status;
        if (log.is_open()) log << to_json_line(r) << '\n' << std::flush;
        seen.push_back(r);
        recorded.notify_all();
        return r.answer;
    }

    template <class Stream>
    net::awaitable<void> serve(Stream& stream) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(1024 * 1024);
            beast::get_lowest_layer(stream).expires_after(30s);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
            (void)n;
            if (ec) co_return;
            auto req = parser.release();
            rule chosen;
            const unsigned answer = record(req, chosen);
            if (answer == 0) {
                // Hang: read on until the client gives up (or the receiver stops).
                beast::get_lowest_layer(stream).expires_never();
                http::request<http::string_body> ignored;
                co_await http::async_read(stream, buffer, ignored, use_tuple);
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(answer), req.version()};
            res.set(http::field::content_type, "application/json");
            if (answer >= 300 && !chosen.retry_after.empty()) res.set(http::field::retry_after, chosen.retry_after);
            res.body() = answer < 300 ? R"({"status":"success","message":"Event processed"})"
                                      : R"({"status":"error","message":"receiver rule"})";
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            beast::get_lowest_layer(stream).expires_after(10s);
            auto [wec, w] = co_await http::async_write(stream, res, use_tuple);
            (void)w;
            if (wec || !res.keep_alive()) co_return;
        }
    }

    net::awaitable<void> session(tcp::socket socket) {
        try {
            beast::tcp_stream plain(std::move(socket));
            if (!opts.tls) {
                co_await serve(plain);
                co_return;
            }
            beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), ssl_ctx);
            beast::get_lowest_layer(stream).expires_after(10s);
            auto [hs] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
            if (hs) co_return;  // e.g. a client that refused our certificate: the test wanted that
            co_await serve(stream);
            beast::get_lowest_layer(stream).expires_after(2s);
            co_await stream.async_shutdown(use_tuple);
        } catch (const std::exception& e) {
            if (!stopping.load()) std::cerr << "delivery-receiver: connection: " << e.what() << '\n';
        }
    }

    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
            if (ec == net::error::operation_aborted || stopping.load()) co_return;
            if (ec) continue;
            net::co_spawn(*ioc, session(std::move(socket)), net::detached);
        }
    }
};

receiver::receiver(receiver_options options) : impl_(std::make_unique<impl>(std::move(options))) {
    auto& s = *impl_;
    if (s.opts.tls) sim::use_server_identity(s.ssl_ctx, s.opts.identity, "delivery receiver");
    if (!s.opts.log_file.empty()) {
        s.log.open(s.opts.log_file, std::ios::app);
        if (!s.log) throw std::runtime_error("start delivery receiver: open log " + s.opts.log_file);
    }
    s.ioc.emplace(1);
    s.acceptor.emplace(*s.ioc);
    s.bound_port = sim::listen_on(*s.acceptor, s.opts.bind_address, s.opts.port, "delivery receiver");
    net::co_spawn(*s.ioc, s.accept_loop(), net::detached);
    s.thread = std::thread([&s] { s.ioc->run(); });
}

receiver::~receiver() { stop(); }

unsigned short receiver::port() const { return impl_->bound_port; }

std::vector<recorded_request> receiver::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

bool receiver::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->recorded.wait_for(lock, timeout, [&] { return impl_->seen.size() >= n; });
}

void receiver::stop() {
    auto& s = *impl_;
    std::lock_guard lock(s.stop_mutex);
    if (s.stopped) return;
    s.stopped = true;
    s.stopping.store(true);
    s.ioc->stop();
    if (s.thread.joinable()) s.thread.join();
    // Destroying the context destroys the suspended sessions: hung connections close now.
    s.acceptor.reset();
    s.ioc.reset();
}

}  // namespace reconciler::test_receiver
