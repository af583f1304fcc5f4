// Which finding kinds each part of a window decides (core/diff_scope.hpp),
// checked against what the diff actually reports in each part.
#include "core/diff.hpp"
#include "core/timeutil.hpp"
#include "diff_fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace reconciler;
using namespace reconciler::diff_fixtures;

namespace {

std::set<std::string> names(const std::vector<finding_kind>& kinds) {
    std::set<std::string> out;
    for (auto k : kinds) out.insert(to_string(k));
    return out;
}

std::set<std::string> kinds_of(const std::vector<finding>& findings) {
    std::set<std::string> out;
    for (const auto& f : findings) out.insert(to_string(f.kind));
    return out;
}

charge_case refund(std::string charge_id, std::string customer, std::string invoice_id) {
    charge ch;
    ch.id = std::move(charge_id);
    ch.customer = std::move(customer);
    ch.invoice = std::move(invoice_id);
    ch.amount = 2000;
    ch.currency = "usd";
    return charge_case{"evt_r_" + ch.id, false, ch, 2000, t0 + 300};
}

// A slice, with the input the run gives it: paid invoices, refunds and
// disputes, customers, looked-up invoices and the slice's other events; each
// slice kind has a case in it.
std::vector<finding> slice_findings(diff_memory& memory) {
    window_input in = window();
    in.invoices = {paid_invoice("in_1", "cus_1", "price_pro"), paid_invoice("in_2", "cus_2", "price_pro")};
    in.events = {event_ref{"evt_p1", "invoice.paid", t0 + 100, "in_1"}};
    in.charge_cases = {refund("ch_1", "cus_3", "in_0"), refund("ch_2", "cus_3", "")};
    in.customers = {customer{"cus_x", "x@example.com", t0 + 20, false}};
    in.looked_up_invoices = {{"in_gone", ""}};
    local_snapshot local;
    local.users = {user(1, "cus_1"), funded(2, "cus_2", {ev("ce_2", 1000, "grant", "in_2", t0 + 11)}),
                   funded(3, "cus_3", {ev("ce_3", 1000, "grant", "in_0", t0 - 100)})};
    local.payments = {local_payment{"in_2", "cus_2", 2, 1500, "eur", "paid", format_rfc3339(t0 + 10)},
                      local_payment{"in_gone", "cus_2", 2, 900, "usd", "paid", format_rfc3339(t0 + 50)}};
    return diff(in, local, policy(), diff_scope::slice_rules, memory);
}

window_input tier_input() {
    window_input in = window();
    subscription_state st;
    st.sub = subscription{"sub_1", "cus_4", "active", t0, std::nullopt, {subscription_item{"si_1", "price_team", 1, {}}}};
    st.event_id = "evt_s1";
    st.as_of = t0 + 200;
    in.subscriptions = {st};
    return in;
}

local_snapshot tier_users() {
    local_snapshot local;
    local.users = {user(4, "cus_4")};
    return local;
}

local_snapshot balance_users() {
    local_snapshot local;
    auto negative = funded(5, "cus_5", {ev("ce_5", -5, "consume", "req_5", t0 - 100)});
    auto drifted = funded(6, "cus_6", {ev("ce_6", 50, "grant", "in_6", t0 - 100)});
    drifted.ai_credits = 100;
    auto uncorrelated = funded(7, "cus_7", {ev("ce_7", 50, "grant", "in_7", t0 + 100, "")});
    auto undecremented = funded(8, "cus_8", {ev("ce_8a", 100, "grant", "in_8", t0 - 100),
                                           ev("ce_8b", -5, "consume", "req_b", t0 + 100)});
    local.users = {negative, drifted, uncorrelated, undecremented};
    local.usage = {usage_row{8, 5, "req_a", t0 + 100}};
    return local;
}

local_snapshot webhook_log() {
    local_snapshot local;
    local.webhooks = {webhook_delivery{"evt_f", "invoice.paid", t0 + 50, "failed", 2, "timeout"}};
    for (const char* id : {"evt_x1", "evt_x2", "evt_x3"})
        local.webhooks.push_back(webhook_delivery{id, "invoice.paid", t0 + 60, "signature_failed", 1, ""});
    return local;
}

window_input subscription_events() {
    window_input in = window();
    in.events = {event_ref{"evt_s1", "customer.subscription.updated", t0 + 200, "sub_1"}};
    return in;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(diff_scope_kinds)

BOOST_AUTO_TEST_CASE(the_window_part_decides_the_union_of_its_chunks) {
    std::set<std::string> chunks;
    for (auto s : {diff_scope::tier_rules, diff_scope::user_rules, diff_scope::webhook_rules, diff_scope::missed_events})
        for (const auto& k : names(kinds_decided_by(s))) BOOST_TEST(chunks.insert(k).second, k << " in two chunks");
    BOOST_TEST(chunks == names(kinds_decided_by(diff_scope::window_rules)));
    BOOST_TEST(kinds_decided_by(diff_scope::window_rules).size() == chunks.size());
}

BOOST_AUTO_TEST_CASE(every_kind_is_decided_by_one_part_but_those_a_person_closes) {
    const auto window = names(kinds_decided_by(diff_scope::window_rules));
    const auto slice = names(kinds_decided_by(diff_scope::slice_rules));
    BOOST_TEST(kinds_decided_by(diff_scope::slice_rules).size() == slice.size());
    for (int i = 0; i < finding_kind_count; ++i) {
        const auto k = static_cast<finding_kind>(i);
        const std::string name = to_string(k);
        const bool by_person = k == finding_kind::unknown_price || k == finding_kind::billing_portal_misconfigured ||
                               k == finding_kind::invalid_stripe_object;
        BOOST_TEST(window.count(name) + slice.count(name) == (by_person ? 0u : 1u), name);
    }
}

// Each part, given what the run gives it, reports only kinds it decides; the
// one exception, missed subscription events in the window part, is decided
// by the slices that follow it (diff_scope.hpp).
BOOST_AUTO_TEST_CASE(each_part_reports_only_the_kinds_it_decides) {
    const std::string missed = to_string(finding_kind::missed_webhook);
    std::set<std::string> reported;
    const auto check = [&](diff_scope scope, const std::vector<finding>& findings, bool missed_is_the_slices) {
        auto decided = names(kinds_decided_by(scope));
        if (missed_is_the_slices) decided.insert(missed);
        for (const auto& k : kinds_of(findings)) {
            BOOST_TEST(decided.count(k) == 1u, k << " reported by scope " << static_cast<int>(scope));
            reported.insert(k);
        }
    };
    {
        diff_memory memory;
        check(diff_scope::tier_rules, diff(tier_input(), tier_users(), policy(), diff_scope::tier_rules, memory), true);
        check(diff_scope::user_rules, diff(window(), balance_users(), policy(), diff_scope::user_rules, memory), true);
        check(diff_scope::webhook_rules, diff(window(), webhook_log(), policy(), diff_scope::webhook_rules, memory),
              true);
        check(diff_scope::missed_events,
              diff(subscription_events(), local_snapshot{}, policy(), diff_scope::missed_events, memory), true);
        check(diff_scope::slice_rules, slice_findings(memory), false);
        check(diff_scope::slice_rules, pending_customers(memory), false);
    }
    {  // the window part in one piece
        diff_memory memory;
        window_input in = tier_input();
        in.events = subscription_events().events;
        local_snapshot local = balance_users();
        local.users.push_back(tier_users().users.front());
        local.webhooks = webhook_log().webhooks;
        check(diff_scope::window_rules, diff(in, local, policy(), diff_scope::window_rules, memory), true);
    }
    // The cases above cover every kind a part decides.
    for (auto scope : {diff_scope::window_rules, diff_scope::slice_rules})
        for (const auto& k : names(kinds_decided_by(scope))) BOOST_TEST(reported.count(k) == 1u, k << " not exercised");
}

BOOST_AUTO_TEST_SUITE_END()
