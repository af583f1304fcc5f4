#include "core/diff.hpp"

#include "core/checked.hpp"

namespace reconciler {

invoice_credits_result invoice_credits(const invoice& inv, const diff_policy& policy) {
    invoice_credits_result r;
    const auto fail = [&r](std::string field, std::string problem) {
        r.credits = 0;
        r.field = std::move(field);
        r.problem = std::move(problem);
        return r;
    };
    std::int64_t credits = 0;
    for (std::size_t i = 0; i < inv.lines.size(); ++i) {
        const auto& line = inv.lines[i];
        // Prorations adjust money for a mid-cycle change; entitlements follow
        // the tier (tier_mismatch) and the next cycle's full-price line.
        if (line.proration) continue;
        auto it = policy.prices.find(line.price_id);
        if (it == policy.prices.end() || it->second.credits == 0) continue;
        // Only lines that grant are bounded: a metered line on a price that
        // grants nothing may legitimately count millions of units.
        const std::string field = "lines.data[" + std::to_string(i) + "].quantity";
        const std::string q = std::to_string(line.quantity);
        if (line.quantity < 0) return fail(field, "negative quantity " + q + " on price " + line.price_id);
        if (line.quantity > policy.max_line_quantity)
            return fail(field, "quantity " + q + " on price " + line.price_id + " is over policy.max_line_quantity (" +
                                   std::to_string(policy.max_line_quantity) + ")");
        const auto product = checked::mul(it->second.credits, line.quantity);
        if (!product || !checked::add_into(credits, *product))
            return fail(field, "credits for quantity " + q + " on price " + line.price_id + " overflow 64 bits");
    }
    if (credits > policy.max_credits_per_invoice || credits < 0)
        return fail("lines", std::to_string(credits) + " credits are over policy.max_credits_per_invoice (" +
                                 std::to_string(policy.max_credits_per_invoice) + ")");
    r.credits = credits;
    return r;
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
