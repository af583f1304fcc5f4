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
    // findings and corrections_applied from what committed: the ledger is the truth of what a run did.
    SQLite::Statement q(c_.db(),
                        "UPDATE recon_runs SET finished_at = ?1, status = ?2, pages = ?3, objects = ?4,"
                        " findings = (SELECT COUNT(*) FROM recon_findings WHERE run_id = ?6),"
                        " corrections_applied = (SELECT COUNT(*) FROM recon_corrections WHERE run_id = ?6),"
                        " error = ?5 WHERE id = ?6");
    q.bind(1, now_text());
    q.bind(2, succeeded ? "succeeded" : "failed");
    q.bind(3, static_cast<std::int64_t>(t.pages));
    q.bind(4, static_cast<std::int64_t>(t.objects));
    if (error.empty()) q.bind(5);
    else q.bind(5, error);
    q.bind(6, static_cast<std::int64_t>(run_id));
    q.exec();
}

namespace {

void insert_finding(connection& c, std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id,
                    const std::string& now) {
    auto q = c.cached("INSERT INTO recon_findings(run_id, kind, subject_type, subject_id, user_id, team,"
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
    q->bind(10, now);
    q->exec();
}

}  // namespace

void sqlite_run_log::record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) {
    insert_finding(c_, run_id, f, d, correction_id, now_text());
}

void sqlite_run_log::record_findings(std::int64_t run_id, const std::vector<finding_row>& rows) {
    if (rows.empty()) return;
    // One commit for the part: a commit each was most of what recording cost.
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const std::string now = now_text();
    for (const auto& r : rows) insert_finding(c_, run_id, *r.f, r.d, r.correction_id, now);
    tx.commit();
}

std::vector<abandoned_run> sqlite_run_log::abandon_running_runs() {
    std::vector<abandoned_run> out;
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    {
        SQLite::Statement q(c_.db(),
                            "SELECT r.id, r.started_at,"
                            " (SELECT COUNT(*) FROM recon_corrections c WHERE c.run_id = r.id),"
                            " (SELECT COUNT(*) FROM recon_findings f WHERE f.run_id = r.id),"
                            " (SELECT COUNT(*) FROM recon_pages p WHERE p.run_id = r.id)"
                            " FROM recon_runs r WHERE r.status = 'running' ORDER BY r.id");
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getInt64(),
                           q.getColumn(3).getInt64(), q.getColumn(4).getInt64()});
    }
    SQLite::Statement upd(c_.db(),
                          "UPDATE recon_runs SET status = 'abandoned', finished_at = ?, corrections_applied = ?,"
                          " findings = ?, pages = ?, error = ? WHERE id = ? AND status = 'running'");
    const std::string now = now_text();
    for (const auto& a : out) {
        upd.reset();
        upd.bind(1, now);
        upd.bind(2, static_cast<std::int64_t>(a.corrections));
        upd.bind(3, static_cast<std::int64_t>(a.findings));
        upd.bind(4, static_cast<std::int64_t>(a.pages));
        upd.bind(5, "abandoned: the run ended without finishing (killed or crashed); found by the next run at " + now);
        upd.bind(6, static_cast<std::int64_t>(a.id));
        upd.exec();
    }
    tx.commit();
    return out;
}

namespace {

constexpr const char* run_columns =
    "SELECT id, started_at, COALESCE(finished_at, ''), window_start, window_end, mode, status, config_hash,"
    " stripe_api_version, pages, objects, findings, corrections_applied, COALESCE(error, '') FROM recon_runs ";

run_row read_run(SQLite::Statement& q) {
    run_row r;
    r.id = q.getColumn(0).getInt64();
    r.started_at = q.getColumn(1).getString();
    r.finished_at = q.getColumn(2).getString();
    r.window_start = q.getColumn(3).getInt64();
    r.window_end = q.getColumn(4).getInt64();
    r.mode = q.getColumn(5).getString();
    r.status = q.getColumn(6).getString();
    r.config_hash = q.getColumn(7).getString();
    r.stripe_api_version = q.getColumn(8).getString();
    r.pages = q.getColumn(9).getInt64();
    r.objects = q.getColumn(10).getInt64();
    r.findings = q.getColumn(11).getInt64();
    r.corrections_applied = q.getColumn(12).getInt64();
    r.error = q.getColumn(13).getString();
    return r;
}

}  // namespace

