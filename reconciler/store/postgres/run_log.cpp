#include "store/postgres/run_log.hpp"

#include "store/postgres/pg_transaction.hpp"

#include <boost/json/serialize.hpp>

namespace reconciler::store::postgres {

namespace {

std::string pg_now_text() { return format_rfc3339(now_unix()); }

}  // namespace

std::int64_t postgres_run_log::begin_run(const run_record& run) {
    return s_.run("INSERT INTO @schema@.recon_runs(started_at, window_start, window_end, mode, status, config_hash,"
                  " stripe_api_version) VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
                  params()
                      .add(pg_now_text())
                      .add(static_cast<std::int64_t>(run.window_start))
                      .add(static_cast<std::int64_t>(run.window_end))
                      .add(run.dry_run ? "dry_run" : "apply")
                      .add(run.config_hash)
                      .add(run.stripe_api_version))
        .int64(0, 0);
}

// All of them in one statement (one round trip), as arrays.
void postgres_run_log::record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) {
    if (pages.empty()) return;
    std::vector<std::string> resource, page_no, request_id, object_count, has_more, fetched_at;
    for (const auto& [page, at] : pages) {
        resource.push_back(page.resource);
        page_no.push_back(std::to_string(page.page_no));
        request_id.push_back(page.request_id);
        object_count.push_back(std::to_string(page.object_count));
        has_more.emplace_back(page.has_more ? "1" : "0");
        fetched_at.push_back(format_rfc3339(at));
    }
    s_.run("INSERT INTO @schema@.recon_pages(run_id, resource, page_no, request_id, object_count, has_more, fetched_at)"
           " SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::integer[], $7::text[])",
           params()
               .add(run_id)
               .add(text_array(resource))
               .add(text_array(page_no))
               .add(text_array(request_id))
               .add(text_array(object_count))
               .add(text_array(has_more))
               .add(text_array(fetched_at)));
}

void postgres_run_log::finish_run(std::int64_t run_id, bool succeeded, const run_totals& t, const std::string& error) {
    // findings and corrections_applied from what committed: the ledger is the truth of what a run did.
    params p;
    p.add(pg_now_text()).add(succeeded ? "succeeded" : "failed").add(t.pages).add(t.objects);
    if (error.empty()) p.null();
    else p.add(error);
    p.add(run_id);
    s_.run("UPDATE @schema@.recon_runs SET finished_at = $1, status = $2, pages = $3, objects = $4,"
           " findings = (SELECT COUNT(*) FROM @schema@.recon_findings WHERE run_id = $6),"
           " corrections_applied = (SELECT COUNT(*) FROM @schema@.recon_corrections WHERE run_id = $6),"
           " error = $5 WHERE id = $6",
           p);
}

void postgres_run_log::record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) {
    params p;
    p.add(run_id).add(reconciler::to_string(f.kind)).add(f.subject_type).add(f.subject_id);
    if (f.user_id) p.add(static_cast<std::int64_t>(*f.user_id));
    else p.null();
    p.add(reconciler::to_string(f.owner)).add(to_string(d));
    if (correction_id) p.add(correction_id);
    else p.null();
    p.add(boost::json::serialize(f.evidence)).add(pg_now_text());
    s_.run("INSERT INTO @schema@.recon_findings(run_id, kind, subject_type, subject_id, user_id, team, disposition,"
           " correction_id, evidence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10)",
           p);
}

// One statement for a part's findings (a round trip each was the run's
// largest cost on a remote server). No user / no correction travel as ''
// and 0 in the arrays, NULL in the row.
void postgres_run_log::record_findings(std::int64_t run_id, const std::vector<finding_row>& rows) {
    if (rows.empty()) return;
    std::vector<std::string> kind, subject_type, subject_id, user_id, team, disp, correction_id, evidence;
    for (const auto& r : rows) {
        const finding& f = *r.f;
        kind.emplace_back(reconciler::to_string(f.kind));
        subject_type.push_back(f.subject_type);
        subject_id.push_back(f.subject_id);
        user_id.push_back(f.user_id ? std::to_string(*f.user_id) : std::string{});
        team.emplace_back(reconciler::to_string(f.owner));
        disp.emplace_back(to_string(r.d));
        correction_id.push_back(std::to_string(r.correction_id));
        evidence.push_back(boost::json::serialize(f.evidence));
    }
    s_.run("INSERT INTO @schema@.recon_findings(run_id, kind, subject_type, subject_id, user_id, team, disposition,"
           " correction_id, evidence, created_at)"
           " SELECT $1, k, st, si, NULLIF(u, '')::bigint, t, d, NULLIF(c, 0), e::json, $10"
           " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],"
           " $9::text[]) AS x(k, st, si, u, t, d, c, e)",
           params()
               .add(run_id)
               .add(text_array(kind))
               .add(text_array(subject_type))
               .add(text_array(subject_id))
               .add(text_array(user_id))
               .add(text_array(team))
               .add(text_array(disp))
               .add(text_array(correction_id))
               .add(text_array(evidence))
               .add(pg_now_text()));
}

