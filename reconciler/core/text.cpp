#include "core/text.hpp"

#include <array>
#include <cstdio>

namespace reconciler {

std::string quote(std::string_view s) {
    constexpr std::size_t max_shown = 80;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            std::array<char, 8> buf{};
            std::snprintf(buf.data(), buf.size(), "\\x%02x", c);
            out += buf.data();
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if (s.size() > max_shown) out += "...";
    return out;
}

}  // namespace reconciler
