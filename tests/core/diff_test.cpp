// The pure diff: value types in, findings out.
#include "core/diff.hpp"
#include "core/invalid_object.hpp"
#include "core/timeutil.hpp"
#include "diff_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <ostream>
#include <set>

using namespace reconciler;
using namespace reconciler::diff_fixtures;

namespace reconciler {
// Boost.Test prints the operands of a failed assertion.
std::ostream& operator<<(std::ostream& os, finding_kind k) { return os << to_string(k); }
std::ostream& operator<<(std::ostream& os, team t) { return os << to_string(t); }
std::ostream& operator<<(std::ostream& os, correction_kind k) { return os << to_string(k); }
}  // namespace reconciler

namespace {

credit_event grant(std::string source, std::int64_t delta) {
    return credit_event{"ce_" + source, delta, "grant", "invoice.paid", std::move(source), "corr", "2023-11-14T22:13:20Z"};
}

event sub_event(std::string id, unix_seconds created, std::string sub_id, std::string customer, std::string status,
                std::string price) {
    subscription s;
    s.id = std::move(sub_id);
    s.customer = std::move(customer);
    s.status = std::move(status);
    s.items.push_back(subscription_item{"si_1", std::move(price), 1, std::nullopt});
    event e;
    e.id = std::move(id);
    e.type = "customer.subscription.updated";
    e.created = created;
    e.object_type = "subscription";
    e.object_id = s.id;
    e.object = s;
    return e;
}

local_snapshot snap(std::vector<local_user> users, std::vector<local_payment> payments = {}) {
    local_snapshot s;
    s.users = std::move(users);
    s.payments = std::move(payments);
    return s;
}

// The findings of one kind (the other rules are tested on their own).
std::vector<finding> only(finding_kind kind, const window_input& in, const local_snapshot& local, const diff_policy& p) {
    std::vector<finding> out;
    for (auto& f : diff(in, local, p))
        if (f.kind == kind) out.push_back(std::move(f));
    return out;
}

window_input with_events(const std::vector<event>& events) {
    subscription_folder folder;
    for (const auto& e : events) folder.add(e);
    window_input in;
    in.subscriptions = folder.states();
    return in;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unknown_price)

// A price nobody added to prices: (a yearly plan made in the Dashboard) was
// skipped without a trace: no grant, no tier, and a report saying all is well.
BOOST_AUTO_TEST_CASE(paid_invoice_and_live_subscription_on_an_unknown_price_are_one_finding_per_price) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", "active", "price_pro_yearly"),
                           sub_event("evt_2", 100, "sub_2", "cus_3", "canceled", "price_pro_yearly")});
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro_yearly"));
    in.invoices.back().lines.back().price_nickname = "Pro yearly";
    in.invoices.back().lines.back().product = "prod_pro";
    in.invoices.push_back(paid_invoice("in_2", "cus_2", "price_pro_yearly", 3));
    in.invoices.push_back(paid_invoice("in_3", "cus_2", "price_team_yearly"));
    auto out = diff(in, snap({user(1, "cus_1", "free"), user(2, "cus_2", "free"), user(3, "cus_3", "free")}), policy());
    // Nothing granted or re-tiered for them: only the unknown prices.
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0].kind == finding_kind::unknown_price);
    BOOST_TEST(out[0].subject_type == "price");
    BOOST_TEST(out[0].subject_id == "price_pro_yearly");
    BOOST_TEST(out[0].owner == team::billing_engineering);
    BOOST_TEST(!out[0].correction);
    const auto& e = out[0].evidence;
    BOOST_TEST(e.at("customers").as_int64() == 2);
    BOOST_TEST(e.at("invoices").as_int64() == 2);
    BOOST_TEST(e.at("subscriptions").as_int64() == 1);  // the canceled one implies free, not the price
    BOOST_TEST(e.at("nickname").as_string() == "Pro yearly");
    BOOST_TEST(e.at("product").as_string() == "prod_pro");
    BOOST_TEST(out[1].subject_id == "price_team_yearly");
    BOOST_TEST(out[1].evidence.at("invoices").as_int64() == 1);

    // Marked { ignore: true }: not reported, and still grants nothing.
    auto p = policy();
    p.prices["price_pro_yearly"].ignore = true;
    p.prices["price_team_yearly"].ignore = true;
    BOOST_TEST(diff(in, snap({user(1, "cus_1", "free"), user(2, "cus_2", "free"), user(3, "cus_3", "free")}), p).empty());
}

