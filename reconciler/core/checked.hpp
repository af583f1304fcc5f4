// Checked 64-bit arithmetic for money and credits: a value that Stripe (or a
// proxy in front of it) sends may be anything an int64 holds, and a wrapped
// product is a plausible-looking wrong number. Each helper says whether the
// result fits; none throws, so a rule can flag the object and go on.
#pragma once

#include <cstdint>
#include <optional>

namespace reconciler::checked {

// a * b, or nullopt when it does not fit in int64.
inline std::optional<std::int64_t> mul(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}

// a + b, or nullopt when it does not fit in int64.
inline std::optional<std::int64_t> add(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
    return r;
}

// a + b, or nullopt when it does not fit; for sums that must not wrap but have
// no object to blame (a cap's running total): callers treat nullopt as "over".
inline bool add_into(std::int64_t& sum, std::int64_t b) noexcept {
    std::int64_t r = 0;
    if (__builtin_add_overflow(sum, b, &r)) return false;
    sum = r;
    return true;
}

// a * num / den without an intermediate overflow (0 <= num <= den, den > 0):
// a share of `a`, which therefore always fits.
inline std::int64_t share(std::int64_t a, std::int64_t num, std::int64_t den) noexcept {
    return static_cast<std::int64_t>(static_cast<__int128>(a) * num / den);
}

}  // namespace reconciler::checked
