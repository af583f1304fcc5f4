// The store (either backend), invoice links: PaymentIntent -> invoice, kept
// as first seen, read back by PaymentIntent in one batch.
#include "store/store_fixture.hpp"

#include <algorithm>

BOOST_AUTO_TEST_SUITE(store_invoice_links)

BOOST_AUTO_TEST_CASE(links_are_kept_once_and_read_by_payment_intent) {
    temp_db t;
    auto s = t.open();
    store::invoice_links& links = *s;
    BOOST_TEST(links.invoice_links_of({"pi_a"}).empty());
    links.record_invoice_links({});
    links.record_invoice_links({{"pi_a", "in_a", 2000, "usd"}, {"pi_b", "in_b", 500, "eur"}, {"pi_c", "in_c1", 700, "usd"}});
    // Seen again (a later page, a later run): nothing changes; a second
    // invoice of one PaymentIntent is a second row.
    links.record_invoice_links({{"pi_a", "in_a", 1, "jpy"}, {"pi_c", "in_c2", 300, "usd"}});
    auto got = links.invoice_links_of({"pi_a", "pi_c", "pi_none"});
    std::sort(got.begin(), got.end(), [](const auto& x, const auto& y) { return x.invoice < y.invoice; });
    // Each with the amount it paid and its currency, as first seen.
    const std::vector<store::invoice_link> want{
        {"pi_a", "in_a", 2000, "usd"}, {"pi_c", "in_c1", 700, "usd"}, {"pi_c", "in_c2", 300, "usd"}};
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) BOOST_TEST((got[i] == want[i]), i);
    BOOST_TEST(links.invoice_links_of({}).empty());
    // More PaymentIntents than one statement's parameters (SQLite chunks them).
    std::vector<store::invoice_link> many;
    std::vector<std::string> pis;
    for (int i = 0; i < 1200; ++i) {
        many.push_back({"pi_m" + std::to_string(i), "in_m" + std::to_string(i), i, "usd"});
        pis.push_back("pi_m" + std::to_string(i));
    }
    links.record_invoice_links(many);
    BOOST_TEST(links.invoice_links_of(pis).size() == 1200u);
    // Kept by the database, not by the connection: a later run reads them.
    auto again = t.open();
    const auto b = again->invoice_links_of({"pi_b"});
    BOOST_TEST_REQUIRE(b.size() == 1u);
    BOOST_TEST((b[0] == store::invoice_link{"pi_b", "in_b", 500, "eur"}));
}

BOOST_AUTO_TEST_SUITE_END()
