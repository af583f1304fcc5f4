// A run's report rebuilt from the database (`reconciler report RUN_ID`): for
// a run whose report directory could not be written (a full disk), a run
// killed before it wrote one, or a report deleted since.
#pragma once

#include "report/run_result.hpp"

#include <cstdint>
#include <filesystem>

namespace reconciler {

// Writes run `run_id`'s report into `dir` (created 0750 when missing):
// findings.jsonl, corrections.jsonl and request_ids.txt from recon_findings,
// the ledger and recon_pages, then report.json, report.html, summary.md and
// findings.csv through the same renderers as the run's own report
// (write_report). What the database does not keep (each finding's summary
// and note, requests, retries, slices, the run's notes) is absent, and a note
// says so; the open escalations are listed (as they are now) for a
// succeeded apply run only. `point_latest`: point <dir>/../latest at it.
// Throws std::invalid_argument when the database has no such run.
run_result rebuild_report(store::store& db, std::int64_t run_id, const std::filesystem::path& dir,
                          bool point_latest);

}  // namespace reconciler
