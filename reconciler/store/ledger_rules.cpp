#include "store/ledger_rules.hpp"

#include "core/checked.hpp"
#include "store/errors.hpp"

#include <algorithm>

namespace reconciler::store::ledger_rules {

bool has_credit_event(const local_user& u, std::string_view kind, const std::string& source) {
    return std::any_of(u.credit_events.begin(), u.credit_events.end(),
                       [&](const credit_event& e) { return e.kind == kind && e.source == source; });
}

std::optional<std::int64_t> revoke_amount(const proposed_correction& c, const local_user& u, apply_result& r) {
    const bool revoked = has_credit_event(u, "revoke", c.source);
    const std::int64_t amount = std::min(c.credits, std::max<std::int64_t>(u.ai_credits, 0));
    if (!revoked && amount > 0) return amount;
    r.outcome = apply_outcome::superseded;
    r.detail = revoked ? "the app revoked credits for " + c.source + " meanwhile" : "no unused credits left to revoke";
    return std::nullopt;
}

bool grant_applies(const proposed_correction& c, const local_user& u, apply_result& r) {
    if (!has_credit_event(u, "grant", c.source)) return true;
    r.outcome = apply_outcome::superseded;
    r.detail = "the app granted credits for " + c.source + " meanwhile";
    return false;
}

bool tier_applies(const proposed_correction& c, const std::string& plan, apply_result& r) {
    if (plan == c.tier_to) {
        r.outcome = apply_outcome::superseded;
        r.detail = "plan is already " + c.tier_to;
        return false;
    }
    if (plan != c.tier_from) {
        r.outcome = apply_outcome::conflict;
        r.detail = "plan changed from " + c.tier_from + " to " + plan + " since the diff";
        return false;
    }
    return true;
}

std::int64_t balance_after(std::int64_t before, std::int64_t delta, const char* kind, std::int64_t user_id) {
    const auto after = checked::add(before, delta);
    if (!after)
        throw store_error("apply " + std::string(kind) + " of " + std::to_string(delta) + " credits to user " +
                          std::to_string(user_id) + ": the balance " + std::to_string(before) +
                          " would overflow 64 bits");
    return *after;
}

void note_balance(boost::json::object& details, std::int64_t before, std::int64_t after) {
    details["balance_before"] = before;
    details["balance_after"] = after;
}

void note_unrecovered(boost::json::object& details, const proposed_correction& c, std::int64_t revoked) {
    details["unrecovered"] = c.unrecovered + (c.credits - revoked);
}

void note_origin(boost::json::object& details, const proposed_correction& c) {
    details["source"] = c.source;
    details["reason"] = c.reason;
}

std::int64_t ledger_delta(const proposed_correction& c, const apply_result& r) {
    switch (c.kind) {
        case correction_kind::grant_credits: return r.credits_applied;
        case correction_kind::revoke_credits: return -r.credits_applied;
        default: return 0;
    }
}

}  // namespace reconciler::store::ledger_rules
