// A report's findings against the generator's seeded ground truth: what the
// demo (and a newcomer) uses to see that the run found exactly what was seeded.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::sim {

struct truth_comparison {
    std::size_t seeded = 0, found = 0;
    std::vector<std::pair<std::string, std::string>> missed;  // (kind, subject id) seeded, not found
    std::vector<std::pair<std::string, std::string>> extra;   // found, not seeded
    std::vector<std::string> wrong_clawbacks;  // revoke corrections whose credits or unrecovered differ
    bool exact() const { return missed.empty() && extra.empty() && wrong_clawbacks.empty(); }
};

// Throws std::runtime_error naming the file when either cannot be read or is
// not what the generator / `reconciler run` writes.
truth_comparison compare_with_truth(const std::filesystem::path& ground_truth, const std::filesystem::path& report_json);

}  // namespace reconciler::sim