// In parts, each use is counted once and the finding comes when the window ends.
BOOST_AUTO_TEST_CASE(unknown_prices_are_counted_across_parts) {
    diff_memory memory;
    window_input in;
    in.start = 1700000000;
    in.end = 1700086400;
    const auto parts_report_none = [&] {
        for (const auto& f : diff(in, snap({}), policy(), diff_scope::slice_rules, memory))
            if (f.kind == finding_kind::unknown_price) return false;
        return true;
    };
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_x"));
    BOOST_TEST(parts_report_none());
    in.invoices = {paid_invoice("in_2", "cus_2", "price_x")};
    BOOST_TEST(parts_report_none());
    auto out = unknown_price_findings(memory);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].evidence.at("invoices").as_int64() == 2);
    BOOST_TEST(out[0].evidence.at("customers").as_int64() == 2);
    BOOST_TEST(unknown_price_findings(memory).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(credits_not_granted)

BOOST_AUTO_TEST_CASE(paid_invoice_without_grant_and_without_payment) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    in.request_ids["in_1"] = "req_abc";
    local_snapshot local = snap({user(1, "cus_1")});
    auto out = only(finding_kind::credits_not_granted, in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    const auto& f = out[0];
    BOOST_TEST(f.kind == finding_kind::credits_not_granted);
    BOOST_TEST(f.subject_id == "in_1");
    BOOST_TEST(f.owner == team::backend_engineering);
    BOOST_TEST(f.evidence.at("stripe_request_id").as_string() == "req_abc");
    BOOST_REQUIRE(f.correction);
    BOOST_TEST(f.correction->credits == 1000);
    BOOST_TEST(f.correction->ledger_key == "in_1");
    BOOST_REQUIRE(f.correction->record_payment);
    BOOST_TEST(f.correction->record_payment->amount == 2000);
    BOOST_TEST(f.correction->record_payment->paid_at == "2023-11-14T22:13:30Z");
}

BOOST_AUTO_TEST_CASE(payment_present_grant_missing) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    local_snapshot local = snap({user(1, "cus_1")}, {local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", ""}});
    auto out = only(finding_kind::credits_not_granted, in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_REQUIRE(out[0].correction);
    BOOST_TEST(!out[0].correction->record_payment);
}

BOOST_AUTO_TEST_CASE(grant_present_is_no_finding) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    auto u = user(1, "cus_1");
    u.credit_events.push_back(grant("in_1", 1000));
    BOOST_TEST(only(finding_kind::credits_not_granted, in, snap({u}), policy()).empty());
    // A consume sourced from the invoice id is not a grant.
    u.credit_events[0].kind = "consume";
    BOOST_TEST(only(finding_kind::credits_not_granted, in, snap({u}), policy()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(quantity_multiplies_credits) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_team", 3));
    auto out = only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1", "team")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 15000);
}

BOOST_AUTO_TEST_CASE(proration_lines_grant_nothing) {
    auto inv = paid_invoice("in_1", "cus_1", "price_team");
    inv.lines[0].proration = true;
    window_input in;
    in.invoices.push_back(inv);
    BOOST_TEST(only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy()).empty());
    // A proration line next to a full line: only the full one counts.
    inv.lines.push_back(invoice_line{"il_full", "price_pro", 1, 2000, false});
    in.invoices = {inv};
    auto out = only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 1000);
}

BOOST_AUTO_TEST_CASE(unpaid_and_unknown_prices_are_ignored) {
    window_input in;
    auto open = paid_invoice("in_1", "cus_1", "price_pro");
    open.paid = false;
    open.status = "open";
    in.invoices.push_back(open);
    in.invoices.push_back(paid_invoice("in_2", "cus_1", "price_unknown"));
    BOOST_TEST(only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy()).empty());
}

BOOST_AUTO_TEST_CASE(truncated_lines_are_flagged_without_correction) {
    auto inv = paid_invoice("in_1", "cus_1", "price_pro");
    inv.lines_truncated = true;
    window_input in;
    in.invoices.push_back(inv);
    auto out = only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(!out[0].correction);
}

BOOST_AUTO_TEST_CASE(user_matched_by_email_when_customer_id_unknown) {
    auto inv = paid_invoice("in_1", "cus_new", "price_pack");
    inv.customer_email = "USER1@example.com";
    window_input in;
    in.invoices.push_back(inv);
    auto out = only(finding_kind::credits_not_granted, in, snap({user(1, "")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 500);
    BOOST_TEST(out[0].correction->user_id == 1);
}

BOOST_AUTO_TEST_CASE(duplicate_invoice_snapshots_yield_one_finding) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    BOOST_TEST(only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy()).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tier_mismatch)

BOOST_AUTO_TEST_CASE(upgrade_missed) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", "active", "price_team")});
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "pro")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].kind == finding_kind::tier_mismatch);
    BOOST_TEST(out[0].owner == team::billing_engineering);
    BOOST_REQUIRE(out[0].correction);
    BOOST_TEST(out[0].correction->tier_from == "pro");
    BOOST_TEST(out[0].correction->tier_to == "team");
    BOOST_TEST(out[0].correction->ledger_key == "sub_1#evt_1");
}

BOOST_AUTO_TEST_CASE(cancellation_goes_to_free) {
    for (const char* status : {"canceled", "unpaid", "incomplete_expired"}) {
        auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", status, "price_pro")});
        auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "pro")}), policy());
        BOOST_REQUIRE_EQUAL(out.size(), 1u);
        BOOST_TEST(out[0].correction->tier_to == "free");
    }
}

BOOST_AUTO_TEST_CASE(late_arriving_older_event_does_not_win) {
    // The newer event (team) arrives first, the older (pro) last.
    auto in = with_events({sub_event("evt_new", 200, "sub_1", "cus_1", "active", "price_team"),
                           sub_event("evt_old", 100, "sub_1", "cus_1", "active", "price_pro")});
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "pro")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "team");
    BOOST_TEST(out[0].correction->source == "evt_new");
    // And a user already on the newest tier is fine, whatever came late.
    BOOST_TEST(only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "team")}), policy()).empty());
}

BOOST_AUTO_TEST_CASE(same_second_disagreement_needs_the_subscription) {
    subscription_folder folder;
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_pro"));  // a plan switch
    BOOST_REQUIRE_EQUAL(folder.ambiguous().size(), 1u);
    BOOST_TEST(folder.states().empty());  // no decision from a coin toss
    subscription truth;
    truth.id = "sub_1";
    truth.customer = "cus_1";
    truth.status = "active";
    truth.items.push_back(subscription_item{"si_1", "price_pro", 1, std::nullopt});
    folder.resolve(truth);
    window_input in;
    in.subscriptions = folder.states();
    BOOST_REQUIRE_EQUAL(in.subscriptions.size(), 1u);
    BOOST_TEST(in.subscriptions[0].retrieved);
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "team")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "pro");
}

BOOST_AUTO_TEST_CASE(same_second_agreement_is_not_ambiguous) {
    subscription_folder folder;
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_team"));
    BOOST_TEST(folder.ambiguous().empty());
    BOOST_TEST(folder.states().size() == 1u);
}

