// The daemon's schedule: when the next run is.
#include "cli/daemon.hpp"

#include <boost/test/unit_test.hpp>

using reconciler::daemon_options;
using reconciler::detail::until_next;

BOOST_AUTO_TEST_SUITE(daemon_schedule)

BOOST_AUTO_TEST_CASE(an_interval_is_the_interval) {
    daemon_options o;
    o.every = std::chrono::hours(6);
    BOOST_TEST(until_next(o, 1'700'000'123).count() == 6 * 3600);
}

BOOST_AUTO_TEST_CASE(daily_is_the_next_such_minute_strictly_after_now) {
    daemon_options o;
    o.daily_minute = 3 * 60;               // 03:00 UTC
    const long long midnight = 1'764'979'200;  // 2025-12-06T00:00:00Z
    BOOST_TEST(until_next(o, midnight).count() == 3 * 3600);
    BOOST_TEST(until_next(o, midnight + 3 * 3600 - 1).count() == 1);
    BOOST_TEST(until_next(o, midnight + 3 * 3600).count() == 86400);  // at 03:00 itself: tomorrow's
    BOOST_TEST(until_next(o, midnight + 23 * 3600).count() == 4 * 3600);
}

BOOST_AUTO_TEST_SUITE_END()
