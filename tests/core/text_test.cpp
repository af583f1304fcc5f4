// Message helpers (core/text.hpp).
#include "core/text.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(closest_name_is_a_typo_not_another_word) {
    using reconciler::closest_name;
    BOOST_TEST(closest_name("--sicne", {"--config", "--since", "--until"}).value_or("") == "--since");
    BOOST_TEST(!closest_name("--verbose", {"--config", "--since"}).has_value());
    BOOST_TEST(closest_name("rnu", {"run", "migrate"}).value_or("") == "run");
    // Ties go to the first candidate.
    BOOST_TEST(closest_name("tierz", {"tiers", "tier"}).value_or("") == "tiers");
}

BOOST_AUTO_TEST_CASE(count_of_says_one_in_the_singular) {
    using reconciler::count_of;
    BOOST_TEST(count_of(1, "customer") == "1 customer");
    BOOST_TEST(count_of(0, "paid invoice") == "0 paid invoices");
    BOOST_TEST(count_of(3, "subscription") == "3 subscriptions");
}

BOOST_AUTO_TEST_SUITE_END()
