// The store (either backend), run_log: a run's record (recon_runs, recon_pages, recon_findings).
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_run_log)

BOOST_AUTO_TEST_CASE(a_run_records_its_pages_findings_and_totals) {
    temp_db t;
    auto s = t.open();
    store::run_log& log = *s;  // the port the run stage writes through
    const auto id = log.begin_run(store::run_record{100, 200, true, "hash", "2025-03-31.basil"});
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'running' AND mode = 'dry_run'"
                       " AND window_start = 100 AND window_end = 200 AND config_hash = 'hash'") == 1);

    list_page_info p;
    p.resource = "/v1/events";
    p.page_no = 1;
    p.request_id = "req_1";
    p.object_count = 100;
    p.has_more = true;
    log.record_pages(id, {store::fetched_page{p, 150}, store::fetched_page{p, 151}});
    log.record_pages(id, {});  // nothing new between two slices
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_pages WHERE run_id = " + std::to_string(id) +
                       " AND object_count = 100 AND has_more = 1") == 2);

    finding f;
    f.kind = finding_kind::credits_not_granted;
    f.subject_type = "invoice";
    f.subject_id = "in_1";
    f.user_id = 1;
    f.evidence["invoice"] = "in_1";
    log.record_finding(id, f, store::disposition::flagged, 0);
    f.user_id.reset();
    log.record_finding(id, f, store::disposition::failed, 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE disposition = 'flagged' AND user_id = 1"
                       " AND correction_id IS NULL AND " + t.json_member("evidence", "invoice") + " = 'in_1'") == 1);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE disposition = 'failed' AND user_id IS NULL") == 1);

    log.finish_run(id, true, store::run_totals{3, 200, 2, 0}, "");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'succeeded' AND pages = 3 AND objects = 200"
                       " AND findings = 2 AND error IS NULL AND finished_at IS NOT NULL") == 1);
    const auto failed = log.begin_run(store::run_record{200, 300, false, "hash", "2025-03-31.basil"});
    log.finish_run(failed, false, store::run_totals{}, "stripe: 500");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'failed' AND mode = 'apply'"
                       " AND error = 'stripe: 500'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
