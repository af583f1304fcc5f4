// Port: a run's own record (recon_runs, recon_pages, recon_findings).
#pragma once

#include "store/types.hpp"

#include <cstdint>
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
    virtual void finish_run(std::int64_t run_id, bool succeeded, const run_totals& totals,
                            const std::string& error) = 0;
    // One finding of the run and what became of it (correction_id 0: none).
    virtual void record_finding(std::int64_t run_id, const finding& f, disposition d,
                                std::int64_t correction_id) = 0;
};

}  // namespace reconciler::store
