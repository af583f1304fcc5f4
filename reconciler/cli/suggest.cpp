#include "cli/suggest.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace reconciler::cli {

namespace {

// Levenshtein distance over one rolling row.
std::size_t distance(std::string_view from, std::string_view to) {
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

std::optional<std::string> closest_name(std::string_view typed, const std::vector<std::string>& candidates) {
    constexpr std::size_t max_edits = 2;
    std::optional<std::string> best;
    std::size_t best_distance = max_edits + 1;
    for (const auto& c : candidates) {
        const std::size_t d = distance(typed, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

}  // namespace reconciler::cli
