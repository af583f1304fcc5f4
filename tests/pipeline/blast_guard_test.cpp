// The blast-radius caps (pipeline/blast_guard.hpp).
#include "pipeline/blast_guard.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler;
using namespace reconciler::pipeline;

namespace {

proposed_correction grant(std::int64_t user, std::int64_t credits) {
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.user_id = user;
    c.credits = credits;
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blast_guard_caps)

BOOST_AUTO_TEST_CASE(each_cap_is_named_when_a_correction_would_pass_it) {
    const limits_config l{3, 1000, 400};
    blast_guard g(l);
    BOOST_TEST(g.check(grant(1, 400)) == "");
    g.count(grant(1, 400), 400);
    BOOST_TEST(g.check(grant(1, 1)) == "limits.max_credits_per_user");
    BOOST_TEST(g.check(grant(2, 400)) == "");
    g.count(grant(2, 400), 400);
    BOOST_TEST(g.check(grant(3, 300)) == "limits.max_credits_per_run");
    g.count(grant(3, 100), 100);
    BOOST_TEST(g.check(grant(4, 1)) == "limits.max_corrections_per_run");
}

BOOST_AUTO_TEST_CASE(a_tier_fix_moves_no_credits_and_a_tripped_guard_refuses_everything) {
    const limits_config l{10, 100, 100};
    blast_guard g(l);
    proposed_correction tier;
    tier.kind = correction_kind::set_tier;
    tier.user_id = 1;
    tier.credits = 5000;  // ignored for a tier fix
    BOOST_TEST(g.check(tier) == "");
    g.trip();
    BOOST_TEST(g.check(grant(2, 1)) == "a blast-radius cap was reached earlier in this run");
}

// Issue 19: the guard's sums are checked. Unchecked, a correction of
// INT64_MAX credits after one of 1 wrapped the run's total negative and
// passed every cap.
BOOST_AUTO_TEST_CASE(sums_that_would_wrap_are_over_the_cap) {
    const limits_config l{10, INT64_MAX, INT64_MAX};
    blast_guard g(l);
    g.count(grant(1, 1), 1);
    BOOST_TEST(g.check(grant(2, INT64_MAX)) == "limits.max_credits_per_run");
    BOOST_TEST(g.check(grant(1, INT64_MAX)) == "limits.max_credits_per_run");
    const limits_config no_caps{10, INT64_MAX, INT64_MAX};
    blast_guard u(no_caps);  // a sum that just fits is admitted
    g.count(grant(3, INT64_MAX - 1), INT64_MAX - 1);  // saturates, never wraps
    BOOST_TEST(g.check(grant(4, 5)) == "limits.max_credits_per_run");
    u.count(grant(7, 5), 5);
    BOOST_TEST(u.check(grant(7, INT64_MAX - 5)) == "");
}

BOOST_AUTO_TEST_SUITE_END()
