#include "core/diff_detail.hpp"

namespace reconciler::detail {

namespace json = boost::json;

namespace {

// The live subscriptions' prices the price map does not know.
void note_unknown_subscription_prices(ctx& c, const std::vector<const subscription_state*>& states) {
    const std::string& customer_id = states.front()->sub.customer;
    for (const auto* st : states) {
        const auto& s = st->sub.status;
        if (s != "active" && s != "trialing" && s != "past_due") continue;
        for (const auto& item : st->sub.items)
            if (price_unknown(c.policy, item.price_id))
                note_unknown_price(c, item.price_id, item.price_nickname, item.product, customer_id, st->sub.id, false,
                                   st->as_of);
    }
}

// The tier a customer's subscriptions imply, and the state that implies it.
struct chosen_tier {
    const subscription_state* state = nullptr;
    std::optional<std::string> tier;
    bool conflict = false;  // live subscriptions imply different paid tiers
};

// A customer may hold several subscriptions (a canceled one and its
// replacement): a paid tier from any live subscription wins over "free".
chosen_tier choose_tier(const diff_policy& policy, const std::vector<const subscription_state*>& states) {
    chosen_tier out;
    const subscription_state*& chosen = out.state;
    std::optional<std::string>& tier = out.tier;
    for (const auto* st : states) {
        auto t = target_tier(st->sub, policy);
        if (!t) continue;
        const bool is_free = *t == policy.free_tier;
        const bool cur_free = tier && *tier == policy.free_tier;
        if (!tier || (cur_free && !is_free)) {
            tier = t;
            chosen = st;
        } else if (!is_free && *t != *tier) {
            out.conflict = true;
        } else if (is_free && cur_free && st->as_of > chosen->as_of) {
            chosen = st;
        }
    }
    return out;
}

proposed_correction tier_correction(const subscription_state& chosen, const local_user& user, const std::string& tier) {
    const auto& sub = chosen.sub;
    proposed_correction corr;
    corr.kind = correction_kind::set_tier;
    // Keyed by the state's newest event: a later state change is a new
    // correction. A state from the subscription list (no event) is keyed by
    // what it says, so the same state never applies twice either.
    corr.ledger_key = chosen.event_id.empty()
                          ? sub.id + "#current:" + sub.status + ":" + (sub.items.empty() ? "" : sub.items.front().price_id)
                          : sub.id + "#" + chosen.event_id;
    corr.user_id = user.id;
    corr.tier_from = user.plan;
    corr.tier_to = tier;
    corr.source = chosen.event_id;
    corr.reason = "subscription_updated";
    return corr;
}

}  // namespace

// tier_mismatch: the app's plan is not the tier the customer's subscriptions imply.
void check_customer_tier(ctx& c, const std::vector<const subscription_state*>& states) {
    note_unknown_subscription_prices(c, states);
    const std::string& customer_id = states.front()->sub.customer;
    const local_user* user = c.idx.user_for(customer_id, {});
    if (!user) return;
    const auto [chosen, tier, conflict] = choose_tier(c.policy, states);
    if (!tier || *tier == user->plan) return;

    const auto& sub = chosen->sub;
    auto& f = c.add(finding_kind::tier_mismatch, team::billing_engineering, "subscription", sub.id, chosen->as_of);
    f.customer_id = customer_id;
    ctx::set_user(f, *user);
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
        {"stripe_request_id", !chosen->request_id.empty() ? chosen->request_id
                                                          : c.request_id_of(chosen->retrieved ? sub.id : chosen->event_id)},
        {"local_plan", user->plan},
        {"expected_plan", *tier},
    };
    if (conflict) {
        f.summary = "customer " + customer_id + " has live subscriptions implying different tiers; plan " +
                    user->plan + " left as is";
        return;
    }
    f.summary = user->email + " is on plan " + user->plan + " but subscription " + sub.id + " is " + sub.status +
                ": set plan " + *tier;
    f.correction = tier_correction(*chosen, *user, *tier);
}

}  // namespace reconciler::detail
