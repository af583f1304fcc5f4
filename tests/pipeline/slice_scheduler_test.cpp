// The fetch-ahead plan (pipeline/slice_scheduler.hpp).
#include "pipeline/slice_scheduler.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler;
using namespace reconciler::pipeline;
using std::chrono::hours;

namespace {

// Fetches a claimed slot with `objects` objects.
void fetch(slice_scheduler& plan, slice_scheduler::slot& s, std::int64_t objects) {
    s.lists.objects = objects;
    plan.fetched_into(s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(slice_scheduler_plan)

BOOST_AUTO_TEST_CASE(the_first_slice_is_an_hour_and_two_slices_of_objects_may_be_ahead) {
    slice_scheduler plan(0, 10 * 86400, hours(24), 1000);
    BOOST_REQUIRE(plan.room_ahead());
    auto& a = plan.claim();
    BOOST_TEST(a.s == 0);
    BOOST_TEST(a.e == 3600);
    BOOST_REQUIRE(plan.room_ahead());
    auto& b = plan.claim();
    BOOST_TEST(b.s == 3600);
    static_assert(slice_scheduler::slices_ahead == 2);
    BOOST_TEST(!plan.room_ahead());  // two slices' worth expected in flight
    plan.set_window_rules_running(true);
    BOOST_TEST(plan.room_ahead());  // one more while nothing can be finished
    plan.set_window_rules_running(false);
    BOOST_TEST(!plan.front_ready());
    fetch(plan, a, 100);  // sparse: the next slices are longer, and more fit ahead
    BOOST_TEST(plan.front_ready());
    BOOST_TEST(plan.next_slice_length() == 4 * 3600);  // grows at most 4x a slice
    BOOST_TEST(plan.room_ahead());
    const auto first = plan.take_front();
    BOOST_TEST(first.e == 3600);
    BOOST_TEST(!plan.front_ready());  // b is still in flight
}

BOOST_AUTO_TEST_CASE(a_dense_slice_cuts_the_next_short_but_never_under_two_margins) {
    slice_scheduler plan(0, 86400, hours(24), 1000);
    auto& a = plan.claim();
    fetch(plan, a, 4000);  // four times too dense
    BOOST_TEST(plan.next_slice_length() == 900);
    auto& b = plan.claim();
    BOOST_TEST(b.e - b.s == 900);
    fetch(plan, b, 1'000'000);
    BOOST_TEST(plan.next_slice_length() == 2 * slice_margin);
}

BOOST_AUTO_TEST_CASE(slices_cover_the_window_without_gap_or_overlap_and_end_at_its_end) {
    const unix_seconds end = 3 * 86400 + 17;
    slice_scheduler plan(5, end, hours(24), 1000);
    unix_seconds covered = 5;
    while (!plan.done()) {
        while (!plan.all_claimed() && plan.room_ahead()) fetch(plan, plan.claim(), 10);
        BOOST_REQUIRE(plan.front_ready());
        const auto s = plan.take_front();
        BOOST_TEST(s.s == covered);
        BOOST_TEST(s.e - s.s <= 86400);
        covered = s.e;
    }
    BOOST_TEST(covered == end);
}

BOOST_AUTO_TEST_SUITE_END()
