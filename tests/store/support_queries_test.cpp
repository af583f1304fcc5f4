// The store (either backend), support_queries: the support commands' look-ups.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_support_queries)

BOOST_AUTO_TEST_CASE(finds_a_user_by_email_whatever_its_case) {
    temp_db t;
    auto s = t.open();
    store::support_queries& support = *s;
    const auto u = support.find_user_by_email("A@Example.COM");
    BOOST_REQUIRE(u.has_value());
    BOOST_TEST(u->id == 1);
    BOOST_TEST(u->stripe_customer_id == "cus_1");
    BOOST_TEST(u->ai_credits == 50);
    BOOST_TEST(!support.find_user_by_email("nobody@example.com").has_value());
}

// A user's escalations: about its email, or with its customer in the evidence.
BOOST_AUTO_TEST_CASE(escalations_for_a_user_by_email_or_customer) {
    temp_db t;
    auto s = t.open();
    s->raise(store::escalation_input{"support", "balance_drift", "a@example.com", "{}", 0}, 1, 1);
    s->raise(store::escalation_input{"billing", "unpaid", "in_9", R"({"customer":"cus_1"})", 0}, 1, 1);
    s->raise(store::escalation_input{"billing", "unpaid", "in_8", R"({"customer":"cus_2"})", 0}, 1, 1);
    const auto a = s->find_user_by_email("a@example.com").value();
    std::set<std::string> subjects;
    for (const auto& e : s->escalations_for(a)) subjects.insert(e.subject);
    BOOST_TEST((subjects == std::set<std::string>{"a@example.com", "in_9"}));
    const auto b = s->find_user_by_email("b@example.com").value();  // no customer id
    BOOST_TEST(s->escalations_for(b).empty());
}

BOOST_AUTO_TEST_SUITE_END()
