// The store (either backend), checkpoints: coverage moves forward, over contiguous windows only.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_checkpoints)

BOOST_AUTO_TEST_CASE(checkpoint_moves_forward_over_contiguous_coverage_only) {
    temp_db t;
    auto s = t.open();
    store::checkpoints& cp = *s;
    const auto run = s->begin_run(store::run_record{0, 100, false, "h", "v"});
    BOOST_TEST(!cp.checkpoint("events").has_value());
    cp.advance_checkpoint("events", 0, 100, run);  // the first window sets it
    BOOST_TEST(cp.checkpoint("events").value() == 100);
    cp.advance_checkpoint("events", 150, 200, run);  // a gap: unchanged
    BOOST_TEST(cp.checkpoint("events").value() == 100);
    cp.advance_checkpoint("events", 20, 80, run);  // an old window rerun: unchanged
    BOOST_TEST(cp.checkpoint("events").value() == 100);
    cp.advance_checkpoint("events", 50, 180, run);  // overlaps it: moves
    BOOST_TEST(cp.checkpoint("events").value() == 180);
    cp.advance_checkpoint("events", 180, 240, run);  // adjacent: moves
    BOOST_TEST(cp.checkpoint("events").value() == 240);
    BOOST_TEST(!cp.checkpoint("other").has_value());  // per stream
}

BOOST_AUTO_TEST_SUITE_END()