std::optional<run_row> sqlite_run_log::find_run(std::int64_t run_id) {
    SQLite::Statement q(c_.db(), std::string(run_columns) + "WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(run_id));
    if (!q.executeStep()) return std::nullopt;
    return read_run(q);
}

std::vector<run_row> sqlite_run_log::recent_runs(int limit) {
    SQLite::Statement q(c_.db(), std::string(run_columns) + "ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    std::vector<run_row> out;
    while (q.executeStep()) out.push_back(read_run(q));
    return out;
}

void sqlite_run_log::each_run_finding(std::int64_t run_id, const std::function<void(const recorded_finding&)>& visit) {
    SQLite::Statement q(c_.db(), c_.sql(
                        "SELECT f.kind, f.subject_type, f.subject_id, f.team, f.disposition, f.evidence, f.user_id,"
                        " COALESCE(u.@users.email@, ''), COALESCE(f.correction_id, 0), COALESCE(c.correlation_id, '')"
                        " FROM recon_findings f LEFT JOIN @users@ u ON u.@users.id@ = f.user_id"
                        " LEFT JOIN recon_corrections c ON c.id = f.correction_id WHERE f.run_id = ? ORDER BY f.id"));
    q.bind(1, static_cast<std::int64_t>(run_id));
    while (q.executeStep()) {
        recorded_finding f;
        f.kind = q.getColumn(0).getString();
        f.subject_type = q.getColumn(1).getString();
        f.subject_id = q.getColumn(2).getString();
        f.team = q.getColumn(3).getString();
        f.disposition = q.getColumn(4).getString();
        f.evidence = q.getColumn(5).getString();
        if (!q.getColumn(6).isNull()) f.user_id = q.getColumn(6).getInt64();
        f.user_email = q.getColumn(7).getString();
        f.correction_id = q.getColumn(8).getInt64();
        f.correlation_id = q.getColumn(9).getString();
        visit(f);
    }
}

void sqlite_run_log::each_run_correction(std::int64_t run_id,
                                         const std::function<void(const recorded_correction&)>& visit) {
    SQLite::Statement q(c_.db(), c_.sql(
                        "SELECT c.id, c.stripe_object, c.kind, c.correlation_id, c.status, COALESCE(u.@users.email@, ''),"
                        " COALESCE(f.kind, ''), COALESCE(f.subject_id, ''), c.credits_delta,"
                        " COALESCE(c.tier_before, ''), COALESCE(c.tier_after, ''), c.payment_recorded"
                        " FROM recon_corrections c LEFT JOIN @users@ u ON u.@users.id@ = c.user_id"
                        " LEFT JOIN recon_findings f ON f.id = (SELECT MIN(id) FROM recon_findings"
                        "   WHERE correction_id = c.id AND run_id = c.run_id)"
                        " WHERE c.run_id = ? ORDER BY c.id"));
    q.bind(1, static_cast<std::int64_t>(run_id));
    while (q.executeStep()) {
        recorded_correction c;
        c.id = q.getColumn(0).getInt64();
        c.stripe_object = q.getColumn(1).getString();
        c.kind = q.getColumn(2).getString();
        c.correlation_id = q.getColumn(3).getString();
        c.status = q.getColumn(4).getString();
        c.user_email = q.getColumn(5).getString();
        c.finding_kind = q.getColumn(6).getString();
        c.subject_id = q.getColumn(7).getString();
        c.credits_delta = q.getColumn(8).getInt64();
        c.tier_before = q.getColumn(9).getString();
        c.tier_after = q.getColumn(10).getString();
        c.payment_recorded = q.getColumn(11).getInt() != 0;
        visit(c);
    }
}

void sqlite_run_log::each_run_request_id(std::int64_t run_id, const std::function<void(const std::string&)>& visit) {
    SQLite::Statement q(c_.db(), "SELECT request_id FROM recon_pages WHERE run_id = ? ORDER BY id");
    q.bind(1, static_cast<std::int64_t>(run_id));
    while (q.executeStep()) visit(q.getColumn(0).getString());
}

}  // namespace reconciler::store::sqlite
