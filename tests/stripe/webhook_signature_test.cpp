// Stripe-Signature: the README's test vector, and a receiver's checks.
#include "stripe/webhook_signature.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace reconciler::stripe;

namespace reconciler::stripe {
std::ostream& operator<<(std::ostream& os, signature_check c) { return os << to_string(c); }
}  // namespace reconciler::stripe

namespace {

// Exact bytes from ../shared/stripe/README.md: newlines, two-space indent, no trailing newline.
const std::string vector_body =
    "{\n"
    "  \"id\": \"evt_test_webhook\",\n"
    "  \"object\": \"event\",\n"
    "  \"data\": { \"object\": { \"id\": \"rdr_123\", \"object\": \"terminal.reader\" } }\n"
    "}";

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_signature)

BOOST_AUTO_TEST_CASE(stripe_test_vector) {
    BOOST_TEST(webhook_signature_v1("whsec_test_secret", 1700000000, vector_body) ==
               "3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd");
    BOOST_TEST(stripe_signature_header("whsec_test_secret", 1700000000, vector_body) ==
               "t=1700000000,v1=3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd");
}

BOOST_AUTO_TEST_CASE(receiver_checks) {
    const auto header = stripe_signature_header("whsec_a", 1000, "{}");
    BOOST_TEST(verify_stripe_signature(header, "whsec_a", "{}", 1100) == signature_check::valid);
    BOOST_TEST(verify_stripe_signature(header, "whsec_b", "{}", 1100) == signature_check::mismatch);
    BOOST_TEST(verify_stripe_signature(header, "whsec_a", "{ }", 1100) == signature_check::mismatch);
    BOOST_TEST(verify_stripe_signature(header, "whsec_a", "{}", 1301) == signature_check::too_old);
    // A rolled secret: either v1 may match.
    const auto rolled = "t=1000,v1=" + std::string(64, '0') + ",v1=" + webhook_signature_v1("whsec_a", 1000, "{}");
    BOOST_TEST(verify_stripe_signature(rolled, "whsec_a", "{}", 1000) == signature_check::valid);
    BOOST_TEST(verify_stripe_signature("t=1000", "whsec_a", "{}", 1000) == signature_check::no_v1);
    for (const char* bad : {"", "v1=abc", "t=x,v1=abc", "t=1,t=2,v1=a", "garbage"})
        BOOST_TEST(verify_stripe_signature(bad, "whsec_a", "{}", 1000) == signature_check::malformed, bad);
}

BOOST_AUTO_TEST_SUITE_END()
