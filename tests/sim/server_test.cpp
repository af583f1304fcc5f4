// The simulator's HTTPS server over loopback, spoken to by a deliberately
// tiny blocking OpenSSL client (no Beast here: this TU must stay quick to
// build) that verifies the server against the generated CA.
#include "stripe_sim/server.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace reconciler::sim;
using namespace std::chrono_literals;

namespace {

const std::string test_key = "sk_test_0123456789abcdefWXYZ";

struct http_reply {
    bool complete = false;  // a whole response was read
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

// One connection (TLS or plain), blocking, with a receive timeout so a broken
// server fails the test instead of hanging it.
class client {
public:
    client(unsigned short port, const std::string* ca_pem, std::chrono::milliseconds timeout = 5000ms) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("test client: socket");
        timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("test client: connect");
        if (!ca_pem) return;

        ctx_ = SSL_CTX_new(TLS_client_method());
        BIO* bio = BIO_new_mem_buf(ca_pem->data(), static_cast<int>(ca_pem->size()));
        X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        if (!ca) throw std::runtime_error("test client: read CA PEM");
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca);
        X509_free(ca);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, "localhost");
        SSL_set1_host(ssl_, "localhost");
        handshake_ok_ = SSL_connect(ssl_) == 1;
        verify_result_ = SSL_get_verify_result(ssl_);
        ERR_clear_error();
    }
    ~client() {
        if (ssl_) SSL_free(ssl_);
        if (ctx_) SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    bool handshake_ok() const { return handshake_ok_; }
    long verify_result() const { return verify_result_; }

    void send(const std::string& data) {
        std::size_t off = 0;
        while (off < data.size()) {
            int n = ssl_ ? SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off))
                         : static_cast<int>(::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL));
            if (n <= 0) throw std::runtime_error("test client: write");
            off += static_cast<std::size_t>(n);
        }
    }

    http_reply get(const std::string& target, const std::string& key = test_key,
                   const std::string& extra_headers = "", const std::string& method = "GET") {
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
        if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
        req += extra_headers + "\r\n";
        send(req);
        return read_reply();
    }

    http_reply read_reply() {
        http_reply r;
        std::size_t header_end;
        while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return r;
        std::string head = buf_.substr(0, header_end);
        buf_.erase(0, header_end + 4);
        std::size_t line_end = head.find("\r\n");
        std::string status_line = head.substr(0, line_end);
        r.status = static_cast<unsigned>(std::stoul(status_line.substr(9, 3)));
        std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            std::size_t e = head.find("\r\n", pos);
            if (e == std::string::npos) e = head.size();
            std::string line = head.substr(pos, e - pos);
            auto colon = line.find(':');
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
            pos = e + 2;
        }
        const std::size_t length = std::stoul(r.header("content-length"));
        while (buf_.size() < length)
            if (!fill()) {
                r.body = buf_;
                return r;
            }
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
        r.complete = true;
        return r;
    }

private:
    bool fill() {
        char chunk[16384];
        int n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
        if (n <= 0) {
            ERR_clear_error();
            return false;
        }
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    bool handshake_ok_ = false;
    long verify_result_ = 0;
    std::string buf_;
};

std::shared_ptr<const dataset> sample_data(int events = 25) {
    auto ds = std::make_shared<dataset>();
    for (int i = 0; i < events; ++i)
        ds->add("events", boost::json::object{{"id", "evt_" + std::to_string(i)},
                                             {"object", "event"},
                                             {"created", 1700000000 + i},
                                             {"type", "invoice.paid"}});
    ds->add("invoices", boost::json::object{{"id", "in_1"}, {"object", "invoice"}, {"created", 1700000000}});
    ds->finalize();
    return ds;
}

const tls_identity& identity() {
    static const tls_identity id = generate_tls_identity({"localhost"}, {"127.0.0.1"});
    return id;
}

server_options base_options() {
    server_options o;
    o.identity = identity();
    o.api_key = test_key;
    o.data = sample_data();
    return o;
}

