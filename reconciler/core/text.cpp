#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <numeric>
#include <utility>

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

namespace {

// Levenshtein distance over one rolling row.
std::size_t edit_distance(std::string_view from, std::string_view to) {
    std::vector<std::size_t> cost(to.size() + 1);
    std::iota(cost.begin(), cost.end(), std::size_t{0});
    for (const char f : from) {
        std::size_t replaced = cost[0]++;
        for (std::size_t j = 1; j <= to.size(); ++j)
            replaced = std::exchange(cost[j], std::min({cost[j] + 1, cost[j - 1] + 1, replaced + (f != to[j - 1])}));
    }
    return cost.back();
}

}  // namespace

std::optional<std::string_view> closest_name(std::string_view typed, const std::vector<std::string_view>& candidates) {
    constexpr std::size_t max_edits = 2;
    std::optional<std::string_view> best;
    std::size_t best_distance = max_edits + 1;
    for (const auto c : candidates) {
        const std::size_t d = edit_distance(typed, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

std::string count_of(long long n, std::string_view noun) {
    return std::to_string(n) + ' ' + std::string(noun) + (n == 1 ? "" : "s");
}

}  // namespace reconciler
