// deliver/classify.hpp: which answers are retried, which are final, and
// that no error text carries a secret.
#include "deliver/classify.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler::deliver;
using reconciler::stripe::post_result;

namespace {

post_result answered(unsigned status, std::string body = "", std::string retry_after = "") {
    post_result r;
    r.delivered = true;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(classify_rules)

BOOST_AUTO_TEST_CASE(statuses) {
    BOOST_TEST((classify("t/p", answered(202), 0, {}).result == outcome::sent));
    BOOST_TEST(classify("t/p", answered(202), 0, {}).error.empty());
    BOOST_TEST((classify("t/p", answered(200), 0, {}).result == outcome::sent));
    for (unsigned s : {408u, 429u, 500u, 502u, 503u})
        BOOST_TEST((classify("t/p", answered(s), 0, {}).result == outcome::retry), s);
    for (unsigned s : {301u, 400u, 401u, 403u, 404u, 413u})
        BOOST_TEST((classify("t/p", answered(s), 0, {}).result == outcome::failed), s);
    post_result none;
    none.error = "connect 127.0.0.1:9: Connection refused";
    const attempt a = classify("data_platform/slack", none, 0, {});
    BOOST_TEST((a.result == outcome::retry));
    BOOST_TEST(a.http_status == 0);
    BOOST_TEST(a.error == "deliver data_platform/slack: connect 127.0.0.1:9: Connection refused");
}

BOOST_AUTO_TEST_CASE(error_names_route_and_what_failed) {
    const attempt a = classify("data_platform/slack", answered(500, "oops\n\x01"), 0, {});
    BOOST_TEST(a.error == "deliver data_platform/slack: 500 from receiver: oops");
    BOOST_TEST(a.http_status == 500);
}

BOOST_AUTO_TEST_CASE(retry_after_seconds_and_dates) {
    BOOST_TEST(parse_retry_after("120", 0).count() == 120);
    BOOST_TEST(parse_retry_after(" 5 ", 0).count() == 5);
    BOOST_TEST(parse_retry_after("-3", 0).count() == 0);
    BOOST_TEST(parse_retry_after("soon", 0).count() == 0);
    BOOST_TEST(parse_retry_after("99999999", 0).count() == retry_after_cap.count());
    BOOST_TEST(parse_retry_after("99999999999999999999999", 0).count() == retry_after_cap.count());
    // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
    BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30).count() == 30);
    BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30).count() == 0);
    BOOST_TEST(classify("t/p", answered(429, "", "7"), 0, {}).retry_after.count() == 7);
}

BOOST_AUTO_TEST_CASE(secrets_echoed_by_a_receiver_are_redacted) {
    const std::string key = "R0UTING-KEY-123";
    const attempt a = classify("billing/pagerduty", answered(400, "bad routing_key " + key), 0,
                               {key, "/services/T0/B0/XYZ", "", "/"});
    BOOST_TEST(a.error.find(key) == std::string::npos);
    BOOST_TEST(a.error == "deliver billing/pagerduty: 400 from receiver: bad routing_key [redacted]");
    BOOST_TEST(redact("GET /services/T0/B0/XYZ twice /services/T0/B0/XYZ", {"/services/T0/B0/XYZ"}) ==
               "GET [redacted] twice [redacted]");
}

BOOST_AUTO_TEST_SUITE_END()
