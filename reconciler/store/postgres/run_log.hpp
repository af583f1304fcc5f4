// PostgreSQL: recon_runs, recon_pages, recon_findings.
#pragma once

#include "store/postgres/pg_session.hpp"
#include "store/run_log.hpp"

namespace reconciler::store::postgres {

class postgres_run_log : public virtual run_log {
public:
    explicit postgres_run_log(session& s) noexcept : s_(s) {}

    std::int64_t begin_run(const run_record& run) override;
    void record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) override;
    void finish_run(std::int64_t run_id, bool succeeded, const run_totals& totals, const std::string& error) override;
    void record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
