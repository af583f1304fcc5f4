// The real HTTPS transport over loopback: against the bundled simulator
// (generated CA, real chain and hostname verification, injected faults) and
// against a tiny scripted plain-HTTP peer for byte-exact response shapes.
// Beast-free on purpose: only beast_transport.cpp pays for Beast.
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"
#include "stripe_sim/server.hpp"
#include "stripe_sim/tls_identity.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace reconciler::stripe {
inline std::ostream& boost_test_print_type(std::ostream& os, transport_error e) { return os << to_string(e); }
}  // namespace reconciler::stripe

namespace asio = boost::asio;
namespace json = boost::json;
namespace sim = reconciler::sim;
using namespace reconciler::stripe;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
const std::string test_key = "sk_test_51TransportSecretKey0123456789";

// Runs `aw` on `ioc` (which other peers in the test may share) until it
// completes; a hung test fails instead of hanging.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> aw, std::chrono::seconds limit = 60s) {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
    asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
        done = true;
        error = e;
        if (!e) value.emplace(std::move(v));
    });
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done) {
        if (ioc.stopped()) ioc.restart();
        ioc.run_one_for(50ms);
        if (std::chrono::steady_clock::now() > deadline) throw std::logic_error("test timed out");
    }
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

transport_result get(asio::io_context& ioc, transport& t, std::string target) {
    return run(ioc, t.get(std::move(target)));
}

// A CA PEM written to a file for the transport's ca_file; removed at scope exit.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& content) {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               ("stripe-client-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".pem");
        std::ofstream(path) << content;
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

std::shared_ptr<const sim::dataset> events_data(int n) {
    auto ds = std::make_shared<sim::dataset>();
    for (int i = 0; i < n; ++i)
        ds->add("events", json::object{{"id", "evt_" + std::to_string(100000 + i)},
                                       {"object", "event"},
                                       {"created", 1'700'000'000 + i * 13},
                                       {"type", "invoice.paid"}});
    ds->finalize();
    return ds;
}

const sim::tls_identity& loopback_identity() {
    static const sim::tls_identity id = sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
    return id;
}

sim::server_options sim_options(sim::tls_identity identity = loopback_identity()) {
    sim::server_options o;
    o.identity = std::move(identity);
    o.api_key = test_key;
    o.data = events_data(25);
    return o;
}

beast_transport_options transport_options(const std::string& base_url, const std::string& ca_file) {
    beast_transport_options o;
    o.base_url = base_url;
    o.ca_file = ca_file;
    o.api_key = test_key;
    o.stripe_version = "2025-03-31.basil";
    o.timeout = 5000ms;
    return o;
}

std::string https_url(unsigned short port, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(port);
}

// Counts connections and can drop them all, like a server closing idle
// keep-alive connections. Plain TCP relay on the test's io_context.
class tcp_relay {
public:
    tcp_relay(asio::io_context& ioc, unsigned short upstream_port)
        : ioc_(ioc), acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}), upstream_port_(upstream_port) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int accepted = 0;
    void drop_all() {
        for (auto& weak : pairs_)
            if (auto p = weak.lock()) {
                boost::system::error_code ec;
                p->first.close(ec);
                p->second.close(ec);
            }
    }

private:
    using socket_pair = std::pair<tcp::socket, tcp::socket>;

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, downstream] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++accepted;
            auto pair = std::make_shared<socket_pair>(std::move(downstream), tcp::socket(ioc_));
            auto [cec] = co_await pair->second.async_connect({asio::ip::make_address("127.0.0.1"), upstream_port_},
                                                             use_tuple);
            if (cec) continue;
            pairs_.push_back(pair);
            asio::co_spawn(ioc_, pump(pair, true), asio::detached);
            asio::co_spawn(ioc_, pump(pair, false), asio::detached);
        }
    }
    static asio::awaitable<void> pump(std::shared_ptr<socket_pair> pair, bool up) {
        tcp::socket& from = up ? pair->first : pair->second;
        tcp::socket& to = up ? pair->second : pair->first;
        char buf[16384];
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
            if (ec) break;
            auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf, n), use_tuple);
            (void)wn;
            if (wec) break;
        }
        boost::system::error_code ec;
        to.shutdown(tcp::socket::shutdown_send, ec);
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    unsigned short upstream_port_;
    std::vector<std::weak_ptr<socket_pair>> pairs_;
};

