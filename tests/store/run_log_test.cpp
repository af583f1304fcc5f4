// The store (either backend), run_log: a run's record (recon_runs, recon_pages, recon_findings).
#include "store/store_fixture.hpp"

#include "store/embedded_sql.hpp"

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

// A run whose report directory filled after its corrections committed still
// gets a right row: finish_run counts the ledger and the findings table, not
// what the caller's memory says (issue 19).
BOOST_AUTO_TEST_CASE(the_run_row_counts_corrections_and_findings_from_the_database) {
    temp_db t;
    auto s = t.open();
    const auto id = s->begin_run(store::run_record{100, 200, false, "hash", "2025-03-31.basil"});
    const auto r = s->apply(grant(), id, "corr-1");
    BOOST_REQUIRE(r.outcome == store::apply_outcome::applied);
    finding f;
    f.kind = finding_kind::credits_not_granted;
    f.subject_type = "invoice";
    f.subject_id = "in_1";
    f.evidence["invoice"] = "in_1";
    s->record_finding(id, f, store::disposition::applied, r.correction_id);
    s->finish_run(id, false, store::run_totals{1, 10, 0, 0}, "write report: No space left on device");
    BOOST_TEST(t.count("SELECT corrections_applied FROM recon_runs WHERE id = " + std::to_string(id)) == 1);
    BOOST_TEST(t.count("SELECT findings FROM recon_runs WHERE id = " + std::to_string(id)) == 1);
}

// A part's findings in one call (one transaction; one statement on
// PostgreSQL): each row as record_finding would write it, none lost or
// mixed up, no user / no correction as NULL, quotes in the evidence intact.
BOOST_AUTO_TEST_CASE(a_parts_findings_are_recorded_together_each_as_one_by_one) {
    temp_db t;
    auto s = t.open();
    const auto id = s->begin_run(store::run_record{100, 200, false, "hash", "2025-03-31.basil"});
    const auto r = s->apply(grant(), id, "corr-1");
    BOOST_REQUIRE(r.outcome == store::apply_outcome::applied);
    std::vector<finding> fs(3);
    for (std::size_t i = 0; i < fs.size(); ++i) {
        fs[i].kind = i == 0 ? finding_kind::credits_not_granted : finding_kind::unknown_customer;
        fs[i].subject_type = i == 0 ? "invoice" : "customer";
        fs[i].subject_id = "obj_" + std::to_string(i);
        fs[i].evidence["note"] = "say \"hi\", {i}";
    }
    fs[0].user_id = 7;
    s->record_findings(id, {{&fs[0], store::disposition::applied, r.correction_id},
                            {&fs[1], store::disposition::flagged, 0},
                            {&fs[2], store::disposition::failed, 0}});
    s->record_findings(id, {});  // a part without findings
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE run_id = " + std::to_string(id)) == 3);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE subject_id = 'obj_0' AND user_id = 7"
                       " AND disposition = 'applied' AND kind = 'credits_not_granted' AND correction_id = " +
                       std::to_string(r.correction_id)) == 1);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE subject_id IN ('obj_1', 'obj_2')"
                       " AND user_id IS NULL AND correction_id IS NULL AND kind = 'unknown_customer'") == 2);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE subject_id = 'obj_2' AND disposition = 'failed'") == 1);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_findings WHERE " + t.json_member("evidence", "note") +
                       " = 'say \"hi\", {i}'") == 3);
    s->finish_run(id, true, store::run_totals{1, 10, 3, 0}, "");
    BOOST_TEST(t.count("SELECT findings FROM recon_runs WHERE id = " + std::to_string(id)) == 3);
}

