// The store (either backend), ledger: corrections, reverts and adjusts on the app's users, with their ledger rows.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_ledger)

BOOST_AUTO_TEST_CASE(grant_is_applied_once_with_its_payment) {
    temp_db t;
    auto s = t.open();
    auto r = s->apply(grant(), 0, "corr-1");
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(r.payment_recorded);
    BOOST_TEST(r.balance_after == 1050);

    auto m = t.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 1050);
    BOOST_TEST(m.at("theme").as_string() == "dark");  // the app's other keys survive
    const auto& events = m.at("credit_events").as_array();
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_TEST(events[0].at("source").as_string() == "in_1");
    BOOST_TEST(events[0].at("kind").as_string() == "grant");
    BOOST_TEST(events[0].at("correlation_id").as_string() == "corr-1");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = 'in_1'") == 1);

    // Again, from another run with another correlation id: nothing changes.
    auto again = s->apply(grant(), 0, "corr-2");
    BOOST_TEST(again.outcome == store::apply_outcome::already_applied);
    BOOST_TEST(again.correlation_id == "corr-1");
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 1050);
    BOOST_TEST(t.metadata(1).at("credit_events").as_array().size() == 1u);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 1);
}

// Issue 19: a balance that would wrap is never written: the correction fails
// (store_error: the corrector reports it failed and goes on), nothing changes.
BOOST_AUTO_TEST_CASE(a_grant_that_would_wrap_the_balance_is_refused_and_rolled_back) {
    temp_db t;
    auto s = t.open();
    t.exec("UPDATE users SET plan_metadata = '{\"ai_credits\":9223372036854775000,\"credit_events\":[]}' WHERE id = 1");
    BOOST_CHECK_THROW(s->apply(grant(), 0, "corr-1"), store::store_error);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 9223372036854775000);
    BOOST_TEST(t.metadata(1).at("credit_events").as_array().empty());
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM payments") == 0);
}

BOOST_AUTO_TEST_CASE(grant_the_app_made_meanwhile_supersedes) {
    temp_db t;
    auto s = t.open();
    t.exec("UPDATE users SET plan_metadata = '{\"ai_credits\":1050,\"credit_events\":[{\"id\":\"ce_app\",\"delta\":1000,"
           "\"kind\":\"grant\",\"source\":\"in_1\",\"correlation_id\":\"x\"}]}' WHERE id = 1");
    auto r = s->apply(grant(), 0, "corr-1");
    BOOST_TEST(r.outcome == store::apply_outcome::superseded);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 1050);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM payments") == 0);
}

BOOST_AUTO_TEST_CASE(tier_change_checks_the_current_plan) {
    temp_db t;
    auto s = t.open();
    proposed_correction c;
    c.kind = correction_kind::set_tier;
    c.ledger_key = "sub_1#evt_1";
    c.user_id = 1;
    c.tier_from = "free";  // stale: the user is on pro now
    c.tier_to = "team";
    BOOST_TEST(s->apply(c, 0, "c1").outcome == store::apply_outcome::conflict);
    c.tier_from = "pro";
    BOOST_TEST(s->apply(c, 0, "c2").outcome == store::apply_outcome::applied);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM users WHERE id = 1 AND plan = 'team'") == 1);
    BOOST_TEST(s->apply(c, 0, "c3").outcome == store::apply_outcome::already_applied);
    c.ledger_key = "sub_1#evt_2";
    BOOST_TEST(s->apply(c, 0, "c4").outcome == store::apply_outcome::superseded);
}

// PostgreSQL's counterpart: tests/store/postgres (the user's row locked).
BOOST_AUTO_TEST_CASE(waits_for_the_apps_write_lock, *boost::unit_test::precondition(sqlite_only)) {
    temp_db t;
    auto s = t.open();
    SQLite::Database app(t.path.string(), SQLite::OPEN_READWRITE, 5000);
    auto tx = std::make_unique<SQLite::Transaction>(app, SQLite::TransactionBehavior::IMMEDIATE);
    app.exec("INSERT INTO ai_usage(user_id, credits, request_id, created_at) VALUES (1, 5, 'r1', '2026-11-24T00:00:00Z')");
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        tx->commit();
    });
    auto r = s->apply(grant(), 0, "corr-1");  // blocks on the lock, then proceeds
    release.join();
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM ai_usage") == 1);  // the app's write is kept too
}