// A plain-HTTP peer answering each request with the next scripted raw
// response. Special entries: "<close>" hangs up without answering,
// "<stall>" never answers. `then_close` closes after writing a response.
class scripted_http {
public:
    struct reply {
        std::string bytes;
        bool then_close = false;
    };
    explicit scripted_http(asio::io_context& ioc) : ioc_(ioc), acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::deque<reply> replies;
    std::vector<std::string> requests;  // raw request heads
    std::string greeting;               // written as soon as a connection is accepted
    int accepted = 0;

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++accepted;
            if (!greeting.empty()) {
                auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(greeting), use_tuple);
                (void)wec;
                (void)wn;
            }
            asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket socket) {
        std::string buffered;
        for (;;) {
            while (buffered.find("\r\n\r\n") == std::string::npos) {
                char buf[4096];
                auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
                if (ec) co_return;
                buffered.append(buf, n);
            }
            const auto end = buffered.find("\r\n\r\n") + 4;
            requests.push_back(buffered.substr(0, end));
            buffered.erase(0, end);
            if (replies.empty()) co_return;
            reply r = std::move(replies.front());
            replies.pop_front();
            if (r.bytes == "<close>") co_return;
            if (r.bytes == "<stall>") {
                asio::steady_timer forever(ioc_, 1h);
                co_await forever.async_wait(use_tuple);
                co_return;
            }
            co_await asio::async_write(socket, asio::buffer(r.bytes), use_tuple);
            if (r.then_close) {
                boost::system::error_code ec;
                socket.shutdown(tcp::socket::shutdown_both, ec);
                co_return;
            }
        }
    }

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
};

