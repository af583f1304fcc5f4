// The pure diff: value types in, findings out.
#include "core/diff.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace reconciler;

namespace reconciler {
// Boost.Test prints the operands of a failed assertion.
std::ostream& operator<<(std::ostream& os, finding_kind k) { return os << to_string(k); }
std::ostream& operator<<(std::ostream& os, team t) { return os << to_string(t); }
}  // namespace reconciler

namespace {

diff_policy policy() {
    diff_policy p;
    p.prices = {{"price_pro", {"pro", 1000}}, {"price_team", {"team", 5000}}, {"price_pack", {"", 500}}};
    return p;
}

invoice paid_invoice(std::string id, std::string customer, std::string price, std::int64_t qty = 1) {
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

local_user user(std::int64_t id, std::string customer, std::string plan = "pro") {
    local_user u;
    u.id = id;
    u.email = "user" + std::to_string(id) + "@example.com";
    u.plan = std::move(plan);
    u.stripe_customer_id = std::move(customer);
    return u;
}

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

window_input with_events(const std::vector<event>& events) {
    subscription_folder folder;
    for (const auto& e : events) folder.add(e);
    window_input in;
    in.subscriptions = folder.states();
    return in;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(credits_not_granted)

BOOST_AUTO_TEST_CASE(paid_invoice_without_grant_and_without_payment) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    in.request_ids["in_1"] = "req_abc";
    local_snapshot local{{user(1, "cus_1")}, {}};
    auto out = diff(in, local, policy());
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
    local_snapshot local{{user(1, "cus_1")}, {local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", ""}}};
    auto out = diff(in, local, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_REQUIRE(out[0].correction);
    BOOST_TEST(!out[0].correction->record_payment);
}

BOOST_AUTO_TEST_CASE(grant_present_is_no_finding) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    auto u = user(1, "cus_1");
    u.credit_events.push_back(grant("in_1", 1000));
    BOOST_TEST(diff(in, local_snapshot{{u}, {}}, policy()).empty());
    // A consume sourced from the invoice id is not a grant.
    u.credit_events[0].kind = "consume";
    BOOST_TEST(diff(in, local_snapshot{{u}, {}}, policy()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(quantity_multiplies_credits) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_team", 3));
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "team")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 15000);
}

BOOST_AUTO_TEST_CASE(proration_lines_grant_nothing) {
    auto inv = paid_invoice("in_1", "cus_1", "price_team");
    inv.lines[0].proration = true;
    window_input in;
    in.invoices.push_back(inv);
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1")}, {}}, policy()).empty());
    // A proration line next to a full line: only the full one counts.
    inv.lines.push_back(invoice_line{"il_full", "price_pro", 1, 2000, false});
    in.invoices = {inv};
    auto out = diff(in, local_snapshot{{user(1, "cus_1")}, {}}, policy());
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
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1")}, {}}, policy()).empty());
}

BOOST_AUTO_TEST_CASE(truncated_lines_are_flagged_without_correction) {
    auto inv = paid_invoice("in_1", "cus_1", "price_pro");
    inv.lines_truncated = true;
    window_input in;
    in.invoices.push_back(inv);
    auto out = diff(in, local_snapshot{{user(1, "cus_1")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(!out[0].correction);
}

BOOST_AUTO_TEST_CASE(user_matched_by_email_when_customer_id_unknown) {
    auto inv = paid_invoice("in_1", "cus_new", "price_pack");
    inv.customer_email = "USER1@example.com";
    window_input in;
    in.invoices.push_back(inv);
    auto out = diff(in, local_snapshot{{user(1, "")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->credits == 500);
    BOOST_TEST(out[0].correction->user_id == 1);
}

BOOST_AUTO_TEST_CASE(duplicate_invoice_snapshots_yield_one_finding) {
    window_input in;
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    in.invoices.push_back(paid_invoice("in_1", "cus_1", "price_pro"));
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1")}, {}}, policy()).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tier_mismatch)

BOOST_AUTO_TEST_CASE(upgrade_missed) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", "active", "price_team")});
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "pro")}, {}}, policy());
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
        auto out = diff(in, local_snapshot{{user(1, "cus_1", "pro")}, {}}, policy());
        BOOST_REQUIRE_EQUAL(out.size(), 1u);
        BOOST_TEST(out[0].correction->tier_to == "free");
    }
}

BOOST_AUTO_TEST_CASE(late_arriving_older_event_does_not_win) {
    // The newer event (team) arrives first, the older (pro) last.
    auto in = with_events({sub_event("evt_new", 200, "sub_1", "cus_1", "active", "price_team"),
                           sub_event("evt_old", 100, "sub_1", "cus_1", "active", "price_pro")});
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "pro")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "team");
    BOOST_TEST(out[0].correction->source == "evt_new");
    // And a user already on the newest tier is fine, whatever came late.
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1", "team")}, {}}, policy()).empty());
}

BOOST_AUTO_TEST_CASE(same_second_disagreement_needs_the_subscription) {
    subscription_folder folder;
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "canceled", "price_team"));
    BOOST_REQUIRE_EQUAL(folder.ambiguous().size(), 1u);
    BOOST_TEST(folder.states().empty());  // no decision from a coin toss
    subscription truth;
    truth.id = "sub_1";
    truth.customer = "cus_1";
    truth.status = "canceled";
    truth.items.push_back(subscription_item{"si_1", "price_team", 1, std::nullopt});
    folder.resolve(truth);
    window_input in;
    in.subscriptions = folder.states();
    BOOST_REQUIRE_EQUAL(in.subscriptions.size(), 1u);
    BOOST_TEST(in.subscriptions[0].retrieved);
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "team")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "free");
}

