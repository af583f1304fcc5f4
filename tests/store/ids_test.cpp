// The store (either backend), ids: random identifiers.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_ids)

BOOST_AUTO_TEST_CASE(correlation_ids_are_uuid_v4) {
    auto id = store::random_correlation_id();
    BOOST_TEST(id.size() == 36u);
    BOOST_TEST(id[14] == '4');
    BOOST_TEST(id != store::random_correlation_id());
}

BOOST_AUTO_TEST_CASE(credit_event_ids_are_ce_and_24_hex) {
    const auto id = store::random_credit_event_id();
    BOOST_TEST(id.size() == 27u);
    BOOST_TEST(id.rfind("ce_", 0) == 0u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef", 3) == std::string::npos);
    BOOST_TEST(id != store::random_credit_event_id());
}

BOOST_AUTO_TEST_SUITE_END()