std::string response_bytes(unsigned status, const std::string& body, const std::string& extra_headers = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

beast_transport_options plain_options(unsigned short port) {
    auto o = transport_options("http://127.0.0.1:" + std::to_string(port), "");
    o.allow_plain_http_loopback = true;
    o.timeout = 2000ms;
    return o;
}

void check_no_key(const transport_result& r) {
    BOOST_TEST(r.detail.find(test_key) == std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stripe_beast_transport)

// ------------------------------------------------------------ TLS

BOOST_AUTO_TEST_CASE(tls_get_with_generated_ca_and_keep_alive_reuse) {
    asio::io_context ioc;
    sim::server server(sim_options());
    temp_file ca(loopback_identity().ca_cert_pem);
    tcp_relay relay(ioc, server.port());
    auto t = make_beast_transport(ioc, transport_options(https_url(relay.port()), ca.path.string()));

    for (int i = 0; i < 3; ++i) {
        const auto r = get(ioc, *t, "/v1/events?limit=2");
        BOOST_TEST_REQUIRE(r.error == transport_error::none, r.detail);
        BOOST_TEST(r.response.status == 200u);
        BOOST_TEST(r.response.request_id.rfind("req_", 0) == 0u);
        const auto body = json::parse(r.response.body).as_object();
        BOOST_TEST(body.at("data").as_array().size() == 2u);
        BOOST_TEST(body.at("has_more").as_bool());
    }
    BOOST_TEST(relay.accepted == 1);  // one connection, kept alive and reused

    // Two at once need two connections; afterwards both are idle and reused.
    std::vector<transport_result> results(2);
    int finished = 0;
    for (int i = 0; i < 2; ++i)
        asio::co_spawn(ioc, t->get("/v1/events?limit=1"), [&, i](std::exception_ptr, transport_result r) {
            results[static_cast<std::size_t>(i)] = std::move(r);
            ++finished;
        });
    while (finished < 2) ioc.run_one_for(50ms);
    for (const auto& r : results) BOOST_TEST(r.response.status == 200u, r.detail);
    BOOST_TEST(relay.accepted == 2);
    BOOST_TEST(get(ioc, *t, "/v1/events?limit=1").response.status == 200u);
    BOOST_TEST(relay.accepted == 2);

    // A 4xx is a response like any other at this level: the client judges it.
    const auto missing = get(ioc, *t, "/v1/nothing_here");
    BOOST_TEST(missing.error == transport_error::none);
    BOOST_TEST(missing.response.status == 404u);
}

BOOST_AUTO_TEST_CASE(idle_connection_closed_by_server_is_retried_once_on_a_fresh_one) {
    asio::io_context ioc;
    sim::server server(sim_options());
    temp_file ca(loopback_identity().ca_cert_pem);
    tcp_relay relay(ioc, server.port());
    auto t = make_beast_transport(ioc, transport_options(https_url(relay.port()), ca.path.string()));
    BOOST_TEST(get(ioc, *t, "/v1/events?limit=1").response.status == 200u);
    relay.drop_all();  // the server side forgets the idle connection
    const auto r = get(ioc, *t, "/v1/events?limit=1");
    BOOST_TEST(r.error == transport_error::none, r.detail);
    BOOST_TEST(r.response.status == 200u);
    BOOST_TEST(relay.accepted == 2);
}

BOOST_AUTO_TEST_CASE(wrong_ca_is_refused_as_tls_error) {
    asio::io_context ioc;
    sim::server server(sim_options());
    const auto other = sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
    temp_file ca(other.ca_cert_pem);
    auto t = make_beast_transport(ioc, transport_options(https_url(server.port()), ca.path.string()));
    const auto r = get(ioc, *t, "/v1/events");
    BOOST_TEST(r.error == transport_error::tls);
    BOOST_TEST(r.detail == "TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                               ": certificate verify failed (unable to get local issuer certificate)");
    check_no_key(r);
}

BOOST_AUTO_TEST_CASE(hostname_mismatch_is_refused) {
    asio::io_context ioc;
    const auto id = sim::generate_tls_identity({"other.test"}, {});
    sim::server server(sim_options(id));
    temp_file ca(id.ca_cert_pem);
    {
        auto t = make_beast_transport(ioc, transport_options(https_url(server.port()), ca.path.string()));
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::tls);
        BOOST_TEST(r.detail.find("certificate verify failed (IP address mismatch)") != std::string::npos, r.detail);
    }
    {
        // By name: a certificate for other.test does not cover localhost.
        auto t = make_beast_transport(ioc, transport_options(https_url(server.port(), "localhost"), ca.path.string()));
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::tls);
        BOOST_TEST(r.detail.find("hostname mismatch") != std::string::npos, r.detail);
    }
}

BOOST_AUTO_TEST_CASE(dns_name_in_certificate_is_accepted_by_name) {
    asio::io_context ioc;
    const auto id = sim::generate_tls_identity({"localhost"}, {});
    sim::server server(sim_options(id));
    temp_file ca(id.ca_cert_pem);
    auto t = make_beast_transport(ioc, transport_options(https_url(server.port(), "localhost"), ca.path.string()));
    const auto r = get(ioc, *t, "/v1/events?limit=1");
    BOOST_TEST(r.error == transport_error::none, r.detail);
    BOOST_TEST(r.response.status == 200u);
}

BOOST_AUTO_TEST_CASE(expired_certificate_is_refused) {
    asio::io_context ioc;
    const auto id = sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}, true);
    sim::server server(sim_options(id));
    temp_file ca(id.ca_cert_pem);
    auto t = make_beast_transport(ioc, transport_options(https_url(server.port()), ca.path.string()));
    const auto r = get(ioc, *t, "/v1/events");
    BOOST_TEST(r.error == transport_error::tls);
    BOOST_TEST(r.detail.find("certificate has expired") != std::string::npos, r.detail);
}