BOOST_AUTO_TEST_CASE(same_second_agreement_is_not_ambiguous) {
    subscription_folder folder;
    folder.add(sub_event("evt_a", 100, "sub_1", "cus_1", "active", "price_team"));
    folder.add(sub_event("evt_b", 100, "sub_1", "cus_1", "active", "price_team"));
    BOOST_TEST(folder.ambiguous().empty());
    BOOST_TEST(folder.states().size() == 1u);
}

BOOST_AUTO_TEST_CASE(past_due_follows_policy) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", "past_due", "price_team")});
    auto p = policy();
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1", "team")}, {}}, p).empty());
    p.past_due_tier = "free";
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "team")}, {}}, p);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "free");
}

BOOST_AUTO_TEST_CASE(incomplete_and_paused_have_no_opinion) {
    for (const char* status : {"incomplete", "paused"}) {
        auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_1", status, "price_team")});
        BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1", "pro")}, {}}, policy()).empty());
    }
}

BOOST_AUTO_TEST_CASE(replacement_subscription_beats_canceled_one) {
    auto in = with_events({sub_event("evt_1", 100, "sub_old", "cus_1", "canceled", "price_pro"),
                           sub_event("evt_2", 101, "sub_new", "cus_1", "active", "price_team")});
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "free")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].correction->tier_to == "team");
    BOOST_TEST(out[0].subject_id == "sub_new");
}

BOOST_AUTO_TEST_CASE(conflicting_live_subscriptions_are_flagged_not_fixed) {
    auto in = with_events({sub_event("evt_1", 100, "sub_a", "cus_1", "active", "price_pro"),
                           sub_event("evt_2", 101, "sub_b", "cus_1", "active", "price_team")});
    auto out = diff(in, local_snapshot{{user(1, "cus_1", "free")}, {}}, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(!out[0].correction);
}

BOOST_AUTO_TEST_CASE(unknown_customer_is_not_a_tier_finding) {
    auto in = with_events({sub_event("evt_1", 100, "sub_1", "cus_x", "active", "price_team")});
    BOOST_TEST(diff(in, local_snapshot{{user(1, "cus_1", "pro")}, {}}, policy()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
