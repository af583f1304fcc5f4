// Stripe webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`
// where hex = lowercase HMAC-SHA256(secret, "<t>." + raw body). Used to
// replay events to the app's webhook endpoint (runbook §4) with a signature
// its handler accepts. The secret never appears in any message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reconciler::stripe {

// The v1 signature (64 lowercase hex digits) of `payload` at time `t`.
std::string webhook_signature_v1(std::string_view secret, std::int64_t t, std::string_view payload);

// The full header value: "t=<t>,v1=<sig>".
std::string stripe_signature_header(std::string_view secret, std::int64_t t, std::string_view payload);

enum class signature_check { valid, malformed, no_v1, mismatch, too_old };
const char* to_string(signature_check c) noexcept;

// Verifies a header as a receiver does: any v1 may match (secrets roll);
// `t` older than `tolerance_seconds` (>= 0; negative counts as 0) before `now`
// is refused; any int64 t and now are handled without overflow. Constant-time compare.
signature_check verify_stripe_signature(std::string_view header, std::string_view secret, std::string_view payload,
                                        std::int64_t now, std::int64_t tolerance_seconds = 300);

}  // namespace reconciler::stripe
