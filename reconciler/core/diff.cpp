#include "core/diff.hpp"

#include "core/diff_detail.hpp"
#include "core/timeutil.hpp"

#include <map>
#include <set>
#include <utility>

namespace reconciler {

namespace detail {

std::optional<unix_seconds> app_time(const std::string& text) {
    try {
        return parse_rfc3339(text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace detail

namespace {

std::vector<finding> run_rules(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                               bool all, diff_scope scope, diff_memory& memory) {
    detail::ctx c(stripe, local, policy, memory);
    const bool window = all || scope == diff_scope::window_rules;
    const bool slice = all || scope == diff_scope::slice_rules;
    const bool tiers = window || scope == diff_scope::tier_rules;
    const bool users = window || scope == diff_scope::user_rules;
    const bool webhook_log = window || scope == diff_scope::webhook_rules;

    detail::check_invalid_objects(c);
    if (slice) {
        std::set<std::string> seen;
        for (const auto& inv : stripe.invoices)
            if (seen.insert(inv.id).second) detail::check_invoice(c, inv);
    }
    if (tiers) {
        std::map<std::string, std::vector<const subscription_state*>> by_customer;
        for (const auto& st : stripe.subscriptions) by_customer[st.sub.customer].push_back(&st);
        for (const auto& [customer, states] : by_customer) detail::check_customer_tier(c, states);
    }
    // Subscription customers wait for a later slice's email match.
    detail::check_unknown_customers(c, !slice);
    if (slice) {
        detail::check_orphan_payments(c);
        detail::check_refunds(c);
    }
    if (users) detail::check_users(c);
    if (webhook_log) detail::check_webhook_log(c);
    detail::check_missed_events(c);
    if (all)
        for (auto& f : unknown_price_findings(memory)) c.out.push_back(std::move(f));
    return std::move(c.out);
}

}  // namespace

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy) {
    diff_memory memory;
    return run_rules(stripe, local, policy, true, diff_scope::window_rules, memory);
}

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                          diff_scope scope, diff_memory& memory) {
    return run_rules(stripe, local, policy, false, scope, memory);
}

void forget_older_repairs(diff_memory& memory) {
    memory.repaired_before = std::exchange(memory.repaired_by, {});
}

}  // namespace reconciler
