#include "store/postgres/run_log.hpp"

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
    params p;
    p.add(pg_now_text()).add(succeeded ? "succeeded" : "failed").add(t.pages).add(t.objects).add(t.findings)
        .add(t.corrections_applied);
    if (error.empty()) p.null();
    else p.add(error);
    p.add(run_id);
    s_.run("UPDATE @schema@.recon_runs SET finished_at = $1, status = $2, pages = $3, objects = $4, findings = $5,"
           " corrections_applied = $6, error = $7 WHERE id = $8",
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

}  // namespace reconciler::store::postgres
