// Subscription states: their JSON form (the store's scratch keeps rows as
// text) and the memory table's hand-out by customer.
#include "core/subscription_folder.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace reconciler;

namespace {

subscription_state state(std::string id, std::string customer, std::string event_id) {
    subscription_state s;
    s.sub.id = std::move(id);
    s.sub.customer = std::move(customer);
    s.sub.status = "active";
    s.sub.created = 1700000000;
    s.sub.items.push_back(subscription_item{"si_" + s.sub.id, "price_pro", 2, 1702592000, "Pro", "prod_pro"});
    s.event_id = std::move(event_id);
    s.as_of = 1700000100;
    s.request_id = "req_" + s.sub.id;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subscription_states)

BOOST_AUTO_TEST_CASE(a_state_survives_its_json_form) {
    auto s = state("sub_1", "cus_1", "evt_1");
    s.retrieved = true;
    s.sub.current_period_end = 1702592000;
    const auto back = subscription_state_from_json(subscription_state_json(s));
    BOOST_TEST((back.sub == s.sub));
    BOOST_TEST(back.event_id == s.event_id);
    BOOST_TEST(back.as_of == s.as_of);
    BOOST_TEST(back.retrieved);
    BOOST_TEST(back.request_id == s.request_id);

    // A state from the subscription list: no event, no period end.
    auto listed = state("sub_2", "cus_2", "");
    listed.as_of = 0;
    listed.sub.items.front().current_period_end.reset();
    const auto listed_back = subscription_state_from_json(subscription_state_json(listed));
    BOOST_TEST((listed_back.sub == listed.sub));
    BOOST_TEST(listed_back.event_id.empty());
    BOOST_TEST(!listed_back.retrieved);
}

// Chunks of at most N customers, a customer's states never split, the
// ambiguous states left out, and the table empty afterwards.
BOOST_AUTO_TEST_CASE(memory_table_hands_out_whole_customers_in_chunks) {
    auto table = make_memory_subscription_table();
    int n = 0;
    for (const char* customer : {"cus_c", "cus_a", "cus_b", "cus_a", "cus_d", "cus_c", "cus_e"}) {
        const std::string id = "sub_" + std::to_string(++n);
        table->put(id, {state(id, customer, "evt_" + id), false});
    }
    table->put("sub_x", {state("sub_x", "cus_a", "evt_x"), true});
    BOOST_TEST((table->ambiguous_ids() == std::vector<std::string>{"sub_x"}));

    std::vector<std::string> chunks;  // each chunk's customers, one per state
    table->drain_by_customer(2, [&](std::vector<subscription_state>&& part) {
        chunks.emplace_back();
        for (const auto& s : part) chunks.back() += (chunks.back().empty() ? "" : " ") + s.sub.customer;
    });
    const std::vector<std::string> expected{"cus_a cus_a cus_b", "cus_c cus_c cus_d", "cus_e"};
    BOOST_TEST(chunks == expected, boost::test_tools::per_element());
    int rows = 0;
    table->each([&](const subscription_state_table::row&) { ++rows; });
    BOOST_TEST(rows == 0);
}

BOOST_AUTO_TEST_CASE(folder_states_leave_out_the_ambiguous_and_are_ordered_by_id) {
    subscription_folder folder;
    BOOST_TEST(folder.add_current(state("sub_b", "cus_1", "").sub, "req_b"));
    BOOST_TEST(folder.add_current(state("sub_a", "cus_2", "").sub, "req_a"));
    BOOST_TEST(!folder.add_current(state("sub_a", "cus_2", "").sub, "req_again"));  // never overrides
    const auto states = folder.states();
    BOOST_REQUIRE_EQUAL(states.size(), 2u);
    BOOST_TEST(states[0].sub.id == "sub_a");
    BOOST_TEST(states[0].request_id == "req_a");
    BOOST_TEST(states[1].sub.id == "sub_b");
    BOOST_TEST(folder.ambiguous().empty());
}

BOOST_AUTO_TEST_SUITE_END()