BOOST_AUTO_TEST_CASE(https_to_a_plain_http_server) {
    asio::io_context ioc;
    temp_file ca(loopback_identity().ca_cert_pem);
    {
        // An HTTP answer to our ClientHello is a TLS protocol error: final.
        scripted_http peer(ioc);
        peer.greeting = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        auto t = make_beast_transport(ioc, transport_options(https_url(peer.port()), ca.path.string()));
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::tls, r.detail);
        BOOST_TEST(r.detail.find("TLS handshake with 127.0.0.1:") == 0u, r.detail);
    }
    {
        // A peer that hangs up mid-handshake has not judged our certificate
        // check: reset (retryable), not tls.
        auto o = sim_options();
        o.tls = false;
        sim::server server(o);
        auto t = make_beast_transport(ioc, transport_options(https_url(server.port()), ca.path.string()));
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::reset, r.detail);
    }
}

// ------------------------------------------------------------ configuration

BOOST_AUTO_TEST_CASE(plain_http_is_refused_unless_loopback_and_allowed) {
    asio::io_context ioc;
    auto refused = [&](beast_transport_options o, const std::string& expect) {
        try {
            make_beast_transport(ioc, o);
            BOOST_ERROR("accepted " << o.base_url);
        } catch (const std::invalid_argument& e) {
            const std::string what = e.what();
            BOOST_TEST(what.find(expect) != std::string::npos, what);
            BOOST_TEST(what.find(test_key) == std::string::npos);
        }
    };
    auto o = transport_options("http://10.1.2.3:12111", "");
    o.allow_plain_http_loopback = true;
    refused(o, "plain http:// is refused for non-loopback host 10.1.2.3");
    o.base_url = "http://api.stripe.com";
    refused(o, "use https://");
    o.base_url = "http://127.0.0.1:12111";
    o.allow_plain_http_loopback = false;
    refused(o, "allow_plain_http_loopback");
    o.base_url = "ftp://127.0.0.1";
    refused(o, "expected https://");
    o.base_url = "https://user:pw@api.stripe.com";
    refused(o, "credentials do not belong in the URL");
    o.base_url = "https://api.stripe.com:99999";
    refused(o, "port must be");
    o.base_url = "https://api.stripe.com/?x=1";
    refused(o, "query");
    o = transport_options("https://api.stripe.com", "/nonexistent/ca.pem");
    refused(o, "cannot load CA certificates");
    o = transport_options("https://api.stripe.com", "");
    o.api_key = test_key + "\n";
    refused(o, "stray newline");
    o.api_key.clear();
    refused(o, "API key is empty");

    for (const std::string loopback : {"http://127.0.0.1:1", "http://127.8.9.10:1", "http://[::1]:1",
                                       "http://localhost:1", "http://LOCALHOST"}) {
        auto ok = transport_options(loopback, "");
        ok.allow_plain_http_loopback = true;
        BOOST_CHECK_NO_THROW(make_beast_transport(ioc, ok));
    }
}

// ------------------------------------------------------------ HTTP shapes

