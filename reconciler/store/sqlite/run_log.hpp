// SQLite: recon_runs, recon_pages, recon_findings.
#pragma once

#include "store/run_log.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_run_log : public virtual run_log {
public:
    explicit sqlite_run_log(connection& c) noexcept : c_(c) {}

    std::int64_t begin_run(const run_record& run) override;
    void record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) override;
    void finish_run(std::int64_t run_id, bool succeeded, const run_totals& totals, const std::string& error) override;
    void record_finding(std::int64_t run_id, const finding& f, disposition d, std::int64_t correction_id) override;
    void record_findings(std::int64_t run_id, const std::vector<finding_row>& rows) override;
    std::vector<abandoned_run> abandon_running_runs() override;
    std::optional<run_row> find_run(std::int64_t run_id) override;
    std::vector<run_row> recent_runs(int limit) override;
    void each_run_finding(std::int64_t run_id, const std::function<void(const recorded_finding&)>& visit) override;
    void each_run_correction(std::int64_t run_id,
                             const std::function<void(const recorded_correction&)>& visit) override;
    void each_run_request_id(std::int64_t run_id, const std::function<void(const std::string&)>& visit) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
