#include "pipeline/blast_guard.hpp"

#include "core/checked.hpp"

namespace reconciler::pipeline {

std::int64_t credits_moved(const proposed_correction& c) { return c.kind == correction_kind::set_tier ? 0 : c.credits; }

std::string blast_guard::check(const proposed_correction& c) const {
    const std::int64_t credits = credits_moved(c);
    if (tripped_) return "a blast-radius cap was reached earlier in this run";
    if (corrections_ + 1 > limits_.max_corrections_per_run) return "limits.max_corrections_per_run";
    // Checked: a sum that does not fit is over any cap (a wrapped one could
    // pass every cap). The diff never proposes such a correction (invoice
    // credits are bounded by policy.max_credits_per_invoice); this is the
    // guard's own floor.
    const auto run_total = checked::add(credits_, credits);
    if (!run_total || *run_total > limits_.max_credits_per_run) return "limits.max_credits_per_run";
    auto it = per_user_.find(c.user_id);
    const auto user_total = checked::add(it == per_user_.end() ? 0 : it->second, credits);
    if (!user_total || *user_total > limits_.max_credits_per_user) return "limits.max_credits_per_user";
    return {};
}

void blast_guard::count(const proposed_correction& c, std::int64_t credits) {
    ++corrections_;
    // check() admitted it, so the sums fit; saturate rather than wrap if a
    // caller counts without checking.
    if (!checked::add_into(credits_, credits)) credits_ = INT64_MAX;
    // Only users who were given or charged credits: a tier fix adds none,
    // and an entry for each would grow with every tier fix of a large run.
    if (credits != 0)
        if (auto& u = per_user_[c.user_id]; !checked::add_into(u, credits)) u = INT64_MAX;
}

}  // namespace reconciler::pipeline
