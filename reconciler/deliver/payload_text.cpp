#include "deliver/payload_text.hpp"

#include "deliver/payloads.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <openssl/evp.h>

#include <stdexcept>

namespace reconciler::deliver {

const char* to_string(action a) noexcept { return a == action::resolve ? "resolve" : "trigger"; }

const char* to_string(channel c) noexcept {
    switch (c) {
    case channel::pagerduty: return "pagerduty";
    case channel::slack: return "slack";
    case channel::webhook: return "webhook";
    }
    return "webhook";
}

}  // namespace reconciler::deliver

namespace reconciler::deliver::detail {

boost::json::value evidence_value(const std::string& evidence) {
    if (evidence.empty()) return boost::json::object{};
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(evidence, ec);
    if (!ec) return v;
    return boost::json::object{{"text", evidence}};
}

std::string bounded(std::string_view text, std::size_t max) {
    if (text.size() <= max) return std::string(text);
    static constexpr std::string_view ellipsis = "\xE2\x80\xA6";
    if (max < ellipsis.size()) return std::string();
    std::size_t cut = max - ellipsis.size();
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + std::string(ellipsis);
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("compute SHA-256: EVP_Digest failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(digits[md[i] >> 4]);
        hex.push_back(digits[md[i] & 15]);
    }
    return hex;
}

}  // namespace reconciler::deliver::detail
