#include "store/sqlite/run_log.hpp"

#include "store/sqlite/sql.hpp"

#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Transaction.h>

namespace reconciler::store::sqlite {

std::int64_t sqlite_run_log::begin_run(const run_record& run) {
    SQLite::Statement q(c_.db(),
                        "INSERT INTO recon_runs(started_at, window_start, window_end, mode, status, config_hash,"
                        " stripe_api_version) VALUES (?,?,?,?, 'running', ?, ?)");
    q.bind(1, now_text());
    q.bind(2, static_cast<std::int64_t>(run.window_start));
    q.bind(3, static_cast<std::int64_t>(run.window_end));
    q.bind(4, run.dry_run ? "dry_run" : "apply");
    q.bind(5, run.config_hash);
    q.bind(6, run.stripe_api_version);
    q.exec();
    return c_.db().getLastInsertRowid();
}

void sqlite_run_log::record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) {
    if (pages.empty()) return;
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    auto q = c_.cached("INSERT INTO recon_pages(run_id, resource, page_no, request_id, object_count, has_more,"
                       " fetched_at) VALUES (?,?,?,?,?,?,?)");
    for (const auto& [page, at] : pages) {
        q->reset();
        q->bind(1, static_cast<std::int64_t>(run_id));
        q->bind(2, page.resource);
        q->bind(3, page.page_no);
        q->bind(4, page.request_id);
        q->bind(5, static_cast<std::int64_t>(page.object_count));
        q->bind(6, page.has_more ? 1 : 0);
        q->bind(7, format_rfc3339(at));
        q->exec();
    }
    tx.commit();
}

void sqlite_run_log::finish_run(std::int64_t run_id, bool succeeded, const run_totals& t, const std::string& error) {
    SQLite::Statement q(c_.db(),
                        "UPDATE recon_runs SET finished_at = ?, status = ?, pages = ?, objects = ?, findings = ?,"
                        " corrections_applied = ?, error = ? WHERE id = ?");
    q.bind(1, now_text());
    q.bind(2, succeeded ? "succeeded" : "failed");
    q.bind(3, static_cast<std::int64_t>(t.pages));
    q.bind(4, static_cast<std::int64_t>(t.objects));
    q.bind(5, static_cast<std::int64_t>(t.findings));
    q.bind(6, static_cast<std::int64_t>(t.corrections_applied));
    if (error.empty()) q.bind(7);
    else q.bind(7, error);
    q.bind(8, static_cast<std::int64_t>(run_id));
    q.exec();
}

void sqlite_run_log::record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) {
    auto q = c_.cached("INSERT INTO recon_findings(run_id, kind, subject_type, subject_id, user_id, team,"
                       " disposition, correction_id, evidence, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
    q->bind(1, static_cast<std::int64_t>(run_id));
    q->bind(2, reconciler::to_string(f.kind));
    q->bind(3, f.subject_type);
    q->bind(4, f.subject_id);
    if (f.user_id) q->bind(5, static_cast<std::int64_t>(*f.user_id));
    else q->bind(5);
    q->bind(6, reconciler::to_string(f.owner));
    q->bind(7, to_string(d));
    if (correction_id) q->bind(8, static_cast<std::int64_t>(correction_id));
    else q->bind(8);
    q->bind(9, boost::json::serialize(f.evidence));
    q->bind(10, now_text());
    q->exec();
}

}  // namespace reconciler::store::sqlite
