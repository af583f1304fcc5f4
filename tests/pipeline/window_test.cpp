// Which window a run verifies (pipeline/window.hpp).
#include "pipeline/window.hpp"

#include "config/config.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler;
using namespace reconciler::pipeline;
using std::chrono::hours;

BOOST_AUTO_TEST_SUITE(window)

BOOST_AUTO_TEST_CASE(since_and_until_win_over_the_checkpoint) {
    const auto w = window_of(1000, 5000, 9000, 4000, hours(1), hours(24));
    BOOST_TEST(w.start == 1000);
    BOOST_TEST(w.end == 5000);
    BOOST_TEST(w.notes.empty());
}

BOOST_AUTO_TEST_CASE(the_checkpoint_minus_the_overlap_is_the_start_and_says_so) {
    const auto w = window_of(std::nullopt, std::nullopt, 100'000, 90'000, hours(1), hours(24));
    BOOST_TEST(w.start == 90'000 - 3600);
    BOOST_TEST(w.end == 100'000);
    BOOST_REQUIRE_EQUAL(w.notes.size(), 1u);
    BOOST_TEST(w.notes[0].find("continued from the checkpoint") == 0u);
    // A checkpoint past --until (a rerun of an older window) starts before --until.
    const auto older = window_of(std::nullopt, 50'000, 100'000, 90'000, hours(1), hours(24));
    BOOST_TEST(older.start == 50'000 - 3600);
}

BOOST_AUTO_TEST_CASE(a_first_run_looks_back_by_the_default_lookback) {
    const auto w = window_of(std::nullopt, std::nullopt, 100'000, std::nullopt, hours(1), hours(24));
    BOOST_TEST(w.start == 100'000 - 24 * 3600);
    BOOST_TEST(w.notes.empty());
}

BOOST_AUTO_TEST_CASE(an_empty_window_is_a_usage_error_and_retention_is_noted) {
    BOOST_CHECK_THROW(window_of(5000, 5000, 9000, std::nullopt, hours(1), hours(24)), config_error);
    const auto w = window_of(0, event_retention + 10, 0, std::nullopt, hours(1), hours(24));
    BOOST_REQUIRE_EQUAL(w.notes.size(), 1u);
    BOOST_TEST(w.notes[0].find("past Stripe's 30-day event retention") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