BOOST_AUTO_TEST_CASE(revoke_never_goes_below_zero_and_applies_once) {
    temp_db t;  // user 1 has 50 credits
    auto s = t.open();
    proposed_correction c;
    c.kind = correction_kind::revoke_credits;
    c.ledger_key = "ch_1";
    c.user_id = 1;
    c.credits = 80;  // more than is left: only 50 can come back
    c.source = "ch_1";
    c.reason = "refund";
    auto r = s->apply(c, 0, "corr-r");
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(r.credits_applied == 50);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 0);
    const auto m = t.metadata(1);
    const auto& events = m.at("credit_events").as_array();
    BOOST_TEST(events.at(0).at("delta").as_int64() == -50);
    BOOST_TEST(events.at(0).at("kind").as_string() == "revoke");
    BOOST_TEST(s->apply(c, 0, "corr-r2").outcome == store::apply_outcome::already_applied);
    BOOST_TEST(t.count("SELECT credits_delta FROM recon_corrections") == -50);
}

BOOST_AUTO_TEST_CASE(revert_compensates_once) {
    temp_db t;
    auto s = t.open();
    auto r = s->apply(grant(), 0, "corr-1");
    auto rv = s->revert(r.correction_id, "corr-rev");
    BOOST_TEST(rv.credits_delta == -1000);
    auto m = t.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 50);
    BOOST_TEST(m.at("credit_events").as_array().size() == 2u);
    BOOST_TEST(m.at("credit_events").as_array().at(1).at("source").as_string() == "corr-1");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections WHERE status = 'reverted'") == 1);
    BOOST_CHECK_THROW(s->revert(r.correction_id, "again"), store::store_error);
    BOOST_CHECK_THROW(s->revert(999, "none"), store::store_error);
    // A tier the app changed since cannot be reverted blindly.
    proposed_correction c;
    c.kind = correction_kind::set_tier;
    c.ledger_key = "sub_1#evt_1";
    c.user_id = 1;
    c.tier_from = "pro";
    c.tier_to = "team";
    auto tr = s->apply(c, 0, "c-tier");
    t.exec("UPDATE users SET plan = 'free' WHERE id = 1");
    BOOST_CHECK_THROW(s->revert(tr.correction_id, "rv"), store::store_error);
}

// Support's adjust: one credit event and a support_adjust ledger row; a
// consume below zero is refused (nothing written) unless forced.
BOOST_AUTO_TEST_CASE(adjust_writes_one_event_and_its_ledger_row) {
    temp_db t;  // user 1: pro, 50 credits
    auto s = t.open();
    store::adjustment a;
    a.user_id = 1;
    a.grant = 25;
    a.reason = "goodwill";
    const auto r = s->adjust(a, "corr-a");
    BOOST_TEST(r.balance_before == 50);
    BOOST_TEST(r.balance_after == 75);
    BOOST_TEST(r.credit_event_id.rfind("ce_", 0) == 0u);
    const auto m = t.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 75);
    BOOST_TEST(m.at("theme").as_string() == "dark");  // the app's other keys survive
    const auto& ev = m.at("credit_events").as_array().at(0);
    BOOST_TEST(ev.at("source").as_string() == "support");
    BOOST_TEST(ev.at("kind").as_string() == "grant");
    BOOST_TEST(ev.at("correlation_id").as_string() == "corr-a");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections WHERE kind = 'support_adjust'"
                       " AND stripe_object = 'support:corr-a' AND credits_delta = 25") == 1);

    store::adjustment consume;
    consume.user_id = 1;
    consume.consume = 100;
    consume.reason = "abuse";
    BOOST_CHECK_THROW(s->adjust(consume, "corr-b"), store::adjust_refused);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 75);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 1);
    consume.force = true;
    BOOST_TEST(s->adjust(consume, "corr-c").balance_after == -25);

    store::adjustment tier;
    tier.user_id = 1;
    tier.set_tier = "team";
    tier.reason = "upgrade";
    const auto tr = s->adjust(tier, "corr-d");
    BOOST_TEST(tr.tier_before == "pro");
    BOOST_TEST(tr.tier_after == "team");
    BOOST_TEST(tr.credit_event_id.empty());
    BOOST_TEST(t.count("SELECT COUNT(*) FROM users WHERE id = 1 AND plan = 'team'") == 1);

    store::adjustment nobody;
    nobody.user_id = 99;
    nobody.grant = 1;
    BOOST_TEST(message_of([&] { s->adjust(nobody, "corr-e"); }).find("no such user") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