BOOST_AUTO_TEST_CASE(plain_http_to_loopback_sends_the_headers_and_parses_stripe_headers) {
    asio::io_context ioc;
    scripted_http peer(ioc);
    peer.replies.push_back({response_bytes(429, R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})",
                                           "Request-Id: req_abc\r\nRetry-After: 7\r\nStripe-Should-Retry: false\r\n")});
    peer.replies.push_back({response_bytes(500, "{}", "Stripe-Should-Retry: true\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n")});
    auto o = plain_options(peer.port());
    o.stripe_account = "acct_123";
    auto t = make_beast_transport(ioc, o);

    const auto r = get(ioc, *t, "/v1/events?limit=100");
    BOOST_TEST_REQUIRE(r.error == transport_error::none, r.detail);
    BOOST_TEST(r.response.status == 429u);
    BOOST_TEST(r.response.request_id == "req_abc");
    BOOST_TEST((r.response.should_retry == std::optional<bool>(false)));
    BOOST_REQUIRE(r.response.retry_after.has_value());
    BOOST_TEST(r.response.retry_after->count() == 7000);

    const auto r2 = get(ioc, *t, "/v1/events");
    BOOST_TEST(r2.response.status == 500u);
    BOOST_TEST((r2.response.should_retry == std::optional<bool>(true)));
    BOOST_TEST(!r2.response.retry_after.has_value());  // HTTP-dates are ignored
    BOOST_TEST(r2.response.request_id.empty());
    BOOST_TEST(peer.accepted == 1);

    const std::string& head = peer.requests.at(0);
    BOOST_TEST(head.rfind("GET /v1/events?limit=100 HTTP/1.1\r\n", 0) == 0u, head);
    BOOST_TEST(head.find("Authorization: Bearer " + test_key + "\r\n") != std::string::npos);
    BOOST_TEST(head.find("Stripe-Version: 2025-03-31.basil\r\n") != std::string::npos);
    BOOST_TEST(head.find("Stripe-Account: acct_123\r\n") != std::string::npos);
    BOOST_TEST(head.find("Host: 127.0.0.1:" + std::to_string(peer.port()) + "\r\n") != std::string::npos);
    BOOST_TEST(head.find("User-Agent: stripe-reconciler/0.1\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(connection_close_is_not_reused) {
    asio::io_context ioc;
    scripted_http peer(ioc);
    peer.replies.push_back({response_bytes(200, "{}", "Connection: close\r\n"), true});
    peer.replies.push_back({response_bytes(200, "{}"), false});
    auto t = make_beast_transport(ioc, plain_options(peer.port()));
    BOOST_TEST(get(ioc, *t, "/v1/a").response.status == 200u);
    BOOST_TEST(get(ioc, *t, "/v1/b").response.status == 200u);
    BOOST_TEST(peer.accepted == 2);
}

BOOST_AUTO_TEST_CASE(failures_map_to_transport_errors) {
    asio::io_context ioc;
    scripted_http peer(ioc);
    auto o = plain_options(peer.port());
    o.max_body_bytes = 64;
    o.timeout = 300ms;
    auto t = make_beast_transport(ioc, o);

    // Body shorter than its Content-Length, then hang-up.
    peer.replies.push_back({"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"object\":", true});
    auto r = get(ioc, *t, "/v1/a");
    BOOST_TEST(r.error == transport_error::truncated, r.detail);

    // Over max_body_bytes.
    peer.replies.push_back({response_bytes(200, std::string(100, ' '))});
    r = get(ioc, *t, "/v1/b");
    BOOST_TEST(r.error == transport_error::protocol, r.detail);
    BOOST_TEST(r.detail.find("64 bytes") != std::string::npos, r.detail);

    // Hang-up before any response on a fresh connection: reset, not retried.
    const int before = peer.accepted;
    peer.replies.push_back({"<close>"});
    r = get(ioc, *t, "/v1/c");
    BOOST_TEST(r.error == transport_error::reset, r.detail);
    BOOST_TEST(peer.accepted == before + 1);

    // Not HTTP at all.
    peer.replies.push_back({"SSH-2.0-OpenSSH\r\n\r\n", true});
    r = get(ioc, *t, "/v1/d");
    BOOST_TEST(r.error == transport_error::protocol, r.detail);

    // A stalled server: the read deadline fires.
    peer.replies.push_back({"<stall>"});
    const auto start = std::chrono::steady_clock::now();
    r = get(ioc, *t, "/v1/e");
    BOOST_TEST(r.error == transport_error::timeout, r.detail);
    BOOST_TEST(r.detail == "read response from 127.0.0.1:" + std::to_string(peer.port()) +
                               ": timed out after 300 ms");
    BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));

    // Nobody listening.
    tcp::acceptor closed(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const auto dead_port = closed.local_endpoint().port();
    closed.close();
    auto dead = make_beast_transport(ioc, plain_options(dead_port));
    r = get(ioc, *dead, "/v1/f");
    BOOST_TEST(r.error == transport_error::connect, r.detail);
    BOOST_TEST(r.detail.find("connect 127.0.0.1:" + std::to_string(dead_port)) == 0u, r.detail);
}

