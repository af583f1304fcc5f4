#include "core/diff_detail.hpp"

#include "core/timeutil.hpp"

#include <set>

namespace reconciler::detail {

namespace json = boost::json;

namespace {

json::array lines_json(const invoice& inv) {
    json::array lines;
    for (const auto& l : inv.lines)
        lines.push_back(json::object{{"price", l.price_id}, {"quantity", l.quantity}, {"proration", l.proration}});
    return lines;
}

// amount_mismatch, currency_mismatch: the app recorded the payment, differently.
void check_recorded_payment(ctx& c, const invoice& inv, const local_user* user, const local_payment& payment,
                            unix_seconds at) {
    json::object ev{{"invoice", inv.id},
                    {"customer", inv.customer},
                    {"stripe_amount_paid", inv.amount_paid},
                    {"stripe_currency", inv.currency},
                    {"local_amount", payment.amount},
                    {"local_currency", payment.currency},
                    {"stripe_request_id", c.request_id_of(inv.id)}};
    if (payment.amount != inv.amount_paid) {
        auto& f = c.add(finding_kind::amount_mismatch, team::billing_engineering, "invoice", inv.id, at);
        f.customer_id = inv.customer;
        if (user) ctx::set_user(f, *user);
        f.evidence = ev;
        f.summary = "payment for " + inv.id + " is recorded as " + std::to_string(payment.amount) +
                    " but Stripe collected " + std::to_string(inv.amount_paid);
    }
    if (lower(payment.currency) != lower(inv.currency)) {
        auto& f = c.add(finding_kind::currency_mismatch, team::billing_engineering, "invoice", inv.id, at);
        f.customer_id = inv.customer;
        if (user) ctx::set_user(f, *user);
        f.evidence = ev;
        f.summary = "payment for " + inv.id + " is recorded in " + payment.currency + " but Stripe charged " +
                    inv.currency;
    }
}

proposed_correction grant_correction(const invoice& inv, const local_user& user, const local_payment* payment,
                                     std::int64_t credits, unix_seconds at) {
    proposed_correction corr;
    corr.kind = correction_kind::grant_credits;
    corr.ledger_key = inv.id;
    corr.user_id = user.id;
    corr.credits = credits;
    corr.source = inv.id;
    corr.reason = "stripe invoice paid; grant missing (reconciler)";
    if (!payment) {
        local_payment p;
        p.invoice_id = inv.id;
        p.customer_id = inv.customer;
        p.user_id = user.id;
        p.amount = inv.amount_paid;
        p.currency = inv.currency;
        p.status = "paid";
        p.paid_at = format_rfc3339(at);
        corr.record_payment = std::move(p);
    }
    return corr;
}

void add_credits_not_granted(ctx& c, const invoice& inv, const local_user& user, const local_payment* payment,
                             std::int64_t credits, unix_seconds at) {
    auto& f = c.add(finding_kind::credits_not_granted, team::backend_engineering, "invoice", inv.id, at);
    f.customer_id = inv.customer;
    ctx::set_user(f, user);
    f.evidence = json::object{
        {"invoice", inv.id},
        {"customer", inv.customer},
        {"subscription", inv.subscription},
        {"amount_paid", inv.amount_paid},
        {"currency", inv.currency},
        {"paid_at", inv.paid_at ? json::value(*inv.paid_at) : json::value(nullptr)},
        {"lines", lines_json(inv)},
        {"credits", credits},
        {"stripe_request_id", c.request_id_of(inv.id)},
        {"local_payment", payment != nullptr},
        {"local_ai_credits", user.ai_credits},
        {"local_plan", user.plan},
    };
    // The event whose delivery grants the credits (the `replay` policy re-sends it).
    auto [pb, pe] = c.events_by_object.equal_range(inv.id);
    for (auto it = pb; it != pe; ++it)
        if (it->second->type == "invoice.paid") f.evidence["invoice_paid_event"] = it->second->id;
    if (inv.lines_truncated) {
        f.summary = "paid invoice " + inv.id + " has no credit grant, but its embedded lines are truncated: "
                    "credits cannot be computed safely";
    } else {
        f.correction = grant_correction(inv, user, payment, credits, at);
        f.summary = "paid invoice " + inv.id + " (" + std::to_string(inv.amount_paid) + " " + inv.currency +
                    ") granted no credits to " + user.email + ": grant " + std::to_string(credits) +
                    (payment ? "" : " and record the payment");
    }
}

// paid_without_entitlement_change: neither the payment nor any delivery of its
// invoice.paid: the webhook path itself is broken, whatever the reconciler repairs.
void check_webhook_path(ctx& c, const invoice& inv, const local_user& user, unix_seconds at) {
    json::array paid_events;
    bool delivered = false;
    auto [b, e] = c.events_by_object.equal_range(inv.id);
    for (auto it = b; it != e; ++it) {
        if (it->second->type != "invoice.paid") continue;
        paid_events.push_back(json::string(it->second->id));
        delivered = delivered || c.idx.delivery_by_event.count(it->second->id) > 0;
    }
    if (delivered) return;
    auto& w = c.add(finding_kind::paid_without_entitlement_change, team::billing_engineering, "invoice", inv.id, at);
    w.customer_id = inv.customer;
    w.user_id = user.id;
    w.user_email = user.email;
    w.evidence = json::object{{"invoice", inv.id},
                              {"customer", inv.customer},
                              {"amount_paid", inv.amount_paid},
                              {"currency", inv.currency},
                              {"invoice_paid_events", std::move(paid_events)},
                              {"stripe_request_id", c.request_id_of(inv.id)}};
    w.summary = "Stripe shows " + inv.id + " paid but the app recorded no payment, no grant and no webhook "
                "delivery for it: the webhook path is broken";
}

}  // namespace

// credits_not_granted, paid_without_entitlement_change, amount/currency_mismatch.
void check_invoice(ctx& c, const invoice& inv) {
    if (!inv.paid) return;
    const unix_seconds at = inv.paid_at.value_or(inv.created);
    // Out of range: flagged, and nothing else is said or done about it (a
    // payment of -900 is neither recorded nor compared nor granted for).
    // amount_paid 0 is a legitimate paid invoice (a 100% coupon).
    if (inv.amount_paid < 0)
        return flag_invalid(c, out_of_range(c, inv, "amount_paid",
                                            "a paid invoice with amount_paid " + std::to_string(inv.amount_paid)));
    const invoice_credits_result credits = invoice_credits(inv, c.policy);
    if (!credits.ok()) return flag_invalid(c, out_of_range(c, inv, credits.field, credits.problem));
    const bool unknown_prices = invoice_uses_unknown_prices(c, inv, at);
    const local_user* user = c.idx.user_for(inv.customer, inv.customer_email);
    const local_payment* payment = c.idx.payment_for(inv.id);
    if (payment) check_recorded_payment(c, inv, user, *payment, at);

    if (unknown_prices) return;
    if (credits.credits <= 0 && !inv.lines_truncated) return;
    if (!user || has_credit_event(*user, "grant", inv.id)) return;
    add_credits_not_granted(c, inv, *user, payment, credits.credits, at);
    if (!payment) check_webhook_path(c, inv, *user, at);
}

void check_orphan_payments(ctx& c) {
    std::set<std::string> in_window_invoices;
    for (const auto& inv : c.in.invoices) in_window_invoices.insert(inv.id);
    for (const auto& p : c.local.payments) {
        const auto at = app_time(p.paid_at);
        if (!at || !c.in_window(*at) || in_window_invoices.count(p.invoice_id)) continue;
        auto it = c.in.looked_up_invoices.find(p.invoice_id);
        if (it == c.in.looked_up_invoices.end()) continue;  // not looked up: no opinion
        const std::string& status = it->second;
        if (!status.empty() && status != "void" && status != "uncollectible") continue;
        auto& f = c.add(finding_kind::orphan_local_payment, team::billing_engineering, "invoice", p.invoice_id, *at);
        f.customer_id = p.customer_id;
        if (p.user_id) f.user_id = *p.user_id;
        f.evidence = json::object{{"invoice", p.invoice_id},
                                  {"customer", p.customer_id},
                                  {"local_amount", p.amount},
                                  {"local_currency", p.currency},
                                  {"local_paid_at", p.paid_at},
                                  {"stripe_status", status.empty() ? json::value(nullptr) : json::value(status)},
                                  {"stripe_request_id", c.request_id_of(p.invoice_id)}};
        f.summary = "the app records a payment for " + p.invoice_id + " but Stripe " +
                    (status.empty() ? std::string("has no such invoice") : "shows it as " + status);
    }
}

}  // namespace reconciler::detail
