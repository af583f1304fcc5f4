// The blast-radius caps (config limits:): how many corrections and credits a
// run may apply, in all and per user, before it flags the rest.
#pragma once

#include "config/config.hpp"
#include "core/diff.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace reconciler::pipeline {

// The credits a correction moves: a tier fix moves none.
std::int64_t credits_moved(const proposed_correction& c);

class blast_guard {
public:
    explicit blast_guard(const limits_config& l) : limits_(l) {}

    // Empty when the correction fits under every cap; else the cap it passes
    // ("limits.max_corrections_per_run", ...).
    std::string check(const proposed_correction& c) const;
    // Once tripped, every later correction is refused: a cap on the run
    // means the price map or the data is wrong, not this one user.
    void trip() { tripped_ = true; }
    // A correction applied (or replayed) with `credits` moved.
    void count(const proposed_correction& c, std::int64_t credits);

private:
    const limits_config& limits_;
    bool tripped_ = false;
    std::int64_t corrections_ = 0, credits_ = 0;
    std::map<std::int64_t, std::int64_t> per_user_;
};

}  // namespace reconciler::pipeline