// With the price map, only a tier difference is worth a request: a signup's
// incomplete -> trialing -> active in one second implies one tier (or none).
BOOST_AUTO_TEST_CASE(same_second_states_of_one_tier_need_no_fetch_under_a_policy) {
    const auto p = policy();
    subscription_folder folder(&p);
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "trialing", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_team"));
    BOOST_TEST(folder.ambiguous().empty());
    BOOST_TEST(folder.states().size() == 1u);
    folder.add(sub_event("evt_c", 100, "sub_1", "cus_1", "active", "price_pro"));  // team vs pro
    BOOST_TEST(folder.ambiguous().size() == 1u);
    // Without a policy any status difference is ambiguous, as before.
    subscription_folder strict;
    strict.add(sub_event("evt_a", 100, "sub_1", "cus_1", "trialing", "price_team"));
    strict.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_team"));
    BOOST_TEST(strict.ambiguous().size() == 1u);
}

// Stripe's lifecycle orders some same-second snapshots: a signup's
// incomplete -> active, or active -> canceled, needs no request, in either
// arrival order; two snapshots of the same stage with different tiers do.
BOOST_AUTO_TEST_CASE(same_second_lifecycle_stages_are_ordered_without_a_fetch) {
    const auto p = policy();
    // `later` is the later lifecycle stage: it wins whichever arrives first.
    auto later_stage_wins = [&](const event& earlier, const event& later) {
        for (const bool reversed : {false, true}) {
            subscription_folder folder(&p);
            folder.add(reversed ? later : earlier);
            folder.add(reversed ? earlier : later);
            BOOST_TEST(folder.ambiguous().empty());
            BOOST_REQUIRE(folder.states().size() == 1u);
            BOOST_TEST(folder.states()[0].sub.status == std::get<subscription>(later.object).status);
            BOOST_TEST(folder.states()[0].event_id == later.id);  // the later snapshot's event
        }
    };
    later_stage_wins(sub_event("evt_b", 100, "sub_1", "cus_1", "incomplete", "price_team"),
                     sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"));
    later_stage_wins(sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"),
                     sub_event("evt_b", 100, "sub_1", "cus_1", "canceled", "price_team"));
    // Same stage, different tiers: only Stripe knows which came last.
    subscription_folder folder(&p);
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "incomplete", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_team"));
    folder.add(sub_event("evt_c", 100, "sub_1", "cus_1", "past_due", "price_pro"));
    BOOST_TEST(folder.ambiguous().size() == 1u);
    // A cancellation in the same second settles it.
    folder.add(sub_event("evt_d", 100, "sub_1", "cus_1", "canceled", "price_pro"));
    BOOST_TEST(folder.ambiguous().empty());
    BOOST_TEST(folder.states()[0].sub.status == "canceled");
}

BOOST_AUTO_TEST_CASE(listed_current_state_never_overrides_an_event) {
    subscription_folder folder;
    folder.add(sub_event("evt_1", 100, "sub_1", "cus_1", "active", "price_team"));
    subscription listed;
    listed.id = "sub_1";
    listed.customer = "cus_1";
    listed.status = "canceled";
    BOOST_TEST(!folder.add_current(listed));
    listed.id = "sub_2";
    listed.customer = "cus_2";
    listed.items.push_back(subscription_item{"si_2", "price_pro", 1, std::nullopt});
    listed.status = "active";
    BOOST_TEST(folder.add_current(listed));
    window_input in;
    in.subscriptions = folder.states();
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "team"), user(2, "cus_2", "free")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].subject_id == "sub_2");
    BOOST_TEST(out[0].correction->ledger_key == "sub_2#current:active:price_pro");
}

BOOST_AUTO_TEST_CASE(past_due_follows_policy) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", "past_due", "price_team")});
    auto p = policy();
    BOOST_TEST(only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "team")}), p).empty());
    p.past_due_tier = "free";
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "team")}), p);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "free");
}

BOOST_AUTO_TEST_CASE(incomplete_and_paused_have_no_opinion) {
    for (const char* status : {"incomplete", "paused"}) {
        auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", status, "price_team")});
        BOOST_TEST(only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "pro")}), policy()).empty());
    }
}

BOOST_AUTO_TEST_CASE(replacement_subscription_beats_canceled_one) {
    auto in = with_events({sub_event("evt_1", 100, "sub_old", "cus_1", "canceled", "price_pro"),
                           sub_event("evt_2", 101, "sub_new", "cus_1", "active", "price_team")});
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "free")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "team");
    BOOST_TEST(out[0].subject_id == "sub_new");
}

BOOST_AUTO_TEST_CASE(conflicting_live_subscriptions_are_flagged_not_fixed) {
    auto in = with_events({sub_event("evt_1", 100, "sub_a", "cus_1", "active", "price_pro"),
                           sub_event("evt_2", 101, "sub_b", "cus_1", "active", "price_team")});
    auto out = only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "free")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(!out[0].correction);
}

