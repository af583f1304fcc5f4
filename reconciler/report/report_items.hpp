// The items of report.json's arrays (docs/report-schema.md), made from the
// run's own types. report_writer spools them, report_json splices them in:
// one shape for each, whichever file it ends up in.
#pragma once

#include "report/run_result.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <optional>
#include <set>

namespace reconciler::detail {

// What every findings.jsonl / corrections.jsonl line (and report.json item)
// carries about its run, so that many runs' files load into one table
// without parsing paths (docs/report-data.md).
struct run_stamp {
    std::int64_t run_id = 0;
    unix_seconds window_start = 0, window_end = 0;
};
run_stamp run_stamp_of(const run_result& r);
// Adds run_id, window_start and window_end (RFC 3339) to a data line.
void stamp(boost::json::object& item, const run_stamp& s);

// One findings[] item; `applied_out` receives the corrections[] item when the
// finding's correction was applied. Both carry `stamp` (run_id, window_start,
// window_end), and the evidence's unix times are RFC 3339 (evidence_times).
boost::json::object finding_item(const finding_outcome& o, std::optional<boost::json::object>& applied_out,
                                 const run_stamp& stamp);

// Evidence with its times in the report's one format: an integer under a key
// that names a time (`created`, `at`, `as_of`, `*_at`, `*_end`, `*_start`) becomes an
// RFC 3339 UTC string, in nested objects and arrays too.
boost::json::value evidence_times(boost::json::value evidence);

// The fields every escalation record carries (escalations.jsonl, report.json).
boost::json::object escalation_fields(const store::escalation& e);

// An escalation's stored evidence as JSON (null when it is not JSON).
boost::json::value evidence_of(const store::escalation& e);

// One escalations[] item of report.json, without its evidence: the renderers
// show none; report.json adds it. Its age_days is what
// store::each_open_escalation_by_age sorts by. With `new_ids`, its "new" says
// whether this run first raised it (report.html's "new" and "still open").
boost::json::object escalation_item(const store::escalation& e, unix_seconds now,
                                    const std::set<std::int64_t>* new_ids = nullptr);

// The escalations a run first raised: escalations.jsonl's lines with "new" true.
std::set<std::int64_t> new_escalation_ids(const std::filesystem::path& run_dir);

}  // namespace reconciler::detail
