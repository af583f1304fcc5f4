// Stripe-Signature: the README's test vector, and a receiver's checks.
#include "stripe/webhook_signature.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
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

// Found by tests/fuzz/fuzz_webhook_signature: `now - t` overflowed (UB) for
// t = INT64_MIN and in practice wrapped to "fresh": a header signed for the
// most negative timestamp must be too old, not valid.
BOOST_AUTO_TEST_CASE(extreme_timestamps_are_too_old_not_wrapped) {
    constexpr std::int64_t now = 1700000100;
    for (const std::int64_t t : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}, std::int64_t{0}}) {
        const auto header = stripe_signature_header("whsec_a", t, "{}");
        BOOST_TEST(verify_stripe_signature(header, "whsec_a", "{}", now) == signature_check::too_old, header);
    }
    BOOST_TEST(verify_stripe_signature("t=-9223372036854775808,v1=00", "whsec_a", "{}", now) ==
               signature_check::too_old);
    // The clock itself at the extremes, and a tolerance that is not positive.
    const auto fresh = stripe_signature_header("whsec_a", now, "{}");
    BOOST_TEST(verify_stripe_signature(fresh, "whsec_a", "{}", std::numeric_limits<std::int64_t>::max()) ==
               signature_check::too_old);
    BOOST_TEST(verify_stripe_signature(fresh, "whsec_a", "{}", std::numeric_limits<std::int64_t>::min()) ==
               signature_check::valid);  // from the future: Stripe's own libraries accept it too
    BOOST_TEST(verify_stripe_signature(fresh, "whsec_a", "{}", now + 1, -5) == signature_check::too_old);
    BOOST_TEST(verify_stripe_signature(fresh, "whsec_a", "{}", now, -5) == signature_check::valid);
}

BOOST_AUTO_TEST_SUITE_END()