BOOST_AUTO_TEST_CASE(unknown_customer_is_not_a_tier_finding) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_x", "active", "price_team")});
    BOOST_TEST(only(finding_kind::tier_mismatch, in, snap({user(1, "cus_1", "pro")}), policy()).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(runbook_scenarios)

BOOST_AUTO_TEST_CASE(zero_amount_invoice_still_entitles) {
    // A 100%-off coupon: nothing collected, the plan's credits are still due.
    auto in = window();
    auto inv = paid_invoice("in_1", "cus_1", "price_pro");
    inv.amount_paid = 0;
    in.invoices.push_back(inv);
    auto out = only(finding_kind::credits_not_granted, in, snap({user(1, "cus_1")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 1000);
    BOOST_TEST(out[0].correction->record_payment->amount == 0);
}

BOOST_AUTO_TEST_CASE(paid_without_entitlement_change_only_when_nothing_was_recorded) {
    auto in = window();
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    in.events.push_back(event_ref{"evt_paid", "invoice.paid", t0 + 10, "in_1"});
    auto out = only(finding_kind::paid_without_entitlement_change, in, snap({user(1, "cus_1")}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].owner == team::billing_engineering);
    BOOST_TEST(!out[0].correction);
    // The app got the webhook (and failed to grant): a handler bug, not a broken path.
    auto local = snap({user(1, "cus_1")});
    local.webhooks.push_back(webhook_delivery{"evt_paid", "invoice.paid", t0 + 11, "processed", 1, ""});
    BOOST_TEST(only(finding_kind::paid_without_entitlement_change, in, local, policy()).empty());
    // The payment was recorded: likewise.
    BOOST_TEST(only(finding_kind::paid_without_entitlement_change, in,
                    snap({user(1, "cus_1")}, {local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", ""}}), policy())
                   .empty());
}

BOOST_AUTO_TEST_CASE(amount_and_currency_mismatch) {
    auto in = window();
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    auto u = funded(1, "cus_1", {ev("ce_1", 1000, "grant", "in_1", t0)});
    auto out = diff(in, snap({u}, {local_payment{"in_1", "cus_1", 1, 1999, "EUR", "paid", ""}}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0].kind == finding_kind::amount_mismatch);
    BOOST_TEST(out[1].kind == finding_kind::currency_mismatch);
    BOOST_TEST(!out[0].correction);
    // Case alone is not a mismatch.
    BOOST_TEST(diff(in, snap({u}, {local_payment{"in_1", "cus_1", 1, 2000, "USD", "paid", ""}}), policy()).empty());
}

BOOST_AUTO_TEST_CASE(orphan_local_payment) {
    auto in = window();
    in.looked_up_invoices = {{"in_gone", ""}, {"in_void", "void"}, {"in_ok", "paid"}};
    auto u = funded(1, "cus_1", {});
    const auto paid = format_rfc3339(t0 + 100);
    auto out = diff(in,
                    snap({u}, {local_payment{"in_gone", "cus_1", 1, 100, "usd", "paid", paid},
                               local_payment{"in_void", "cus_1", 1, 100, "usd", "paid", paid},
                               local_payment{"in_ok", "cus_1", 1, 100, "usd", "paid", paid},
                               local_payment{"in_old", "cus_1", 1, 100, "usd", "paid", "2020-01-01T00:00:00Z"}}),
                    policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0].subject_id == "in_gone");
    BOOST_TEST(out[1].subject_id == "in_void");
    BOOST_TEST(out[0].owner == team::billing_engineering);
}

BOOST_AUTO_TEST_CASE(refund_after_credits_were_spent_claws_back_only_the_rest) {
    auto in = window();
    charge ch;
    ch.id = "ch_1";
    ch.customer = "cus_1";
    ch.invoice = "in_1";
    ch.amount = 2000;
    in.charge_cases.push_back(charge_case{"evt_r", false, ch, 2000, t0 + 50});
    // Granted 1000, spent 700: 300 left to take back.
    auto u = funded(1, "cus_1", {ev("ce_1", 1000, "grant", "in_1", t0 - 100), ev("ce_2", -700, "consume", "req_1", t0 - 50)});
    auto out = diff(in, snap({u}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].kind == finding_kind::refund_or_dispute);
    BOOST_REQUIRE(out[0].correction);
    BOOST_TEST(out[0].correction->kind == correction_kind::revoke_credits);
    BOOST_TEST(out[0].correction->credits == 300);
    BOOST_TEST(out[0].correction->unrecovered == 700);
    // Partial refund: half the credits are due back.
    in.charge_cases[0].amount = 1000;
    auto rich = funded(1, "cus_1", {ev("ce_1", 1000, "grant", "in_1", t0 - 100)});
    out = diff(in, snap({rich}), policy());
    BOOST_TEST(out.at(0).correction->credits == 500);
    // Already revoked: nothing. Flag-only policy: no correction.
    rich.credit_events.push_back(ev("ce_3", -500, "revoke", "ch_1", t0 + 60));
    rich.ai_credits -= 500;
    BOOST_TEST(diff(in, snap({rich}), policy()).empty());
    auto p = policy();
    p.clawback = false;
    out = diff(in, snap({u}), p);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(!out[0].correction);
}

// Basil removed charge.invoice: a refunded charge that nothing ties to an
// invoice (a one-off payment, or a link Stripe does not give) is a finding a
// person reviews, never skipped without a trace; a refund of a customer
// without app user is counted as passed over.
BOOST_AUTO_TEST_CASE(refunded_charge_tied_to_no_invoice_is_a_finding_not_silence) {
    auto in = window();
    charge ch;
    ch.id = "ch_1";
    ch.customer = "cus_1";
    ch.payment_intent = "pi_1";
    ch.amount = 2000;
    ch.currency = "usd";
    charge_case cc{"evt_r", false, ch, 2000, t0 + 50};
    cc.unlinked = "no paid invoice payment for pi_1";
    cc.link_request_id = "req_link";
    in.charge_cases.push_back(cc);
    charge stranger = ch;
    stranger.id = "ch_2";
    stranger.customer = "cus_nobody";
    stranger.invoice = "in_9";
    in.charge_cases.push_back(charge_case{"evt_s", true, stranger, 2000, t0 + 60});
    auto u = funded(1, "cus_1", {ev("ce_1", 1000, "grant", "in_1", t0 - 100)});
    diff_memory memory;
    auto out = diff(in, snap({u}), policy(), diff_scope::slice_rules, memory);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].kind == finding_kind::charge_without_invoice);
    BOOST_TEST(out[0].subject_id == "ch_1");
    BOOST_TEST(out[0].owner == team::billing_engineering);
    BOOST_TEST(!out[0].correction);
    BOOST_TEST(out[0].user_email == u.email);
    BOOST_TEST(out[0].evidence.at("why").as_string() == "no paid invoice payment for pi_1");
    BOOST_TEST(out[0].evidence.at("link_request_id").as_string() == "req_link");
    BOOST_TEST(out[0].evidence.at("reason").as_string() == "refund");
    BOOST_TEST(memory.passed_over.at("refunded_or_disputed_charge_of_customer_without_user") == 1);
}

BOOST_AUTO_TEST_CASE(unknown_customer_matched_by_id_then_email) {
    auto in = window();
    in.customers.push_back(customer{"cus_1", "user1@example.com", t0 + 5, false});
    in.customers.push_back(customer{"cus_2", "USER2@example.com", t0 + 5, false});
    in.customers.push_back(customer{"cus_3", "stranger@example.com", t0 + 5, false});
    in.customers.push_back(customer{"cus_4", "", t0 + 5, true});  // deleted: not ours to chase
    auto out = diff(in, snap({funded(1, "cus_1", {}), funded(2, "", {})}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].kind == finding_kind::unknown_customer);
    BOOST_TEST(out[0].subject_id == "cus_3");
    BOOST_TEST(out[0].owner == team::backend_engineering);
}

// The evidence names the response that showed the customer: its own
// object's Request-Id, else that of the invoice that named it (a support
// engineer quotes it to Stripe; an empty one sends them searching).
BOOST_AUTO_TEST_CASE(unknown_customer_evidence_has_the_request_id_of_what_named_it) {
    auto in = window();
    in.customers.push_back(customer{"cus_listed", "listed@example.com", t0 + 5, false});
    in.request_ids["cus_listed"] = "req_customers_page";
    in.invoices.push_back(paid_invoice("in_9", "cus_by_invoice", "price_pro_monthly"));
    in.invoices.back().customer_email = "nobody@example.com";
    in.request_ids["in_9"] = "req_invoices_page";
    std::map<std::string, std::string> request_id_of;
    for (const auto& f : only(finding_kind::unknown_customer, in, snap({}), policy()))
        request_id_of[f.subject_id] = std::string(f.evidence.at("stripe_request_id").as_string());
    BOOST_TEST(request_id_of["cus_listed"] == "req_customers_page");
    BOOST_TEST(request_id_of["cus_by_invoice"] == "req_invoices_page");
}

BOOST_AUTO_TEST_CASE(usage_and_consume_events) {
    auto in = window();
    auto u = funded(1, "cus_1", {ev("ce_g", 100, "grant", "in_0", t0 - 10), ev("ce_c1", -5, "consume", "req_1", t0 + 10),
                                 ev("ce_c2", -5, "consume", "req_ghost", t0 + 20)});
    local_snapshot local = snap({u});
    local.usage = {usage_row{1, 5, "req_1", t0 + 9}, usage_row{1, 5, "req_2", t0 + 30}};
    auto out = diff(in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].kind == finding_kind::credits_not_decrementing);
    BOOST_TEST(out[0].owner == team::data_platform);
    BOOST_TEST(out[0].evidence.at("usage_without_consume").as_array().size() == 1u);
    BOOST_TEST(out[0].evidence.at("consume_without_usage").as_array().size() == 1u);
    // The summary a person reads in the report: singular for one.
    BOOST_TEST(out[0].summary == "user1@example.com: 1 usage row without a consume event, 1 consume event without usage");
}

BOOST_AUTO_TEST_CASE(stuck_and_negative_balances_take_precedence) {
    auto in = window();
    auto stuck = funded(1, "cus_1", {ev("ce_g", 100, "grant", "in_0", t0 - 10)});
    auto negative = funded(2, "cus_2", {ev("ce_g2", 10, "grant", "in_9", t0 - 10), ev("ce_c", -15, "consume", "req_9", t0 - 5)});
    local_snapshot local = snap({stuck, negative});
    local.usage = {usage_row{1, 5, "req_1", t0 + 9}};
    auto out = diff(in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    for (const auto& f : out) BOOST_TEST(f.kind == finding_kind::negative_or_stuck_balance);
}

BOOST_AUTO_TEST_CASE(balance_drift_and_missing_correlation_id) {
    auto in = window();
    auto u = funded(1, "cus_1", {ev("ce_1", 100, "grant", "in_0", t0 + 10, ""), ev("ce_2", 50, "adjust", "support", t0 - 10, "")});
    u.ai_credits += 25;  // written to the balance, not the log
    auto out = diff(in, snap({u}), policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0].kind == finding_kind::missing_correlation_id);
    BOOST_TEST(out[0].subject_id == "ce_1");  // ce_2 is outside the window
    BOOST_TEST(out[0].owner == team::devops);
    BOOST_TEST(out[1].kind == finding_kind::balance_drift);
    BOOST_TEST(out[1].evidence.at("sum_of_credit_events").as_int64() == 150);
}

BOOST_AUTO_TEST_CASE(webhook_failures_and_missed_deliveries) {
    auto in = window();
    in.events = {event_ref{"evt_missed", "invoice.paid", t0 + 100, "in_1"},
                 event_ref{"evt_recent", "invoice.paid", in.end - 60, "in_2"},           // within grace
                 event_ref{"evt_unhandled", "invoice.payment_succeeded", t0 + 100, "in_1"},
                 event_ref{"evt_ok", "customer.subscription.updated", t0 + 100, "sub_1"}};
    local_snapshot local = snap({});
    local.webhooks = {webhook_delivery{"evt_ok", "customer.subscription.updated", t0 + 101, "failed", 2, "timeout"},
                      webhook_delivery{"evt_x1", "invoice.paid", t0 + 1, "signature_failed", 1, ""},
                      webhook_delivery{"evt_x2", "invoice.paid", t0 + 2, "signature_failed", 1, ""}};
    auto out = diff(in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[0].kind == finding_kind::webhook_failed_twice);
    BOOST_TEST(out[1].kind == finding_kind::missed_webhook);
    BOOST_TEST(out[1].subject_id == "evt_missed");
    // The threshold: a third forged delivery is a signature-failure finding for Stripe support.
    local.webhooks.push_back(webhook_delivery{"evt_x3", "invoice.paid", t0 + 3, "signature_failed", 1, ""});
    out = only(finding_kind::webhook_signature_failures, in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].owner == team::stripe_support);
}

// A late invoice.paid that lands in the slice after its invoice's still
// names the repair; repairs older than the part before are forgotten, so a
// run's memory holds two slices' corrections, not its window's.
BOOST_AUTO_TEST_CASE(missed_event_names_a_repair_of_the_part_before) {
    diff_memory memory;
    auto first = window();
    first.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    const auto repaired = diff(first, snap({user(1, "cus_1")}), policy(), diff_scope::slice_rules, memory);
    BOOST_TEST_REQUIRE(std::count_if(repaired.begin(), repaired.end(), [](const finding& f) {
                           return f.kind == finding_kind::credits_not_granted && f.correction;
                       }) == 1);

    auto next = window();
    next.events = {event_ref{"evt_late", "invoice.paid", t0 + 100, "in_1"}};
    const auto missed_in = [&] {
        auto out = diff(next, snap({}), policy(), diff_scope::slice_rules, memory);
        BOOST_REQUIRE_EQUAL(out.size(), 1u);
        BOOST_REQUIRE(out[0].kind == finding_kind::missed_webhook);
        return out[0];
    };
    forget_older_repairs(memory);  // the first slice is done
    auto f = missed_in();
    BOOST_TEST(f.evidence.at("repaired_by").as_string() == "credits_not_granted in_1");
    BOOST_TEST(f.summary.find("repaired by credits_not_granted in_1") != std::string::npos);

    forget_older_repairs(memory);  // and the one after it
    f = missed_in();
    BOOST_TEST(f.evidence.at("repaired_by").is_null());
    BOOST_TEST(memory.repaired_by.empty());
    BOOST_TEST(memory.repaired_before.empty());
}

// A run diffs a long window in parts (window rules, then slices): the parts
// together must find exactly what one diff over the whole window finds.
BOOST_AUTO_TEST_CASE(slices_find_what_the_whole_window_finds) {
    const unix_seconds day = 86400;
    window_input whole = window();
    whole.end = t0 + 3 * day;
    auto at = [](invoice inv, unix_seconds t) {
        inv.created = t;
        inv.paid_at = t + 10;
        return inv;
    };
    // Day 1: a missing grant; day 2: an invoice whose customer is known only by email;
    // day 3: an unknown customer's invoice.
    whole.invoices = {at(paid_invoice("in_1", "cus_1", "price_pro"), t0 + 100),
                      at(paid_invoice("in_2", "cus_mail", "price_pro"), t0 + day + 100),
                      at(paid_invoice("in_3", "cus_x", "price_pro"), t0 + 2 * day + 100)};
    whole.invoices[1].customer_email = "user2@example.com";
    // The email-only customer also has a subscription: in slices its match comes a slice later.
    whole.subscriptions = with_events({sub_event("evt_s1", t0 + 200, "sub_1", "cus_1", "active", "price_team"),
                                       sub_event("evt_s2", t0 + 300, "sub_2", "cus_mail", "active", "price_pro"),
                                       sub_event("evt_s3", t0 + 400, "sub_3", "cus_ghost", "active", "price_pro")})
                              .subscriptions;
    // The same charge refunded on day 1 and disputed on day 3: one finding.
    charge ch;
    ch.id = "ch_1";
    ch.customer = "cus_1";
    ch.invoice = "in_0";
    ch.amount = 2000;
    whole.charge_cases = {charge_case{"evt_r", false, ch, 2000, t0 + 500},
                          charge_case{"evt_d", true, ch, 2000, t0 + 2 * day + 500}};
    whole.events = {event_ref{"evt_s1", "customer.subscription.updated", t0 + 200, "sub_1"},
                    event_ref{"evt_p1", "invoice.paid", t0 + 110, "in_1"},
                    event_ref{"evt_p3", "invoice.paid", t0 + 2 * day + 110, "in_3"}};
    auto u1 = funded(1, "cus_1", {ev("ce_g0", 1000, "grant", "in_0", t0 - 100)});
    auto u2 = funded(2, "", {});
    u2.plan = "free";
    local_snapshot local = snap({u1, u2});
    local.usage = {usage_row{1, 5, "req_u", t0 + day + 5}};
    local.webhooks = {webhook_delivery{"evt_w", "invoice.paid", t0 + 50, "failed", 2, "timeout"},
                      webhook_delivery{"evt_p3", "invoice.paid", t0 + 2 * day + 111, "processed", 1, ""}};

    auto keys = [](const std::vector<finding>& fs) {
        std::multiset<std::string> out;
        for (const auto& f : fs)
            out.insert(std::string(to_string(f.kind)) + " " + f.subject_id + (f.correction ? " +fix" : ""));
        return out;
    };
    const auto expected = keys(diff(whole, local, policy()));
    BOOST_TEST(expected.count("credits_not_granted in_1 +fix") == 1);
    BOOST_TEST(expected.count("unknown_customer cus_x") == 1);
    BOOST_TEST(expected.count("unknown_customer cus_ghost") == 1);
    BOOST_TEST(expected.count("unknown_customer cus_mail") == 0);
    BOOST_TEST(expected.count("refund_or_dispute ch_1 +fix") == 1);
    BOOST_TEST(expected.count("tier_mismatch sub_1 +fix") == 1);
    BOOST_TEST(expected.count("missed_webhook evt_s1") == 1);
    BOOST_TEST(expected.count("webhook_failed_twice evt_w") == 1);
    BOOST_TEST(expected.count("credits_not_decrementing user1@example.com") +
                   expected.count("negative_or_stuck_balance user1@example.com") == 1);

    // The window part (whole, or in chunks as the run does it: tiers per
    // customer with only that customer's users, users one at a time with
    // their usage, then the webhook log, then the missed events one by
    // one), then three one-day slices, then
    // the pending customers.
    for (const bool chunked : {false, true}) {
        BOOST_TEST_CONTEXT("window part " << (chunked ? "in chunks" : "whole")) {
            diff_memory memory;
            window_input w = window();
            w.end = whole.end;
            std::vector<event_ref> sub_events;
            for (const auto& e : whole.events)
                if (e.type.rfind("customer.subscription.", 0) == 0) sub_events.push_back(e);
            std::vector<finding> parts;
            auto add = [&](std::vector<finding> fs) {
                for (auto& f : fs) parts.push_back(std::move(f));
            };
            if (!chunked) {
                w.subscriptions = whole.subscriptions;
                w.events = sub_events;
                add(diff(w, local, policy(), diff_scope::window_rules, memory));
            } else {
                for (const auto& st : whole.subscriptions) {
                    window_input tier = w;
                    tier.subscriptions = {st};
                    local_snapshot users_of_customer;
                    for (const auto& u : local.users)
                        if (u.stripe_customer_id == st.sub.customer) users_of_customer.users.push_back(u);
                    add(diff(tier, users_of_customer, policy(), diff_scope::tier_rules, memory));
                }
                for (const auto& u : local.users) {
                    local_snapshot one;
                    one.users = {u};
                    for (const auto& r : local.usage)
                        if (r.user_id == u.id) one.usage.push_back(r);
                    add(diff(w, one, policy(), diff_scope::user_rules, memory));
                }
                local_snapshot log;
                log.webhooks = local.webhooks;
                add(diff(w, log, policy(), diff_scope::webhook_rules, memory));
                for (const auto& e : sub_events) {  // the missed events one at a time
                    window_input one = w;
                    one.events = {e};
                    add(diff(one, log, policy(), diff_scope::missed_events, memory));
                }
            }
            for (int d = 0; d < 3; ++d) {
                window_input sl;
                sl.start = t0 + d * day;
                sl.end = sl.start + day;
                sl.window_end = whole.end;
                auto in_slice = [&](unix_seconds t) { return t >= sl.start && t < sl.end; };
                for (const auto& inv : whole.invoices)
                    if (in_slice(*inv.paid_at)) sl.invoices.push_back(inv);
                for (const auto& cc : whole.charge_cases)
                    if (in_slice(cc.created)) sl.charge_cases.push_back(cc);
                for (const auto& e : whole.events)
                    if (in_slice(e.created) && e.type.rfind("customer.subscription.", 0) != 0) sl.events.push_back(e);
                add(diff(sl, local, policy(), diff_scope::slice_rules, memory));
            }
            add(pending_customers(memory));
            BOOST_TEST(keys(parts) == expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()


// Issue 19: Stripe data (or a rewriting proxy in front of it) that must never
// turn into a wrong correction. Each hostile invoice is flagged
// invalid_stripe_object with no correction, and the others still get theirs.
BOOST_AUTO_TEST_SUITE(hostile_stripe_data)

namespace {

std::vector<finding> of_kind(const std::vector<finding>& all, finding_kind k) {
    std::vector<finding> out;
    for (const auto& f : all)
        if (f.kind == k) out.push_back(f);
    return out;
}

// One hostile invoice for cus_1 beside a normal one for cus_2: the hostile one
// is the only invalid_stripe_object, carries no correction and names the
// field; the normal one is still granted.
void expect_flagged_not_granted(const invoice& hostile, const std::string& field, const diff_policy& p = policy()) {
    auto in = window();
    in.invoices.push_back(hostile);
    in.invoices.push_back(paid_invoice("in_ok", "cus_2", "price_pro"));
    in.request_ids[hostile.id] = "req_hostile";
    const auto all = diff(in, snap({user(1, "cus_1", "team"), user(2, "cus_2")}), p);
    const auto bad = of_kind(all, finding_kind::invalid_stripe_object);
    BOOST_REQUIRE_EQUAL(bad.size(), 1u);
    BOOST_TEST(bad[0].subject_id == hostile.id);
    BOOST_TEST(bad[0].owner == team::backend_engineering);
    BOOST_TEST(!bad[0].correction);
    BOOST_TEST(bad[0].evidence.at("field").as_string() == field);
    BOOST_TEST(bad[0].evidence.at("stripe_request_id").as_string() == "req_hostile");
    BOOST_TEST(bad[0].evidence.at("paid_invoice").as_bool());
    for (const auto& f : all) {
        if (f.subject_id != hostile.id) continue;
        BOOST_TEST(!f.correction, to_string(f.kind) << " of the hostile invoice proposes a correction");
    }
    const auto granted = of_kind(all, finding_kind::credits_not_granted);
    BOOST_REQUIRE_EQUAL(granted.size(), 1u);
    BOOST_TEST(granted[0].subject_id == "in_ok");
    BOOST_TEST(granted[0].correction->credits == 1000);
}

}  // namespace

// The issue's numbers: 5000 credits x 3689348814741911 wraps to a small
// plausible grant; 4e15 wraps to 1.55e18 and tripped the blast cap.
BOOST_AUTO_TEST_CASE(overflowing_quantity_is_flagged_never_granted) {
    auto p = policy();
    p.max_line_quantity = INT64_MAX;  // only the overflow check stands between it and a grant
    p.max_credits_per_invoice = INT64_MAX;
    expect_flagged_not_granted(paid_invoice("in_wrap", "cus_1", "price_team", 3689348814741911), "lines.data[0].quantity",
                               p);
    expect_flagged_not_granted(paid_invoice("in_big", "cus_1", "price_team", 4'000'000'000'000'000), "lines.data[0].quantity",
                               p);
    // Two lines that each fit but whose sum does not.
    auto two = paid_invoice("in_sum", "cus_1", "price_team", INT64_MAX / 5000);
    two.lines.push_back(two.lines[0]);
    expect_flagged_not_granted(two, "lines.data[1].quantity", p);
}

BOOST_AUTO_TEST_CASE(ceilings_on_line_quantity_and_invoice_credits) {
    auto p = policy();
    p.max_line_quantity = 100;
    p.max_credits_per_invoice = 400'000;
    expect_flagged_not_granted(paid_invoice("in_q", "cus_1", "price_team", 101), "lines.data[0].quantity", p);
    // 80 x 5000 = 400000: at the ceiling, granted.
    auto at = window();
    at.invoices.push_back(paid_invoice("in_at", "cus_1", "price_team", 80));
    const auto ok = of_kind(diff(at, snap({user(1, "cus_1", "team")}), p), finding_kind::credits_not_granted);
    BOOST_REQUIRE_EQUAL(ok.size(), 1u);
    BOOST_TEST(ok[0].correction->credits == 400'000);
    // 81 x 5000: over it.
    expect_flagged_not_granted(paid_invoice("in_c", "cus_1", "price_team", 81), "lines", p);
    // A line on a price that grants nothing is not bounded (metered usage).
    auto metered = window();
    p.prices["price_metered"] = {"", 0};
    auto inv = paid_invoice("in_m", "cus_1", "price_team", 1);
    inv.lines.push_back(invoice_line{"il_m", "price_metered", 5'000'000, 0, false});
    metered.invoices.push_back(inv);
    const auto m = diff(metered, snap({user(1, "cus_1", "team")}), p);
    BOOST_TEST(of_kind(m, finding_kind::invalid_stripe_object).empty());
    BOOST_TEST(of_kind(m, finding_kind::credits_not_granted).size() == 1u);
}

BOOST_AUTO_TEST_CASE(negative_amount_or_quantity_is_flagged_never_recorded) {
    auto neg = paid_invoice("in_neg", "cus_1", "price_pro");
    neg.amount_paid = -900;
    expect_flagged_not_granted(neg, "amount_paid");
    // Even when the app recorded a payment: no amount_mismatch asks to make it -900.
    auto in = window();
    in.invoices.push_back(neg);
    const auto all = diff(in, snap({user(1, "cus_1")}, {local_payment{"in_neg", "cus_1", 1, 2000, "usd", "paid", ""}}),
                          policy());
    BOOST_TEST(of_kind(all, finding_kind::amount_mismatch).empty());
    auto negq = paid_invoice("in_negq", "cus_1", "price_team", -3);
    negq.amount_paid = 6000;
    expect_flagged_not_granted(negq, "lines.data[0].quantity");
}

// The fetch hands over objects that broke the schema; each is one finding,
// with the page's Request-Id, the list and the field, and the run goes on.
BOOST_AUTO_TEST_CASE(objects_that_broke_the_schema_become_findings) {
    auto in = window();
    in.invoices.push_back(paid_invoice("in_ok", "cus_2", "price_pro"));
    invalid_object o;
    o.object_type = "invoice";
    o.object_id = "in_bad";
    o.customer = "cus_1";
    o.resource = "/v1/invoices";
    o.request_id = "req_page";
    o.field = "amount_paid";
    o.problem = "invoice in_bad: field amount_paid: expected integer";
    o.paid = true;
    in.invalid_objects.push_back(o);
    in.invalid_objects.push_back(o);  // the same object in an event and a list: one finding
    // A listed item without a readable id, as the fetch describes it.
    const boost::json::value junk = boost::json::parse(R"(["not", "an", "object"])");
    in.invalid_objects.push_back(
        describe_invalid(junk, "/v1/events", "req_ev", parse_error("a listed item is not a JSON object")));
    for (auto scope : {diff_scope::slice_rules, diff_scope::window_rules}) {
        diff_memory memory;
        const auto all = diff(in, snap({user(1, "cus_1"), user(2, "cus_2")}), policy(), scope, memory);
        const auto bad = of_kind(all, finding_kind::invalid_stripe_object);
        BOOST_REQUIRE_EQUAL(bad.size(), 2u);
        BOOST_TEST(bad[0].subject_type == "invoice");
        BOOST_TEST(bad[0].subject_id == "in_bad");
        BOOST_TEST(bad[0].user_id.value_or(0) == 1);
        BOOST_TEST(bad[0].evidence.at("stripe_request_id").as_string() == "req_page");
        BOOST_TEST(bad[0].evidence.at("list").as_string() == "/v1/invoices");
        BOOST_TEST(bad[0].evidence.at("field").as_string() == "amount_paid");
        BOOST_TEST(bad[0].summary.find("req_page") != std::string::npos);
        BOOST_TEST(bad[1].subject_type == "stripe_object");
        BOOST_TEST(bad[1].subject_id.starts_with("unreadable:"));
        BOOST_TEST(bad[1].evidence.at("stripe_request_id").as_string() == "req_ev");
    }
    // The next run fetches the same object in another response: the same
    // subject, so its escalation is raised again rather than opened anew.
    const auto first = of_kind(diff(in, snap({user(1, "cus_1")}), policy()), finding_kind::invalid_stripe_object);
    in.invalid_objects.back() =
        describe_invalid(junk, "/v1/events", "req_next_run", parse_error("a listed item is not a JSON object"));
    const auto again = of_kind(diff(in, snap({user(1, "cus_1")}), policy()), finding_kind::invalid_stripe_object);
    BOOST_REQUIRE(first.size() == 2u && again.size() == 2u);
    BOOST_TEST(again[1].subject_id == first[1].subject_id);
    // Another broken object is another subject.
    in.invalid_objects.back() = describe_invalid(boost::json::parse(R"([1])"), "/v1/events", "req_ev",
                                                 parse_error("a listed item is not a JSON object"));
    const auto other = of_kind(diff(in, snap({user(1, "cus_1")}), policy()), finding_kind::invalid_stripe_object);
    BOOST_TEST(other[1].subject_id != first[1].subject_id);
}

BOOST_AUTO_TEST_SUITE_END()
