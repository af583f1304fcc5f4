// Inputs the diff tests share: a price map, paid invoices, app users with
// their credit events, a one-day window.
#pragma once

#include "core/diff.hpp"
#include "core/timeutil.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::diff_fixtures {

inline constexpr unix_seconds t0 = 1700000000;  // window [t0, t0 + 1 day)

inline diff_policy policy() {
    diff_policy p;
    p.prices = {{"price_pro", {"pro", 1000}}, {"price_team", {"team", 5000}}, {"price_pack", {"", 500}}};
    return p;
}

inline invoice paid_invoice(std::string id, std::string customer, std::string price, std::int64_t qty = 1) {
    invoice inv;
    inv.id = std::move(id);
    inv.customer = std::move(customer);
    inv.status = "paid";
    inv.paid = true;
    inv.currency = "usd";
    inv.amount_paid = 2000 * qty;
    inv.created = 1700000000;
    inv.paid_at = 1700000010;
    inv.lines.push_back(invoice_line{"il_" + inv.id, std::move(price), qty, inv.amount_paid, false});
    return inv;
}

inline local_user user(std::int64_t id, std::string customer, std::string plan = "pro") {
    local_user u;
    u.id = id;
    u.email = "user" + std::to_string(id) + "@example.com";
    u.plan = std::move(plan);
    u.stripe_customer_id = std::move(customer);
    return u;
}

inline window_input window() {
    window_input in;
    in.start = t0;
    in.end = t0 + 86400;
    return in;
}

inline credit_event ev(std::string id, std::int64_t delta, std::string kind, std::string source, unix_seconds at,
                       std::string corr = "corr") {
    return credit_event{std::move(id), delta, std::move(kind), "r", std::move(source), std::move(corr), format_rfc3339(at)};
}

// A user whose balance equals its events.
inline local_user funded(std::int64_t id, std::string customer, std::vector<credit_event> events) {
    auto u = user(id, std::move(customer));
    u.credit_events = std::move(events);
    for (const auto& e : u.credit_events) u.ai_credits += e.delta;
    return u;
}

}  // namespace reconciler::diff_fixtures
