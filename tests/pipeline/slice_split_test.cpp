// A burst's slice cut into parts (pipeline/slice_split.hpp).
#include "pipeline/slice_split.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler;
using namespace reconciler::pipeline;

namespace {

// A slice [0, 36000) with one paid invoice a minute (and its event), each
// paid 60 s after it was created, with its Request-Id.
fetched burst(int invoices) {
    fetched f;
    for (int i = 0; i < invoices; ++i) {
        invoice inv;
        inv.id = "in_" + std::to_string(i);
        inv.created = i * 60;
        inv.paid_at = i * 60 + 60;
        inv.paid = true;
        f.events.push_back(event_ref{"evt_" + std::to_string(i), "invoice.paid", i * 60 + 61, inv.id});
        f.request_ids["evt_" + std::to_string(i)] = "req_e" + std::to_string(i);
        f.add_invoice(std::move(inv), "req_" + std::to_string(i));
        f.objects += 2;
    }
    return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(slice_split)

BOOST_AUTO_TEST_CASE(a_slice_within_one_and_a_half_times_its_objects_is_one_part) {
    auto parts = split_overfull(burst(100), 0, 36000, 150);
    BOOST_REQUIRE_EQUAL(parts.size(), 1u);
    BOOST_TEST(parts[0].lists.invoices.size() == 100u);
    BOOST_TEST(parts[0].s == 0);
    BOOST_TEST(parts[0].e == 36000);
}

BOOST_AUTO_TEST_CASE(a_burst_is_cut_into_contiguous_parts_and_each_object_moves_once_with_its_request_id) {
    auto parts = split_overfull(burst(500), 0, 36000, 200);  // 1000 objects
    BOOST_REQUIRE_GE(parts.size(), 4u);
    unix_seconds at = 0;
    std::size_t invoices = 0, events = 0;
    for (const auto& p : parts) {
        BOOST_TEST(p.s == at);
        BOOST_TEST(p.e - p.s >= slice_margin);
        at = p.e;
        for (const auto& [id, inv] : p.lists.invoices) {
            BOOST_TEST((*inv.paid_at >= p.s && *inv.paid_at < p.e), id);  // placed by when it was paid
            BOOST_TEST(p.lists.request_ids.count(id) == 1u, id);
        }
        for (const auto& e : p.lists.events) {
            BOOST_TEST(p.lists.invoices.count(e.object_id) == 1u, e.id);  // with its invoice
            BOOST_TEST(p.lists.request_ids.count(e.id) == 1u, e.id);
        }
        BOOST_TEST(p.lists.objects == static_cast<std::int64_t>(p.lists.invoices.size() + p.lists.events.size()));
        invoices += p.lists.invoices.size();
        events += p.lists.events.size();
    }
    BOOST_TEST(at == 36000);
    BOOST_TEST(invoices == 500u);
    BOOST_TEST(events == 500u);
}

BOOST_AUTO_TEST_SUITE_END()
