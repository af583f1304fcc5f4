// The run's spools: files of its report directory appended to as the run goes,
// so that a crash keeps what was done and no list of the run is ever all in
// memory, and read back (findings, corrections) when the report is written.
//   entitlement_changes.jsonl  the entitlement_change lines of the run
//   findings.jsonl             the findings, one report.json findings[] item per line
//   corrections.jsonl          the applied corrections, one report.json corrections[] item per line
//   escalations.jsonl          the escalations the run raised, one per line
//   request_ids.txt            every fetched page's Stripe Request-Id
#pragma once

#include "report/report_view.hpp"
#include "report/run_result.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace reconciler {

inline constexpr std::string_view findings_spool = "findings.jsonl";
inline constexpr std::string_view corrections_spool = "corrections.jsonl";

// Appends entitlement_change lines as they happen, so a crash keeps them,
// and the run's findings as each part of the window is done.
class report_writer {
public:
    explicit report_writer(const std::filesystem::path& run_dir);
    void entitlement_change(const boost::json::object& line);
    // Moves r.outcomes to <run_dir>/findings.jsonl (one report.json findings[]
    // item per line), counting them in r.tally, and their applied corrections
    // to <run_dir>/corrections.jsonl (one corrections[] item per line): a run
    // holds one part's findings at a time, never all.
    void findings(run_result& r);
    // An escalation this run raised, to escalations.jsonl, stamped with the
    // run and its window like every data line (docs/report-data.md).
    void escalation(const store::escalation& e, const run_result& run);
    // A fetched page's Request-Id, appended to request_ids.txt in fetch order:
    // a run's ids are never all in memory (one per page, ~15,000 for a
    // 1M-event window). Called on the fetching thread while the others may be
    // called on the worker: it touches no member they do.
    void request_id(const std::string& id);
    // Flushes request_ids.txt; throws naming the file when it cannot be written.
    void request_ids_done();

private:
    std::filesystem::path run_dir_;
    std::ofstream out_;
    std::ofstream findings_;
    std::ofstream corrections_;
    std::ofstream escalations_;
    std::ofstream request_ids_;
};

namespace detail {

// A spool's lines (each one report.json array item) to a visitor, line by line.
void each_spooled_line(const std::filesystem::path& file, const std::function<void(std::string_view line)>& visit);

// The same, parsed: a source the renderers can read as often as they need.
item_source spooled_items(const std::filesystem::path& file);

}  // namespace detail

}  // namespace reconciler
