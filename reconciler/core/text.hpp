// Text helpers for messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler {

// Shows a value from a file or command line a human typed: quoted, control
// characters escaped, at most 80 characters, so an error stays one line.
std::string quote(std::string_view s);

// "Did you mean ...?" for a mistyped name (a config key, a command, an
// option): the candidate nearest to `typed` by edit distance, if it is
// within two edits (a typo, not another word); ties go to the first. The
// result views `candidates`.
std::optional<std::string_view> closest_name(std::string_view typed, const std::vector<std::string_view>& candidates);

// "1 customer", "3 customers": a count and a regular English noun.
std::string count_of(long long n, std::string_view noun);

}  // namespace reconciler
