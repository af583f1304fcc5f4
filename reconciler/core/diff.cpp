#include "core/diff.hpp"

#include "core/timeutil.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

namespace reconciler {

namespace json = boost::json;

const char* to_string(finding_kind k) noexcept {
    switch (k) {
    case finding_kind::credits_not_granted: return "credits_not_granted";
    case finding_kind::tier_mismatch: return "tier_mismatch";
    }
    return "unknown";
}

const char* to_string(team t) noexcept {
    switch (t) {
    case team::billing_engineering: return "billing_engineering";
    case team::backend_engineering: return "backend_engineering";
    case team::data_platform: return "data_platform";
    case team::devops: return "devops";
    case team::stripe_support: return "stripe_support";
    }
    return "unknown";
}

const char* to_string(correction_kind k) noexcept {
    switch (k) {
    case correction_kind::grant_credits: return "grant_credits";
    case correction_kind::set_tier: return "set_tier";
    }
    return "unknown";
}

// ------------------------------------------------------- subscription_folder

namespace detail {

// Two snapshots "disagree" when they would lead to different entitlements.
bool same_entitlement_state(const subscription& a, const subscription& b) {
    if (a.status != b.status || a.items.size() != b.items.size()) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (a.items[i].price_id != b.items[i].price_id || a.items[i].quantity != b.items[i].quantity)
            return false;
    return true;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace detail

void subscription_folder::add(const event& e) {
    const auto* sub = std::get_if<subscription>(&e.object);
    if (!sub) return;
    auto [it, inserted] = by_id_.try_emplace(sub->id);
    entry& cur = it->second;
    if (inserted || e.created > cur.state.as_of) {
        cur.state = subscription_state{*sub, e.id, e.created, false};
        cur.ambiguous = false;
    } else if (e.created == cur.state.as_of && !cur.state.retrieved) {
        // Same second: Stripe gives no order within it, so only agreement is safe.
        if (!detail::same_entitlement_state(cur.state.sub, *sub)) cur.ambiguous = true;
        // Deterministic choice of the carrying event whatever the arrival order.
        if (e.id > cur.state.event_id) {
            cur.state.sub = *sub;
            cur.state.event_id = e.id;
        }
    }
}

std::vector<std::string> subscription_folder::ambiguous() const {
    std::vector<std::string> ids;
    for (const auto& [id, e] : by_id_)
        if (e.ambiguous) ids.push_back(id);
    return ids;
}

void subscription_folder::resolve(const subscription& current) {
    auto it = by_id_.find(current.id);
    if (it == by_id_.end()) return;
    it->second.state.sub = current;
    it->second.state.retrieved = true;
    it->second.ambiguous = false;
}

std::vector<subscription_state> subscription_folder::states() const {
    std::vector<subscription_state> out;
    out.reserve(by_id_.size());
    for (const auto& [id, e] : by_id_)
        if (!e.ambiguous) out.push_back(e.state);
    return out;
}

// ----------------------------------------------------------------- the rules

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

namespace detail {

struct local_index {
    std::unordered_map<std::string, const local_user*> by_customer;
    std::unordered_map<std::string, const local_user*> by_email;
    std::unordered_map<std::string, const local_payment*> payment_by_invoice;

    explicit local_index(const local_snapshot& local) {
        for (const auto& u : local.users) {
            if (!u.stripe_customer_id.empty()) by_customer.emplace(u.stripe_customer_id, &u);
            by_email.emplace(lower(u.email), &u);
        }
        for (const auto& p : local.payments) payment_by_invoice.emplace(p.invoice_id, &p);
    }

    const local_user* user_for(const std::string& customer_id, const std::string& email) const {
        if (auto it = by_customer.find(customer_id); it != by_customer.end()) return it->second;
        if (!email.empty())
            if (auto it = by_email.find(lower(email)); it != by_email.end()) return it->second;
        return nullptr;
    }
};

std::string request_id_of(const window_input& in, const std::string& object_id) {
    auto it = in.request_ids.find(object_id);
    return it == in.request_ids.end() ? std::string{} : it->second;
}

bool has_grant_from(const local_user& u, const std::string& source) {
    return std::any_of(u.credit_events.begin(), u.credit_events.end(),
                       [&](const credit_event& e) { return e.kind == "grant" && e.source == source; });
}

std::optional<finding> check_invoice(const invoice& inv, const local_index& idx, const window_input& in,
                                     const diff_policy& policy) {
    if (!inv.paid) return std::nullopt;
    const std::int64_t credits = invoice_credits(inv, policy);
    if (credits <= 0 && !inv.lines_truncated) return std::nullopt;
    const local_user* user = idx.user_for(inv.customer, inv.customer_email);
    if (!user || has_grant_from(*user, inv.id)) return std::nullopt;

    const auto pay_it = idx.payment_by_invoice.find(inv.id);
    const local_payment* payment = pay_it == idx.payment_by_invoice.end() ? nullptr : pay_it->second;

    finding f;
    f.kind = finding_kind::credits_not_granted;
    f.subject_type = "invoice";
    f.subject_id = inv.id;
    f.customer_id = inv.customer;
    f.user_id = user->id;
    f.user_email = user->email;
    f.owner = team::backend_engineering;

    json::array lines;
    for (const auto& l : inv.lines)
        lines.push_back(json::object{{"price", l.price_id}, {"quantity", l.quantity}, {"proration", l.proration}});
    f.evidence = json::object{
        {"invoice", inv.id},
        {"customer", inv.customer},
        {"subscription", inv.subscription},
        {"amount_paid", inv.amount_paid},
        {"currency", inv.currency},
        {"paid_at", inv.paid_at ? json::value(*inv.paid_at) : json::value(nullptr)},
        {"lines", std::move(lines)},
        {"credits", credits},
        {"stripe_request_id", request_id_of(in, inv.id)},
        {"local_payment", payment != nullptr},
        {"local_ai_credits", user->ai_credits},
        {"local_plan", user->plan},
    };

    if (inv.lines_truncated) {
        f.summary = "paid invoice " + inv.id + " has no credit grant, but its embedded lines are truncated: "
                    "credits cannot be computed safely";
        return f;
    }
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.ledger_key = inv.id;
    c.user_id = user->id;
    c.credits = credits;
    c.source = inv.id;
    c.reason = "stripe invoice paid; grant missing (reconciler)";
    if (!payment) {
        local_payment p;
        p.invoice_id = inv.id;
        p.customer_id = inv.customer;
        p.user_id = user->id;
        p.amount = inv.amount_paid;
        p.currency = inv.currency;
        p.status = "paid";
        p.paid_at = format_rfc3339(inv.paid_at.value_or(inv.created));
        c.record_payment = std::move(p);
    }
    f.summary = "paid invoice " + inv.id + " (" + std::to_string(inv.amount_paid) + " " + inv.currency + ") granted no credits to " +
                user->email + ": grant " + std::to_string(credits) + (payment ? "" : " and record the payment");
    f.correction = std::move(c);
    return f;
}

std::optional<finding> check_customer_tier(const std::vector<const subscription_state*>& states,
                                           const local_index& idx, const window_input& in,
                                           const diff_policy& policy) {
    const std::string& customer_id = states.front()->sub.customer;
    const local_user* user = idx.user_for(customer_id, {});
    if (!user) return std::nullopt;

    // A customer may hold several subscriptions (a canceled one and its
    // replacement): a paid tier from any live subscription wins over "free".
    const subscription_state* chosen = nullptr;
    std::optional<std::string> tier;
    bool conflict = false;
    for (const auto* st : states) {
        auto t = target_tier(st->sub, policy);
        if (!t) continue;
        const bool is_free = *t == policy.free_tier;
        const bool cur_free = tier && *tier == policy.free_tier;
        if (!tier || (cur_free && !is_free)) {
            tier = t;
            chosen = st;
        } else if (!is_free && *t != *tier) {
            conflict = true;
        } else if (is_free && cur_free && st->as_of > chosen->as_of) {
            chosen = st;
        }
    }
    if (!tier || *tier == user->plan) return std::nullopt;

    const auto& sub = chosen->sub;
    finding f;
    f.kind = finding_kind::tier_mismatch;
    f.subject_type = "subscription";
    f.subject_id = sub.id;
    f.customer_id = customer_id;
    f.user_id = user->id;
    f.user_email = user->email;
    f.owner = team::billing_engineering;
    json::array items;
    for (const auto& i : sub.items) items.push_back(json::object{{"price", i.price_id}, {"quantity", i.quantity}});
    f.evidence = json::object{
        {"subscription", sub.id},
        {"customer", customer_id},
        {"status", sub.status},
        {"items", std::move(items)},
        {"newest_event", chosen->event_id},
        {"as_of", chosen->as_of},
        {"retrieved", chosen->retrieved},
        {"stripe_request_id", request_id_of(in, chosen->retrieved ? sub.id : chosen->event_id)},
        {"local_plan", user->plan},
        {"expected_plan", *tier},
    };
    if (conflict) {
        f.summary = "customer " + customer_id + " has live subscriptions implying different tiers; plan " +
                    user->plan + " left as is";
        return f;
    }
    proposed_correction c;
    c.kind = correction_kind::set_tier;
    // Keyed by the state's newest event: a later state change is a new correction.
    c.ledger_key = sub.id + "#" + chosen->event_id;
    c.user_id = user->id;
    c.tier_from = user->plan;
    c.tier_to = *tier;
    c.source = chosen->event_id;
    c.reason = "subscription_updated";
    f.summary = user->email + " is on plan " + user->plan + " but subscription " + sub.id + " is " + sub.status +
                ": set plan " + *tier;
    f.correction = std::move(c);
    return f;
}

}  // namespace detail

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy) {
    const detail::local_index idx(local);
    std::vector<finding> out;

    std::set<std::string> seen;
    for (const auto& inv : stripe.invoices) {
        if (!seen.insert(inv.id).second) continue;
        if (auto f = detail::check_invoice(inv, idx, stripe, policy)) out.push_back(std::move(*f));
    }

    std::map<std::string, std::vector<const subscription_state*>> by_customer;
    for (const auto& st : stripe.subscriptions) by_customer[st.sub.customer].push_back(&st);
    for (const auto& [customer, states] : by_customer)
        if (auto f = detail::check_customer_tier(states, idx, stripe, policy)) out.push_back(std::move(*f));

    return out;
}

}  // namespace reconciler
