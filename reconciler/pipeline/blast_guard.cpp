#include "pipeline/blast_guard.hpp"

namespace reconciler::pipeline {

std::int64_t credits_moved(const proposed_correction& c) { return c.kind == correction_kind::set_tier ? 0 : c.credits; }

std::string blast_guard::check(const proposed_correction& c) const {
    const std::int64_t credits = credits_moved(c);
    if (tripped_) return "a blast-radius cap was reached earlier in this run";
    if (corrections_ + 1 > limits_.max_corrections_per_run) return "limits.max_corrections_per_run";
    if (credits_ + credits > limits_.max_credits_per_run) return "limits.max_credits_per_run";
    auto it = per_user_.find(c.user_id);
    if ((it == per_user_.end() ? 0 : it->second) + credits > limits_.max_credits_per_user)
        return "limits.max_credits_per_user";
    return {};
}

void blast_guard::count(const proposed_correction& c, std::int64_t credits) {
    ++corrections_;
    credits_ += credits;
    // Only users who were given or charged credits: a tier fix adds none,
    // and an entry for each would grow with every tier fix of a large run.
    if (credits != 0) per_user_[c.user_id] += credits;
}

}  // namespace reconciler::pipeline
