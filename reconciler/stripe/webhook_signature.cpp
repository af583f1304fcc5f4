#include "stripe/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

namespace reconciler::stripe {

std::string webhook_signature_v1(std::string_view secret, std::int64_t t, std::string_view payload) {
    const std::string signed_payload = std::to_string(t) + "." + std::string(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac, &len))
        throw std::runtime_error("compute webhook signature: HMAC-SHA256 failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(digits[mac[i] >> 4]);
        hex.push_back(digits[mac[i] & 15]);
    }
    return hex;
}

std::string stripe_signature_header(std::string_view secret, std::int64_t t, std::string_view payload) {
    return "t=" + std::to_string(t) + ",v1=" + webhook_signature_v1(secret, t, payload);
}

const char* to_string(signature_check c) noexcept {
    switch (c) {
    case signature_check::valid: return "valid";
    case signature_check::malformed: return "malformed";
    case signature_check::no_v1: return "no_v1";
    case signature_check::mismatch: return "mismatch";
    case signature_check::too_old: return "too_old";
    }
    return "unknown";
}

signature_check verify_stripe_signature(std::string_view header, std::string_view secret, std::string_view payload,
                                        std::int64_t now, std::int64_t tolerance_seconds) {
    std::optional<std::int64_t> t;
    std::vector<std::string_view> v1;
    // Bounded: a header is a handful of pairs; refuse anything absurd.
    if (header.size() > 8192) return signature_check::malformed;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) return signature_check::malformed;
        const auto key = item.substr(0, eq), value = item.substr(eq + 1);
        if (key == "t") {
            std::int64_t v = 0;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc{} || p != value.data() + value.size() || t) return signature_check::malformed;
            t = v;
        } else if (key == "v1") {
            v1.push_back(value);
        }
    }
    if (!t) return signature_check::malformed;
    if (v1.empty()) return signature_check::no_v1;
    // `now - t` overflows for a hostile t such as -9223372036854775808: compare
    // the distance in unsigned arithmetic, where it is exact once t < now.
    const auto age = *t < now ? static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(*t) : 0;
    if (age > static_cast<std::uint64_t>(std::max<std::int64_t>(tolerance_seconds, 0)))
        return signature_check::too_old;
    const std::string expected = webhook_signature_v1(secret, *t, payload);
    for (auto candidate : v1)
        if (candidate.size() == expected.size() && CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0)
            return signature_check::valid;
    return signature_check::mismatch;
}

}  // namespace reconciler::stripe
