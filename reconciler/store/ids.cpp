#include "store/ids.hpp"

#include "store/errors.hpp"

#include <openssl/rand.h>

#include <array>

namespace reconciler::store {

namespace {

std::string random_hex(std::size_t bytes) {
    std::array<unsigned char, 32> buf{};
    if (bytes > buf.size() || RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1)
        throw store_error("generate random identifier: RAND_bytes failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        out.push_back(digits[buf[i] >> 4]);
        out.push_back(digits[buf[i] & 15]);
    }
    return out;
}

}  // namespace

std::string random_credit_event_id() { return "ce_" + random_hex(12); }

std::string random_correlation_id() {
    std::string h = random_hex(16);
    h[12] = '4';                                                        // version 4
    h[16] = "89ab"[std::stoi(std::string(1, h[16]), nullptr, 16) & 3];  // RFC 4122 variant
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace reconciler::store
