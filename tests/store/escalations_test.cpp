// The store (either backend), escalations: escalations: raise, watch, resolve, list.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_escalations)

BOOST_AUTO_TEST_CASE(escalations_count_occurrences_watch_and_resolve) {
    temp_db t;
    auto s = t.open();
    store::escalation_input e{"data_platform", "balance_drift", "a@example.com", "{}", 0};
    auto first = s->raise(e, 1, 1);
    BOOST_TEST(first.is_new);
    auto second = s->raise(e, 2, 1);
    BOOST_TEST(!second.is_new);
    BOOST_TEST(second.id == first.id);
    BOOST_TEST(second.occurrences == 2);
    // Escalated only on the second failure.
    store::escalation_input tier{"billing_engineering", "tier_mismatch", "sub_1", "{}", 1000};
    BOOST_TEST(s->raise(tier, 1, 2).status == "watching");
    auto again = s->raise(tier, 2, 2);
    BOOST_TEST(again.status == "open");
    BOOST_TEST(again.is_new);
    // A run over [0, 500) did not look at sub_1 (at 1000): only the drift resolves.
    BOOST_TEST(s->resolve_absent(3, 0, 500, {"balance_drift", "tier_mismatch"}) == 1);
    BOOST_TEST(s->open_escalations().size() == 1u);
    // Run 4 raised sub_1 again (in any part of the run): still present.
    BOOST_TEST(s->raise(tier, 4, 2).status == "open");
    BOOST_TEST(s->resolve_absent(4, 0, 2000, {"tier_mismatch"}) == 0);
    BOOST_TEST(s->resolve_absent(5, 0, 2000, {"balance_drift"}) == 0);  // not a kind run 5 resolves
    BOOST_TEST(s->open_escalations().size() == 1u);
    BOOST_TEST(s->resolve_absent(5, 0, 2000, {"tier_mismatch"}) == 1);
    BOOST_TEST(s->open_escalations().empty());
}

// A report's order: open before watching, then oldest first; evidence left out.
BOOST_AUTO_TEST_CASE(open_escalations_by_age_and_count) {
    temp_db t;
    auto s = t.open();
    s->raise(store::escalation_input{"support", "balance_drift", "new@example.com", R"({"x":1})", 0}, 1, 1);
    s->raise(store::escalation_input{"support", "balance_drift", "old@example.com", R"({"x":2})", 0}, 1, 1);
    s->raise(store::escalation_input{"support", "tier_mismatch", "sub_w", "{}", 0}, 1, 2);  // watching
    t.exec("UPDATE recon_escalations SET first_seen = '2026-01-01T00:00:00Z' WHERE subject = 'old@example.com'");
    t.exec("UPDATE recon_escalations SET first_seen = '2025-01-01T00:00:00Z' WHERE subject = 'sub_w'");
    BOOST_TEST(s->count_open_escalations() == 3);
    std::vector<std::string> order;
    s->each_open_escalation_by_age(now_unix(), [&](const store::escalation& e) {
        order.push_back(e.subject);
        BOOST_TEST(e.evidence.empty());
    });
    BOOST_TEST(order == (std::vector<std::string>{"old@example.com", "new@example.com", "sub_w"}),
               boost::test_tools::per_element());
    std::vector<std::string> evidence;
    s->each_open_escalation([&](const store::escalation& e) { evidence.push_back(e.evidence); });
    BOOST_TEST(evidence.at(0) == "{}");  // first_seen order, with the evidence
    BOOST_TEST(store::escalation_age_days("2026-01-01T00:00:00Z", parse_rfc3339("2026-01-03T12:00:00Z")) == 2);
    BOOST_TEST(store::escalation_age_days("not a time", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
