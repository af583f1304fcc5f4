// stripe/url.hpp: the one URL parser (stripe.base_url, webhook forward_to)
// and the one loopback rule.
#include "stripe/url.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

using namespace reconciler::stripe;

namespace {

std::optional<url_problem> problem_of(const std::string& url) {
    try {
        (void)parse_http_url(url);
    } catch (const url_error& e) {
        return e.problem();
    }
    return std::nullopt;
}

std::string forward_error(const std::string& url) {
    try {
        (void)parse_forward_url(url);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(base_url_parsing) {
    const auto a = parse_base_url("https://API.stripe.com");
    BOOST_TEST(a.tls);
    BOOST_TEST(a.host == "api.stripe.com");
    BOOST_TEST(a.port == "443");
    BOOST_TEST(a.path == "");
    const auto b = parse_base_url("http://[::1]:12111/stripe/");
    BOOST_TEST(!b.tls);
    BOOST_TEST(b.host == "::1");
    BOOST_TEST(b.port == "12111");
    BOOST_TEST(b.path == "/stripe");
    BOOST_TEST(is_loopback_host("127.255.0.1"));
    BOOST_TEST(is_loopback_host("::ffff:127.0.0.1"));
    BOOST_TEST(!is_loopback_host("128.0.0.1"));
    BOOST_TEST(!is_loopback_host("localhost.example.com"));
    BOOST_CHECK_THROW(parse_base_url("https://::1:443"), std::invalid_argument);
    BOOST_CHECK_THROW(parse_base_url("https://"), std::invalid_argument);
    BOOST_CHECK_THROW(parse_base_url("https://a b"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(base_url_refusals_name_the_url) {
    auto message = [](const std::string& url) {
        try {
            (void)parse_base_url(url);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    BOOST_TEST(message("https://api.stripe.com?x=1") ==
               "stripe base_url \"https://api.stripe.com?x=1\": a query or fragment does not belong in the base URL");
    BOOST_TEST(message("https://u:p@api.stripe.com") ==
               "stripe base_url \"https://u:p@api.stripe.com\": credentials do not belong in the URL (the API key is "
               "configured separately)");
    BOOST_TEST(message("https://api.stripe.com:0") ==
               "stripe base_url \"https://api.stripe.com:0\": port must be a number in 1..65535");
    BOOST_TEST(message("https://::1:443") ==
               "stripe base_url \"https://::1:443\": an IPv6 host must be written in brackets, e.g. https://[::1]:12111");
    BOOST_TEST(message("ftp://x") == "stripe base_url \"ftp://x\": expected https://host[:port] (e.g. https://api.stripe.com)");
}

BOOST_AUTO_TEST_CASE(the_parts_of_an_http_url) {
    const auto u = parse_http_url("HTTPS://user:pw@Example.COM:0443/a/b?x=1#frag");
    BOOST_TEST(u.tls);
    BOOST_TEST(u.scheme == "https");
    BOOST_TEST(u.has_userinfo);
    BOOST_TEST(u.host == "example.com");
    BOOST_TEST(!u.host_is_ip);
    BOOST_TEST(u.has_port);
    BOOST_TEST(u.port == "443");
    BOOST_TEST(u.authority == "Example.COM:0443");  // user info is never kept
    BOOST_TEST(u.path == "/a/b");
    BOOST_TEST(u.has_query);
    BOOST_TEST(u.query == "x=1");
    BOOST_TEST(u.has_fragment);
    BOOST_TEST(u.host_port() == "example.com:443");
    BOOST_TEST(u.host_header() == "example.com");

    const auto v6 = parse_http_url("http://[::1]:12111");
    BOOST_TEST(v6.host == "::1");
    BOOST_TEST(v6.host_is_ip);
    BOOST_TEST(v6.host_port() == "[::1]:12111");
    BOOST_TEST(v6.host_header() == "[::1]:12111");

    const auto v4 = parse_http_url("http://127.0.0.1");
    BOOST_TEST(v4.host_is_ip);
    BOOST_TEST(!v4.has_port);
    BOOST_TEST(v4.port == "80");
    BOOST_TEST(v4.host_header() == "127.0.0.1");
    BOOST_TEST(v4.path == "");
    BOOST_TEST(!v4.has_query);
    // Not a dotted quad: a host name (no SNI rule for IPs), as inet_pton reads it.
    BOOST_TEST(!parse_http_url("https://127.1").host_is_ip);
    BOOST_TEST(parse_http_url("https://h:65535").port == "65535");
}

BOOST_AUTO_TEST_CASE(what_is_refused_and_why) {
    BOOST_TEST((problem_of("ftp://x") == url_problem::scheme));
    BOOST_TEST((problem_of("api.stripe.com") == url_problem::scheme));
    BOOST_TEST((problem_of("https://a b") == url_problem::characters));
    BOOST_TEST((problem_of("https://h\xc3\xa9") == url_problem::characters));
    BOOST_TEST((problem_of("https://h/p q") == url_problem::target_characters));
    BOOST_TEST((problem_of("https://h/p?q=\x01") == url_problem::target_characters));
    BOOST_TEST((problem_of("https://::1:443") == url_problem::ipv6_brackets));
    BOOST_TEST((problem_of("https://[::1") == url_problem::ipv6_literal));
    BOOST_TEST((problem_of("https://[::1]x") == url_problem::ipv6_literal));
    BOOST_TEST((problem_of("https://[zz]") == url_problem::ipv6_literal));
    BOOST_TEST((problem_of("https://[127.0.0.1]") == url_problem::ipv6_literal));
    BOOST_TEST((problem_of("https://[v1.x]") == url_problem::ipv6_literal));
    BOOST_TEST((problem_of("https://a_b") == url_problem::host));
    BOOST_TEST((problem_of("https://a<b") == url_problem::host));
    BOOST_TEST((problem_of("https://%41pi.stripe.com") == url_problem::host));
    BOOST_TEST((problem_of("https://") == url_problem::host));
    BOOST_TEST((problem_of("https://:443") == url_problem::host));
    BOOST_TEST((problem_of("https://user@") == url_problem::host));
    BOOST_TEST((problem_of("https://h:") == url_problem::port));
    BOOST_TEST((problem_of("https://h:0") == url_problem::port));
    BOOST_TEST((problem_of("https://h:65536") == url_problem::port));
    BOOST_TEST((problem_of("https://h:-1") == url_problem::port));
    BOOST_TEST((problem_of("https://h:abc") == url_problem::port));
    BOOST_TEST((problem_of("https://[::1]:x") == url_problem::port));
    BOOST_TEST(!problem_of("https://a-b.c.example/x"));
}

BOOST_AUTO_TEST_CASE(one_loopback_rule) {
    for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.255.0.1", "::1", "0:0:0:0:0:0:0:1",
                             "::ffff:127.0.0.1", "::FFFF:127.1.2.3"})
        BOOST_TEST(is_loopback_host(host), host);
    for (const char* host : {"128.0.0.1", "10.0.0.1", "0.0.0.0", "::", "::2", "::ffff:10.0.0.1", "127.1",
                             "127.0.0.01", "localhost.example.com", "", "[::1]"})
        BOOST_TEST(!is_loopback_host(host), host);
}

// Where the config's hand parser and the transport's disagreed: one rule now.
BOOST_AUTO_TEST_CASE(cases_the_old_parsers_disagreed_on) {
    // An IPv4-mapped loopback address: the transport took it, the config
    // refused it as "not loopback". Both take it now (and the resolved-address
    // check applies the same rule).
    BOOST_CHECK_NO_THROW(parse_base_url("http://[::ffff:127.0.0.1]:12111"));
    BOOST_TEST(is_loopback_host(parse_http_url("http://[::ffff:127.0.0.1]:12111").host));
    // An IPv6 zone id: Asio's make_address_v6 accepted "fe80::1%eth0", so
    // the transport took it; the config (inet_pton) refused it. Refused now.
    BOOST_TEST((problem_of("https://[fe80::1%eth0]") == url_problem::ipv6_literal));
    // '@' after the authority: the config took it for user info, the
    // transport for part of the path prefix. It is part of the path.
    const auto at = parse_http_url("https://h/a@b");
    BOOST_TEST(!at.has_userinfo);
    BOOST_TEST(at.path == "/a@b");
}

BOOST_AUTO_TEST_CASE(forward_urls) {
    const auto f = parse_forward_url("https://App.Example.com/api/billing/webhook?token=s3cret#frag");
    BOOST_TEST(f.endpoint.host == "app.example.com");
    BOOST_TEST(f.endpoint.port == "443");
    BOOST_TEST(f.target == "/api/billing/webhook?token=s3cret");
    BOOST_TEST(f.for_log == "https://App.Example.com/api/billing/webhook");
    BOOST_TEST(parse_forward_url("https://h?x=1").target == "/?x=1");
    BOOST_TEST(parse_forward_url("http://127.0.0.1:9").target == "/");
    BOOST_TEST(parse_forward_url("http://[::1]:9/hook").endpoint.host_port() == "[::1]:9");
    // The fragment is never sent, so never checked.
    BOOST_CHECK_NO_THROW(parse_forward_url("https://h/x#a b"));

    const std::string creds = forward_error("https://user:pw@127.0.0.1/webhook");
    BOOST_TEST(creds == "--forward-to URL \"https://***@127.0.0.1/webhook\": credentials do not belong in the URL");
    BOOST_TEST(!contains(forward_error("https://user:pw@[::1/webhook"), "pw"));
    BOOST_TEST(contains(forward_error("http://example.com/api/billing/webhook"),
                        "plain http:// is refused for non-loopback host example.com"));
    BOOST_TEST(forward_error("ftp://127.0.0.1/webhook").starts_with("--forward-to: expected an https:// URL"));
    BOOST_TEST(contains(forward_error("https://h/a b?token=s3cret"), "percent-encode"));
    BOOST_TEST(!contains(forward_error("https://h/a b?token=s3cret"), "s3cret"));
    BOOST_TEST(forward_error("https://h:0/x") == "--forward-to URL \"https://h:0/x\": port must be a number in 1..65535");
}

BOOST_AUTO_TEST_SUITE_END()