bool is_request_id(const std::string& s) {
    return s.size() == 18 && s.starts_with("req_") &&
           std::all_of(s.begin() + 4, s.end(), [](unsigned char c) { return std::isalnum(c); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_server)

BOOST_AUTO_TEST_CASE(lists_over_verified_tls_with_request_id_and_keep_alive) {
    server srv(base_options());
    BOOST_TEST(srv.port() != 0);
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE_MESSAGE(c.handshake_ok(), "TLS handshake against the generated CA");
    auto r = c.get("/v1/events?limit=10", test_key, "Stripe-Version: 2025-03-31.basil\r\n");
    BOOST_REQUIRE(r.complete);
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(is_request_id(r.header("request-id")), r.header("request-id"));
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.header("stripe-version") == "2025-03-31.basil");
    auto body = boost::json::parse(r.body).as_object();
    BOOST_TEST(body.at("data").as_array().size() == 10u);
    BOOST_TEST(body.at("has_more").as_bool());

    // Same connection: keep-alive, a fresh Request-Id, no Stripe-Version when none was sent.
    auto again = c.get("/v1/events?limit=10&starting_after=evt_15");
    BOOST_REQUIRE(again.complete);
    BOOST_TEST(again.status == 200u);
    BOOST_TEST(again.header("request-id") != r.header("request-id"));
    BOOST_TEST(again.header("stripe-version").empty());
    auto missing = c.get("/v1/invoices/in_nope");
    BOOST_TEST(missing.status == 404u);
    BOOST_TEST(is_request_id(missing.header("request-id")));
    BOOST_TEST(boost::json::parse(missing.body).at("error").at("code").as_string() == "resource_missing");

    auto st = srv.stats();
    BOOST_TEST(st.requests == 3u);
    BOOST_TEST(st.ok == 2u);
}

// A charge whose shape differs by version: the request's Stripe-Version (or
// the account default) decides the rendition.
BOOST_AUTO_TEST_CASE(stripe_version_picks_the_rendition) {
    auto ds = std::make_shared<dataset>();
    boost::json::object old_charge{{"id", "ch_1"},         {"object", "charge"},  {"created", 1700000000},
                                   {"invoice", "in_1"},    {"payment_intent", "pi_1"}};
    auto new_charge = old_charge;
    new_charge.erase("invoice");
    ds->add_renditions("charges", {old_charge, new_charge});
    ds->add("invoice_payments",
            boost::json::object{{"id", "inpay_1"},
                                {"object", "invoice_payment"},
                                {"created", 1700000000},
                                {"invoice", "in_1"},
                                {"payment",
                                 boost::json::object{{"type", "payment_intent"}, {"payment_intent", "pi_1"}}},
                                {"status", "paid"}});
    ds->finalize();
    auto opts = base_options();
    opts.data = ds;
    server srv(opts);
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(c.handshake_ok());
    const auto charge_at = [&](const std::string& headers) {
        auto r = c.get("/v1/charges/ch_1", test_key, headers);
        BOOST_REQUIRE(r.complete);
        return r;
    };
    auto old_r = charge_at("Stripe-Version: 2024-06-20\r\n");
    BOOST_TEST(old_r.status == 200u);
    BOOST_TEST(old_r.header("stripe-version") == "2024-06-20");
    BOOST_TEST(boost::json::parse(old_r.body).at("invoice").as_string() == "in_1");
    auto new_r = charge_at("Stripe-Version: 2025-03-31.basil\r\n");
    BOOST_TEST(new_r.status == 200u);
    BOOST_TEST(!boost::json::parse(new_r.body).as_object().contains("invoice"));
    BOOST_TEST(boost::json::parse(new_r.body).at("payment_intent").as_string() == "pi_1");
    // No header: the account default, basil.
    auto default_r = charge_at("");
    BOOST_TEST(default_r.status == 200u);
    BOOST_TEST(default_r.body == new_r.body);
    // An unknown version: Stripe's 400.
    auto bad = charge_at("Stripe-Version: 2019-02-19\r\n");
    BOOST_TEST(bad.status == 400u);
    BOOST_TEST(boost::json::parse(bad.body).at("error").at("message").as_string() ==
               "Invalid Stripe API version: 2019-02-19");
    BOOST_TEST(boost::json::parse(bad.body).at("error").at("type").as_string() == "invalid_request_error");
    // invoice_payments exist at basil only.
    auto listed = c.get("/v1/invoice_payments?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=pi_1");
    BOOST_TEST(listed.status == 200u);
    BOOST_TEST(boost::json::parse(listed.body).at("data").as_array().size() == 1u);
    BOOST_TEST(c.get("/v1/invoice_payments", test_key, "Stripe-Version: 2024-06-20\r\n").status == 404u);

    // An account pinned to the older version.
    opts.default_api_version = "2024-06-20";
    server old_srv(opts);
    client old_c(old_srv.port(), &identity().ca_cert_pem);
    auto pinned = old_c.get("/v1/charges/ch_1");
    BOOST_TEST(pinned.status == 200u);
    BOOST_TEST(boost::json::parse(pinned.body).at("invoice").as_string() == "in_1");
    BOOST_TEST(old_c.get("/v1/invoice_payments").status == 404u);

    opts.default_api_version = "2020-08-27";
    BOOST_CHECK_THROW(server{opts}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(missing_or_wrong_key_is_401_and_masked) {
    server srv(base_options());
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(c.handshake_ok());
    auto none = c.get("/v1/events", "");
    BOOST_TEST(none.status == 401u);
    BOOST_TEST(is_request_id(none.header("request-id")));
    BOOST_TEST(boost::json::parse(none.body).at("error").at("type").as_string() == "invalid_request_error");

    const std::string wrong = "sk_test_SECRETSECRETSECRETabcd";
    auto bad = c.get("/v1/events", wrong);
    BOOST_TEST(bad.status == 401u);
    const std::string message(boost::json::parse(bad.body).at("error").at("message").as_string());
    BOOST_TEST(message == "Invalid API Key provided: sk_test_****abcd");
    BOOST_TEST(bad.body.find("SECRET") == std::string::npos);
    // A prefix of the right key is still wrong.
    BOOST_TEST(c.get("/v1/events", test_key.substr(0, test_key.size() - 1)).status == 401u);
    BOOST_TEST(srv.stats().unauthorized == 3u);
    BOOST_TEST(srv.stats().faults_injected == 0u);
}

BOOST_AUTO_TEST_CASE(only_get_is_allowed) {
    server srv(base_options());
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(c.handshake_ok());
    auto r = c.get("/v1/events", test_key, "Content-Length: 0\r\n", "POST");
    BOOST_TEST(r.status == 405u);
    BOOST_TEST(r.header("allow") == "GET");
    BOOST_TEST(boost::json::parse(r.body).at("error").at("type").as_string() == "invalid_request_error");
    BOOST_TEST(c.get("/v2/nothing").status == 404u);
}

// A restricted key without a resource's read permission: its list and
// retrieve are 403 with Stripe's permission message, however the URL is
// spelled; every other resource still answers.
BOOST_AUTO_TEST_CASE(forbidden_resources_answer_403_naming_the_permission) {
    auto data = std::make_shared<dataset>();
    data->add("prices", boost::json::object{{"id", "price_1"}, {"object", "price"}, {"created", 1}, {"active", true}});
    data->add("billing_portal/configurations",
              boost::json::object{{"id", "bpc_1"}, {"object", "billing_portal.configuration"}, {"created", 1},
                                  {"active", true}, {"is_default", true}});
    data->add("disputes", boost::json::object{{"id", "dp_1"}, {"object", "dispute"}, {"created", 1}});
    data->add("events", boost::json::object{{"id", "evt_1"}, {"object", "event"}, {"created", 1}, {"type", "x"}});
    data->finalize();
    auto opts = base_options();
    opts.data = data;
    opts.api_key = "rk_test_0123456789abcdefWXYZ";
    opts.forbidden_resources = {"prices", "billing_portal/configurations", "disputes"};
    server srv(opts);
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(c.handshake_ok());
    const std::vector<std::pair<std::string, std::string>> forbidden{
        {"/v1/prices", "rak_price_read"},
        {"/v1/prices/price_1", "rak_price_read"},
        {"/v1/prices?active=true", "rak_price_read"},
        {"/v1/%70rices/price_1", "rak_price_read"},
        {"/v1/billing_portal/configurations", "rak_billing_portal_configuration_read"},
        {"/v1/billing_portal/configurations/bpc_1", "rak_billing_portal_configuration_read"},
        {"/v1/billing_portal%2Fconfigurations?is_default=true", "rak_billing_portal_configuration_read"},
        {"/v1/disputes/dp_1", "rak_dispute_read"},
    };
    for (const auto& [target, permission] : forbidden) {
        BOOST_TEST_CONTEXT(target) {
            auto r = c.get(target, opts.api_key);
            BOOST_TEST(r.status == 403u);
            BOOST_TEST(is_request_id(r.header("request-id")));
            const auto err = boost::json::parse(r.body).at("error").as_object();
            BOOST_TEST(err.at("type").as_string() == "invalid_request_error");
            const std::string message(err.at("message").as_string());
            BOOST_TEST(message == "The provided key 'rk_test_****WXYZ' does not have the required permissions for "
                                  "this endpoint. Having the '" + permission +
                                      "' permission would allow this request to continue.");
        }
    }
    BOOST_TEST(c.get("/v1/events/evt_1", opts.api_key).status == 200u);
    BOOST_TEST(c.get("/v1/billing_portal/sessions", opts.api_key).status == 404u);

    // Readable when not forbidden.
    opts.forbidden_resources = {"disputes"};
    server open(opts);
    client d(open.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(d.handshake_ok());
    BOOST_TEST(d.get("/v1/prices/price_1", opts.api_key).status == 200u);
    BOOST_TEST(d.get("/v1/billing_portal/configurations?is_default=true", opts.api_key).status == 200u);

    // A misspelt resource would forbid nothing: refused.
    opts.forbidden_resources = {"billing_portal"};
    BOOST_CHECK_THROW(server{opts}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_a_burst_with_429) {
    auto opts = base_options();
    opts.rate_limit_per_second = 5;
    server srv(std::move(opts));
    client c(srv.port(), &identity().ca_cert_pem);
    BOOST_REQUIRE(c.handshake_ok());
    int ok = 0, limited = 0;
    for (int i = 0; i < 30; ++i) {
        auto r = c.get("/v1/events?limit=1");
        BOOST_REQUIRE(r.complete);
        if (r.status == 200) ++ok;
        if (r.status == 429) {
            ++limited;
            BOOST_TEST(boost::json::parse(r.body).at("error").at("code").as_string() == "rate_limit");
            BOOST_TEST(is_request_id(r.header("request-id")));
        }
    }
    BOOST_TEST(ok + limited == 30);
    BOOST_TEST(ok >= 5);
    BOOST_TEST(limited >= 15);
    BOOST_TEST(srv.stats().rate_limited == static_cast<std::uint64_t>(limited));
}

BOOST_AUTO_TEST_CASE(expired_certificate_fails_verification) {
    auto opts = base_options();
    const auto expired = generate_tls_identity({"localhost"}, {"127.0.0.1"}, true);
    opts.identity = expired;
    server srv(std::move(opts));
    client c(srv.port(), &expired.ca_cert_pem);
    BOOST_TEST(!c.handshake_ok());
    BOOST_TEST(c.verify_result() == X509_V_ERR_CERT_HAS_EXPIRED);
}

BOOST_AUTO_TEST_CASE(untrusted_ca_fails_verification) {
    server srv(base_options());
    const auto other = generate_tls_identity({"localhost"}, {"127.0.0.1"});
    client c(srv.port(), &other.ca_cert_pem);
    BOOST_TEST(!c.handshake_ok());
}

BOOST_AUTO_TEST_CASE(plain_http_mode) {
    auto opts = base_options();
    opts.tls = false;
    server srv(std::move(opts));
    client c(srv.port(), nullptr);
    auto r = c.get("/v1/invoices");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(boost::json::parse(r.body).at("data").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(many_concurrent_keep_alive_connections) {
    server srv(base_options());
    std::vector<std::unique_ptr<client>> clients;
    for (int i = 0; i < 40; ++i) {
        clients.push_back(std::make_unique<client>(srv.port(), &identity().ca_cert_pem));
        BOOST_REQUIRE(clients.back()->handshake_ok());
    }
    // Every connection stays open; answer requests on them interleaved.
    for (int round = 0; round < 3; ++round)
        for (auto& c : clients) BOOST_TEST(c->get("/v1/events?limit=2").status == 200u);
    BOOST_TEST(srv.stats().requests == 120u);
}

BOOST_AUTO_TEST_CASE(injected_faults_are_reproducible) {
    auto run = [](fault_options faults) {
        auto opts = base_options();
        opts.faults = faults;
        server srv(std::move(opts));
        std::string trace;
        for (int i = 0; i < 40; ++i) {
            client c(srv.port(), &identity().ca_cert_pem);
            BOOST_REQUIRE(c.handshake_ok());
            auto r = c.get("/v1/events?limit=5");
            if (!r.complete) {
                trace += r.status == 0 ? 'R' : 'T';  // reset / truncated
                continue;
            }
            bool json_ok = true;
            try {
                (void)boost::json::parse(r.body);
            } catch (...) {
                json_ok = false;
            }
            if (!json_ok) trace += 'M';
            else if (r.status == 429) trace += r.header("retry-after") == "1" ? 'A' : 'L';
            else if (r.status >= 500) {
                trace += r.header("stripe-should-retry") == "true" ? 'S' : 'E';
                BOOST_TEST(boost::json::parse(r.body).at("error").at("type").as_string() == "api_error");
            } else if (r.status == 200) trace += '.';
            else trace += '?';
        }
        return std::pair{trace, srv.stats()};
    };
    fault_options f;
    f.seed = 7;
    f.rate_429 = 0.15;
    f.rate_5xx = 0.15;
    f.rate_reset = 0.1;
    f.rate_truncated = 0.1;
    f.rate_malformed = 0.1;
    auto [first, stats] = run(f);
    auto [second, stats2] = run(f);
    BOOST_TEST(first == second);
    BOOST_TEST_MESSAGE("fault trace: " << first);
    for (char kind : std::string("RTMS.")) BOOST_TEST(first.find(kind) != std::string::npos, kind);
    BOOST_TEST(first.find('?') == std::string::npos);
    BOOST_TEST(stats.faults_injected == static_cast<std::uint64_t>(
                                            40 - std::count(first.begin(), first.end(), '.')));
    BOOST_TEST(stats.ok == static_cast<std::uint64_t>(std::count(first.begin(), first.end(), '.')));
}

BOOST_AUTO_TEST_CASE(stall_slow_body_and_latency_still_deliver) {
    auto opts = base_options();
    opts.faults.rate_slow_body = 1;
    opts.faults.latency = 20ms;
    opts.data = sample_data(300);
    {
        server srv(opts);
        client c(srv.port(), &identity().ca_cert_pem);
        auto start = std::chrono::steady_clock::now();
        auto r = c.get("/v1/events?limit=100");
        BOOST_REQUIRE(r.complete);
        BOOST_TEST(r.status == 200u);
        BOOST_TEST(boost::json::parse(r.body).at("data").as_array().size() == 100u);
        BOOST_CHECK(std::chrono::steady_clock::now() - start >= 100ms);  // 20 ms latency + 16 chunks x 10 ms
    }
    opts.faults = fault_options{};
    opts.faults.rate_stall = 1;
    opts.faults.stall = 60'000ms;
    server srv(opts);
    client c(srv.port(), &identity().ca_cert_pem, 300ms);
    auto r = c.get("/v1/events");
    BOOST_TEST(!r.complete);  // the client's deadline passes first
    // stop() must not wait for the stalled request.
    auto start = std::chrono::steady_clock::now();
    srv.stop();
    BOOST_CHECK(std::chrono::steady_clock::now() - start < 2s);
}

BOOST_AUTO_TEST_SUITE_END()
