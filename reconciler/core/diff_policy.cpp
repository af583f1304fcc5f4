#include "core/diff.hpp"

#include <algorithm>

namespace reconciler {

std::int64_t invoice_credits(const invoice& inv, const diff_policy& policy) {
    std::int64_t credits = 0;
    for (const auto& line : inv.lines) {
        // Prorations adjust money for a mid-cycle change; entitlements follow
        // the tier (tier_mismatch) and the next cycle's full-price line.
        if (line.proration) continue;
        auto it = policy.prices.find(line.price_id);
        if (it == policy.prices.end()) continue;
        credits += it->second.credits * std::max<std::int64_t>(line.quantity, 0);
    }
    return credits;
}

bool price_unknown(const diff_policy& policy, const std::string& price_id) {
    return !price_id.empty() && !policy.prices.count(price_id);
}

std::optional<std::string> target_tier(const subscription& sub, const diff_policy& policy) {
    auto price_tier = [&]() -> std::optional<std::string> {
        for (const auto& item : sub.items) {
            auto it = policy.prices.find(item.price_id);
            if (it != policy.prices.end() && !it->second.tier.empty()) return it->second.tier;
        }
        return std::nullopt;
    };
    const auto& s = sub.status;
    if (s == "active" || s == "trialing") return price_tier();
    if (s == "canceled" || s == "unpaid" || s == "incomplete_expired") return policy.free_tier;
    if (s == "past_due") return policy.past_due_tier == "keep" ? price_tier() : policy.past_due_tier;
    return std::nullopt;  // incomplete, paused, unknown: no opinion
}

bool app_handles_event_type(std::string_view type) {
    return type == "invoice.paid" || type.rfind("customer.subscription.", 0) == 0;
}

}  // namespace reconciler