BOOST_AUTO_TEST_CASE(timeout_on_a_stalled_tls_server) {
    asio::io_context ioc;
    temp_file ca(loopback_identity().ca_cert_pem);
    {
        // Accepts and never speaks: the handshake deadline fires.
        tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        tcp::socket held(ioc);
        silent.async_accept(held, [](boost::system::error_code) {});
        auto o = transport_options(https_url(silent.local_endpoint().port()), ca.path.string());
        o.timeout = 300ms;
        auto t = make_beast_transport(ioc, o);
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::timeout, r.detail);
        BOOST_TEST(r.detail.find("TLS handshake with 127.0.0.1:") == 0u, r.detail);
    }
    {
        // The simulator stalls every response past the client's deadline.
        auto so = sim_options();
        so.faults.rate_stall = 1.0;
        so.faults.stall = 10s;
        sim::server server(so);
        auto o = transport_options(https_url(server.port()), ca.path.string());
        o.timeout = 300ms;
        auto t = make_beast_transport(ioc, o);
        const auto start = std::chrono::steady_clock::now();
        const auto r = get(ioc, *t, "/v1/events");
        BOOST_TEST(r.error == transport_error::timeout, r.detail);
        BOOST_TEST(r.detail.find("read response from") == 0u, r.detail);
        BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
    }
}

// ------------------------------------------------------------ end to end

BOOST_AUTO_TEST_CASE(client_pages_everything_over_tls_through_injected_faults) {
    asio::io_context ioc;
    auto so = sim_options();
    const int n = 1500;
    so.data = events_data(n);
    so.faults.seed = 7;
    so.faults.rate_429 = 0.04;
    so.faults.rate_5xx = 0.04;
    so.faults.rate_reset = 0.04;
    so.faults.rate_truncated = 0.04;
    so.faults.rate_malformed = 0.04;
    so.faults.rate_slow_body = 0.04;
    sim::server server(so);
    temp_file ca(loopback_identity().ca_cert_pem);
    auto t = make_beast_transport(ioc, transport_options(https_url(server.port()), ca.path.string()));

    client_options co;
    co.requests_per_second = 500;
    co.concurrency = 4;
    co.page_limit = 50;
    co.max_retries = 10;
    co.base_delay = 5ms;
    co.max_delay = 50ms;
    co.rate_limited_base_delay = 10ms;
    co.rate_limited_max_delay = 50ms;
    co.max_retry_after = 20ms;  // the simulator asks for 1 s
    co.jitter_seed = 1;
    client c(*t, co);

    std::vector<std::string> ids;
    list_query q;
    q.resource = "/v1/events";
    q.params = {{"types[0]", "invoice.paid"}};
    q.created_gte = 1'700'000'000;
    q.created_lt = 1'700'000'000 + n * 13;
    auto wrapper = [&]() -> asio::awaitable<int> {
        co_await c.list_all(q, [&](const reconciler::list_page_info& page, reconciler::list_envelope&& env) {
            BOOST_TEST(page.request_id.rfind("req_", 0) == 0u);
            for (const auto& v : env.data) ids.emplace_back(v.as_object().at("id").as_string());
        });
        co_return 0;
    };
    run(ioc, wrapper());

    std::set<std::string> unique(ids.begin(), ids.end());
    BOOST_TEST(ids.size() == static_cast<std::size_t>(n));
    BOOST_TEST(unique.size() == static_cast<std::size_t>(n));
    const auto s = c.stats();
    BOOST_TEST(s.retries > 0u);
    BOOST_TEST(server.stats().faults_injected > 0u);
    BOOST_TEST_MESSAGE("end to end: " << s.requests << " requests, " << s.retries << " retries, "
                                      << s.rate_limited << " 429s, server faults " << server.stats().faults_injected);
}

BOOST_AUTO_TEST_SUITE_END()
