// Port: a run's own record (recon_runs, recon_pages, recon_findings).
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reconciler::store {

class run_log {
public:
    virtual ~run_log() = default;

    virtual std::int64_t begin_run(const run_record& run) = 0;
    // The pages a run fetched since its last call, each with the time it
    // arrived, in one transaction. The run collects them on its network
    // thread and hands them over between slices: the connection is never
    // used from two threads at once.
    virtual void record_pages(std::int64_t run_id, const std::vector<fetched_page>& pages) = 0;
    // The run's end. Its findings and corrections_applied are counted from
    // the database (recon_findings, the ledger rows with this run id), not
    // taken from `totals`: whatever failed after they committed (a full
    // report directory), the row says what the run did.
    virtual void finish_run(std::int64_t run_id, bool succeeded, const run_totals& totals,
                            const std::string& error) = 0;
    // Marks every 'running' row 'abandoned', with what it committed counted
    // from the database and finished_at now; returns them, oldest first.
    // Only for a caller holding the run lock (no other run is alive), before
    // its own begin_run.
    virtual std::vector<abandoned_run> abandon_running_runs() = 0;

    // Reading a run back (`reconciler report`, `reconciler inspect`).
    virtual std::optional<run_row> find_run(std::int64_t run_id) = 0;
    // The newest `limit` runs, newest first.
    virtual std::vector<run_row> recent_runs(int limit) = 0;
    virtual void each_run_finding(std::int64_t run_id,
                                  const std::function<void(const recorded_finding&)>& visit) = 0;
    virtual void each_run_correction(std::int64_t run_id,
                                     const std::function<void(const recorded_correction&)>& visit) = 0;
    // The Request-Ids of the run's pages, in fetch order.
    virtual void each_run_request_id(std::int64_t run_id, const std::function<void(const std::string&)>& visit) = 0;
    // One finding of the run and what became of it (correction_id 0: none).
    virtual void record_finding(std::int64_t run_id, const finding& f, disposition d,
                                std::int64_t correction_id) = 0;
    // A part's findings at once, after its corrections: all or none (one
    // transaction; one statement on PostgreSQL), not a commit each. The
    // default records them one by one.
    struct finding_row {
        const finding* f = nullptr;
        disposition d = disposition::flagged;
        std::int64_t correction_id = 0;
    };
    virtual void record_findings(std::int64_t run_id, const std::vector<finding_row>& rows) {
        for (const auto& r : rows) record_finding(run_id, *r.f, r.d, r.correction_id);
    }
};

}  // namespace reconciler::store
