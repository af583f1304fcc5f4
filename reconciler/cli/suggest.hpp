// "Did you mean ...?" for a mistyped command or option name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::cli {

// The candidate closest to `typed` by edit distance, if one is within two
// edits (a typo, not another word); ties go to the first candidate.
std::optional<std::string> closest_name(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace reconciler::cli
