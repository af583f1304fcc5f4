// The items of report.json's arrays (docs/report-schema.md), made from the
// run's own types. report_writer spools them, report_json splices them in:
// one shape for each, whichever file it ends up in.
#pragma once

#include "report/run_result.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>

namespace reconciler::detail {

// One findings[] item; `applied_out` receives the corrections[] item when the
// finding's correction was applied.
boost::json::object finding_item(const finding_outcome& o, std::optional<boost::json::object>& applied_out);

// The fields every escalation record carries (escalations.jsonl, report.json).
boost::json::object escalation_fields(const store::escalation& e);

// An escalation's stored evidence as JSON (null when it is not JSON).
boost::json::value evidence_of(const store::escalation& e);

// One escalations[] item of report.json, without its evidence: the renderers
// show none; report.json adds it. Its age_days is what
// store::each_open_escalation_by_age sorts by.
boost::json::object escalation_item(const store::escalation& e, unix_seconds now);

}  // namespace reconciler::detail