// Rows left 'running' by killed runs become 'abandoned' with what they
// committed; finished runs are left alone.
BOOST_AUTO_TEST_CASE(running_rows_are_closed_as_abandoned_with_what_they_committed) {
    temp_db t;
    auto s = t.open();
    const auto killed = s->begin_run(store::run_record{100, 200, false, "hash", "v"});
    BOOST_REQUIRE(s->apply(grant(), killed, "corr-1").outcome == store::apply_outcome::applied);
    list_page_info p;
    p.resource = "/v1/events";
    p.page_no = 1;
    p.request_id = "req_1";
    s->record_pages(killed, {store::fetched_page{p, 150}, store::fetched_page{p, 151}});
    const auto done = s->begin_run(store::run_record{200, 300, false, "hash", "v"});
    s->finish_run(done, true, store::run_totals{}, "");
    const auto empty = s->begin_run(store::run_record{300, 400, true, "hash", "v"});

    const auto abandoned = s->abandon_running_runs();
    BOOST_REQUIRE_EQUAL(abandoned.size(), 2u);
    BOOST_TEST(abandoned[0].id == killed);
    BOOST_TEST(abandoned[0].corrections == 1);
    BOOST_TEST(abandoned[0].pages == 2);
    BOOST_TEST(abandoned[1].id == empty);
    BOOST_TEST(abandoned[1].corrections == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'abandoned' AND finished_at IS NOT NULL") == 2);
    BOOST_TEST(t.count("SELECT corrections_applied FROM recon_runs WHERE id = " + std::to_string(killed)) == 1);
    BOOST_TEST(t.count("SELECT pages FROM recon_runs WHERE id = " + std::to_string(killed)) == 2);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'succeeded'") == 1);
    BOOST_TEST(s->abandon_running_runs().empty());  // once
    const auto row = s->find_run(killed);
    BOOST_REQUIRE(row.has_value());
    BOOST_TEST(row->status == "abandoned");
    BOOST_TEST(static_cast<store::run_log&>(*s).recent_runs(2).front().id == empty);  // support_queries has one too
}

// 0005 rebuilds recon_runs (for the 'abandoned' status) under the tables that
// refer to it: an existing database keeps its runs, ids and children.
BOOST_AUTO_TEST_CASE(migration_0005_keeps_runs_and_what_refers_to_them, *boost::unit_test::precondition(sqlite_only)) {
    temp_db t;
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        db.exec("PRAGMA foreign_keys = ON");
        db.exec("CREATE TABLE recon_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL)");
        for (const auto& m : store::migrations()) {
            if (m.version > 3) break;
            db.exec(std::string(m.sql));
            db.exec("INSERT INTO recon_schema_migrations VALUES (" + std::to_string(m.version) + ", 'm', 'now')");
        }
        db.exec("INSERT INTO recon_runs(id, started_at, window_start, window_end, mode, status, config_hash,"
                " stripe_api_version, corrections_applied) VALUES (7, '2026-01-01T00:00:00Z', 1, 2, 'apply',"
                " 'running', 'h', 'v', 0)");
        db.exec("INSERT INTO recon_pages(run_id, resource, page_no, request_id, object_count, has_more, fetched_at)"
                " VALUES (7, '/v1/events', 1, 'req_7', 3, 0, 'now')");
        db.exec("INSERT INTO recon_corrections(stripe_object, kind, run_id, user_id, correlation_id, applied_at)"
                " VALUES ('in_7', 'grant_credits', 7, 1, 'c7', 'now')");
        db.exec("INSERT INTO recon_checkpoints VALUES ('window', 2, 7, 'now')");
    }
    auto s = store::open_sqlite_store({t.path, std::chrono::milliseconds(5000), false});
    BOOST_TEST(s->migrate() == s->latest_schema_version() - 3);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_runs WHERE id = 7 AND status = 'running'") == 1);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_pages WHERE run_id = 7") == 1);
    const auto abandoned = s->abandon_running_runs();
    BOOST_REQUIRE_EQUAL(abandoned.size(), 1u);
    BOOST_TEST(abandoned[0].corrections == 1);
    // Still a foreign key after the rebuild.
    BOOST_TEST(!message_of([&] {
                    SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
                    db.exec("PRAGMA foreign_keys = ON");
                    db.exec("INSERT INTO recon_pages(run_id, resource, page_no, request_id, object_count,"
                            " has_more, fetched_at) VALUES (99, '/v1/events', 1, 'r', 0, 0, 'now')");
                }).empty());
}

BOOST_AUTO_TEST_SUITE_END()
