// Fuzz target: Stripe-Signature header parsing and verification.
// Input: the header, a newline, then the payload (the raw request body).
//
// Properties: verify_stripe_signature never throws or trips a sanitizer
// whatever the header; the header we generate for a payload verifies as
// valid for it, at its own timestamp; a payload changed after signing
// never verifies as valid.
#include "stripe/webhook_signature.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace reconciler::stripe;
using reconciler::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    const std::string_view header = input.substr(0, nl);
    const std::string_view payload = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    constexpr std::string_view secret = "whsec_test_secret";
    constexpr std::int64_t now = 1700000100;

    const signature_check c = verify_stripe_signature(header, secret, payload, now);
    check(std::strcmp(to_string(c), "unknown") != 0, "a known verdict");
    // Extreme clocks and tolerances must not overflow either.
    (void)verify_stripe_signature(header, secret, payload, INT64_MIN, 300);
    (void)verify_stripe_signature(header, secret, payload, INT64_MAX, INT64_MAX);

    // Round trip at a timestamp taken from the input.
    std::int64_t t = 0;
    std::memcpy(&t, data, std::min(size, sizeof t));
    const std::string signed_header = stripe_signature_header(secret, t, payload);
    check(verify_stripe_signature(signed_header, secret, payload, t) == signature_check::valid,
          "our own header verifies", signed_header);
    std::string changed(payload);
    changed.push_back('x');
    check(verify_stripe_signature(signed_header, secret, changed, t) != signature_check::valid,
          "a changed payload never verifies");
    return 0;
}
