#include "core/diff_detail.hpp"

#include "core/checked.hpp"

#include <algorithm>

namespace reconciler::detail {

namespace json = boost::json;

namespace {

// Money went back on a charge that nothing ties to an invoice (a one-off
// payment outside invoicing, or a link Stripe does not give): credits the app
// granted for it cannot be checked here, so a person looks.
void charge_without_invoice(ctx& c, const charge_case& cc, const local_user* user) {
    auto& f = c.add(finding_kind::charge_without_invoice, team::billing_engineering, "charge", cc.ch.id, cc.created);
    f.customer_id = cc.ch.customer;
    if (user) ctx::set_user(f, *user);
    const char* reason = cc.dispute ? "dispute" : "refund";
    f.evidence = json::object{{"charge", cc.ch.id},
                              {"payment_intent", cc.ch.payment_intent},
                              {"event", cc.event_id},
                              {"reason", reason},
                              {"amount", cc.ch.amount},
                              {"refunded_or_disputed", cc.amount},
                              {"currency", cc.ch.currency},
                              {"why", cc.unlinked},
                              {"stripe_request_id", c.request_id_of(cc.event_id)},
                              {"link_request_id", cc.link_request_id}};
    f.summary = std::string(cc.dispute ? "disputed" : "refunded") + " charge " + cc.ch.id + " of " +
                (user ? user->email : "customer " + cc.ch.customer) + " is tied to no invoice" +
                (cc.unlinked.empty() ? "" : " (" + cc.unlinked + ")") +
                ": credits granted for it outside invoicing are not checked";
}

}  // namespace

// refund_or_dispute, charge_without_invoice: money went back on a charge.
void check_refunds(ctx& c) {
    for (const auto& cc : c.in.charge_cases) {
        if (cc.amount <= 0 || !c.mem.charges_checked.insert(cc.ch.id).second) continue;
        const local_user* user = c.idx.user_for(cc.ch.customer, {});
        if (cc.ch.invoice.empty()) {
            charge_without_invoice(c, cc, user);
            continue;
        }
        if (!user) {
            ++c.mem.passed_over["refunded_or_disputed_charge_of_customer_without_user"];
            continue;
        }
        if (has_credit_event(*user, "revoke", cc.ch.id)) continue;
        std::int64_t granted = 0;
        bool fits = true;
        for (const auto& e : user->credit_events)
            if (e.kind == "grant" && e.source == cc.ch.invoice) fits = fits && checked::add_into(granted, e.delta);
        const std::int64_t base = cc.ch.amount > 0 ? cc.ch.amount : cc.amount;
        // The refunded share of what was granted, without a 64-bit product.
        const std::int64_t due = fits && granted > 0 ? checked::share(granted, std::min(cc.amount, base), base) : 0;
        if (due <= 0) {
            ++c.mem.passed_over["refunded_or_disputed_charge_without_credits_to_recover"];
            continue;
        }
        const std::int64_t recoverable = std::clamp<std::int64_t>(user->ai_credits, 0, due);

        auto& f = c.add(finding_kind::refund_or_dispute, team::billing_engineering, "charge", cc.ch.id, cc.created);
        f.customer_id = cc.ch.customer;
        ctx::set_user(f, *user);
        f.evidence = json::object{{"charge", cc.ch.id},
                                  {"invoice", cc.ch.invoice},
                                  {"event", cc.event_id},
                                  {"reason", cc.dispute ? "dispute" : "refund"},
                                  {"charge_amount", cc.ch.amount},
                                  {"refunded_or_disputed", cc.amount},
                                  {"currency", cc.ch.currency},
                                  {"credits_granted", granted},
                                  {"credits_due_back", due},
                                  {"local_ai_credits", user->ai_credits},
                                  {"stripe_request_id", c.request_id_of(cc.event_id)}};
        if (!cc.link_request_id.empty()) f.evidence["invoice_link_request_id"] = cc.link_request_id;
        const std::string what = std::string(cc.dispute ? "disputed" : "refunded") + " charge " + cc.ch.id +
                                 " (invoice " + cc.ch.invoice + ")";
        if (!c.policy.clawback || recoverable == 0) {
            f.summary = what + ": " + std::to_string(due) + " credits granted for it are still with " + user->email +
                        (c.policy.clawback ? " and already spent" : "");
            continue;
        }
        proposed_correction corr;
        corr.kind = correction_kind::revoke_credits;
        corr.ledger_key = cc.ch.id;
        corr.user_id = user->id;
        corr.credits = recoverable;
        corr.unrecovered = due - recoverable;
        corr.source = cc.ch.id;
        corr.reason = cc.dispute ? "stripe charge disputed (reconciler)" : "stripe charge refunded (reconciler)";
        f.summary = what + ": revoke " + std::to_string(recoverable) + " unused credits from " + user->email +
                    (corr.unrecovered ? "; " + std::to_string(corr.unrecovered) + " already spent" : "");
        f.correction = std::move(corr);
    }
}

}  // namespace reconciler::detail