std::vector<abandoned_run> postgres_run_log::abandon_running_runs() {
    transaction tx(s_.conn());
    // FOR UPDATE: the rows stay 'running' until this transaction marks them.
    const auto r = s_.run("SELECT r.id, r.started_at,"
                          " (SELECT COUNT(*) FROM @schema@.recon_corrections c WHERE c.run_id = r.id),"
                          " (SELECT COUNT(*) FROM @schema@.recon_findings f WHERE f.run_id = r.id),"
                          " (SELECT COUNT(*) FROM @schema@.recon_pages p WHERE p.run_id = r.id)"
                          " FROM @schema@.recon_runs r WHERE r.status = 'running' ORDER BY r.id FOR UPDATE");
    std::vector<abandoned_run> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.int64(i, 0), std::string(r.text(i, 1)), r.int64(i, 2), r.int64(i, 3), r.int64(i, 4)});
    if (!out.empty()) {
        const std::string now = pg_now_text();
        s_.run("UPDATE @schema@.recon_runs r SET status = 'abandoned', finished_at = $1,"
               " corrections_applied = (SELECT COUNT(*) FROM @schema@.recon_corrections c WHERE c.run_id = r.id),"
               " findings = (SELECT COUNT(*) FROM @schema@.recon_findings f WHERE f.run_id = r.id),"
               " pages = (SELECT COUNT(*) FROM @schema@.recon_pages p WHERE p.run_id = r.id), error = $2"
               " WHERE r.status = 'running'",
               params().add(now).add("abandoned: the run ended without finishing (killed or crashed); found by the next run at " + now));
    }
    tx.commit();
    return out;
}

namespace {

constexpr const char* pg_run_columns =
    "SELECT id, started_at, COALESCE(finished_at, ''), window_start, window_end, mode, status, config_hash,"
    " stripe_api_version, pages, objects, findings, corrections_applied, COALESCE(error, '') FROM @schema@.recon_runs ";

run_row pg_read_run(const result& q, int i) {
    run_row r;
    r.id = q.int64(i, 0);
    r.started_at = q.text(i, 1);
    r.finished_at = q.text(i, 2);
    r.window_start = q.int64(i, 3);
    r.window_end = q.int64(i, 4);
    r.mode = q.text(i, 5);
    r.status = q.text(i, 6);
    r.config_hash = q.text(i, 7);
    r.stripe_api_version = q.text(i, 8);
    r.pages = q.int64(i, 9);
    r.objects = q.int64(i, 10);
    r.findings = q.int64(i, 11);
    r.corrections_applied = q.int64(i, 12);
    r.error = q.text(i, 13);
    return r;
}

}  // namespace

std::optional<run_row> postgres_run_log::find_run(std::int64_t run_id) {
    const auto q = s_.run(std::string(pg_run_columns) + "WHERE id = $1", params().add(run_id));
    if (q.rows() == 0) return std::nullopt;
    return pg_read_run(q, 0);
}

std::vector<run_row> postgres_run_log::recent_runs(int limit) {
    const auto q = s_.run(std::string(pg_run_columns) + "ORDER BY id DESC LIMIT $1", params().add(limit));
    std::vector<run_row> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(pg_read_run(q, i));
    return out;
}

void postgres_run_log::each_run_finding(std::int64_t run_id, const std::function<void(const recorded_finding&)>& visit) {
    const auto q = s_.run("SELECT f.kind, f.subject_type, f.subject_id, f.team, f.disposition, f.evidence::text, f.user_id,"
                          " COALESCE(u.@users.email@, ''), COALESCE(f.correction_id, 0), COALESCE(c.correlation_id, '')"
                          " FROM @schema@.recon_findings f LEFT JOIN @users@ u ON u.@users.id@ = f.user_id"
                          " LEFT JOIN @schema@.recon_corrections c ON c.id = f.correction_id WHERE f.run_id = $1 ORDER BY f.id",
                          params().add(run_id));
    for (int i = 0; i < q.rows(); ++i) {
        recorded_finding f;
        f.kind = q.text(i, 0);
        f.subject_type = q.text(i, 1);
        f.subject_id = q.text(i, 2);
        f.team = q.text(i, 3);
        f.disposition = q.text(i, 4);
        f.evidence = q.text(i, 5);
        f.user_id = q.opt_int64(i, 6);
        f.user_email = q.text(i, 7);
        f.correction_id = q.int64(i, 8);
        f.correlation_id = q.text(i, 9);
        visit(f);
    }
}

void postgres_run_log::each_run_correction(std::int64_t run_id,
                                           const std::function<void(const recorded_correction&)>& visit) {
    const auto q = s_.run("SELECT c.id, c.stripe_object, c.kind, c.correlation_id, c.status, COALESCE(u.@users.email@, ''),"
                          " COALESCE(f.kind, ''), COALESCE(f.subject_id, ''), c.credits_delta,"
                          " COALESCE(c.tier_before, ''), COALESCE(c.tier_after, ''), c.payment_recorded"
                          " FROM @schema@.recon_corrections c LEFT JOIN @users@ u ON u.@users.id@ = c.user_id"
                          " LEFT JOIN @schema@.recon_findings f ON f.id = (SELECT MIN(id) FROM @schema@.recon_findings"
                          "   WHERE correction_id = c.id AND run_id = c.run_id)"
                          " WHERE c.run_id = $1 ORDER BY c.id",
                          params().add(run_id));
    for (int i = 0; i < q.rows(); ++i) {
        recorded_correction c;
        c.id = q.int64(i, 0);
        c.stripe_object = q.text(i, 1);
        c.kind = q.text(i, 2);
        c.correlation_id = q.text(i, 3);
        c.status = q.text(i, 4);
        c.user_email = q.text(i, 5);
        c.finding_kind = q.text(i, 6);
        c.subject_id = q.text(i, 7);
        c.credits_delta = q.int64(i, 8);
        c.tier_before = q.text(i, 9);
        c.tier_after = q.text(i, 10);
        c.payment_recorded = q.int64(i, 11) != 0;
        visit(c);
    }
}

void postgres_run_log::each_run_request_id(std::int64_t run_id, const std::function<void(const std::string&)>& visit) {
    const auto q = s_.run("SELECT request_id FROM @schema@.recon_pages WHERE run_id = $1 ORDER BY id", params().add(run_id));
    for (int i = 0; i < q.rows(); ++i) visit(std::string(q.text(i, 0)));
}

}  // namespace reconciler::store::postgres
