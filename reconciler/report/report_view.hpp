// What every renderer reads from a report: the run, its totals and its three
// listings (findings, corrections, escalations), read once from report.json
// and, for a run's own report, from the spools and the database (streams).
//
// report.json is read, not trusted (json_read.hpp): every field may be
// missing, null or of the wrong type. Rules for the numbers (shared with
// tests/e2e/chromium_report_test.sh and docs/report-schema.md): a total is
// report.json's value when it is there and integral, otherwise it is counted
// from findings[]; a breakdown object (by_kind, ...) that is present defines
// the rows, one that is absent is counted from findings[] entirely. So the
// page always agrees with the JSON, and a report written before a breakdown
// existed still gets one. Corrections and escalations come from the top-level
// arrays when the report has them, otherwise from findings[] (applied
// findings; flagged/failed findings), so that every report, old or new, says
// what was fixed and what was escalated.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reconciler {

// A report's array items one at a time (null for an item that is not an
// object): a run streams its findings.jsonl, corrections.jsonl and the
// database's open escalations through these so that they are never all in
// memory at once. A source may be called more than once (each call visits
// the items from the start).
using item_visitor = std::function<void(const boost::json::object*)>;
using item_source = std::function<void(const item_visitor&)>;
using finding_visitor = item_visitor;
using finding_source = item_source;

// Where the view takes the report's arrays from. A source that is set
// replaces the report's own array of that name (which is then not read); one
// that is not set leaves it to the report, as the pure renderers do.
struct report_streams {
    finding_source findings;        // findings[]; `finding_count` of them are announced
    std::size_t finding_count = 0;
    item_source corrections;        // corrections[], in the report's order (read twice: count, rows)
    // escalations[] in the order the pages list them: open, watching, others,
    // resolved; within each, oldest first (age_days descending, no age last),
    // then as given. The view does not sort a stream (read twice: counts and
    // age buckets, rows). store::store::each_open_escalation_by_age gives this order.
    item_source escalations;
};

// The view's rows: the report's values as text, as a page shows them.

// A breakdown's rows, largest first (then by name).
using breakdown = std::vector<std::pair<std::string, std::int64_t>>;

struct totals_model {
    std::int64_t findings = 0;
    std::int64_t applied = 0;
    std::int64_t flagged = 0;
    breakdown by_kind;
    breakdown by_disposition;
    breakdown by_team;
    breakdown flagged_by_team;
};

struct correction_row {
    std::string id;
    std::string kind;
    std::string ledger_key;
    std::string user_email;
    std::string credits;
    std::string tier_from;
    std::string tier_to;
    std::string correlation_id;
    std::string status;
    bool record_payment = false;
};

struct escalation_row {
    std::string id;
    std::string team;
    std::string kind;
    std::string subject;
    std::string user_email;  // only for rows made from findings
    std::string first_seen;
    std::string last_seen;
    std::string occurrences;
    std::string status;
    std::optional<double> age_days;
    std::optional<bool> is_new;  // escalations[] "new": first raised by this run; absent in older reports
};

// The rows of a listing one at a time; may be called more than once.
template <class Row>
using row_source = std::function<void(const std::function<void(const Row&)>&)>;

namespace detail {

// A report's own findings[] (may be null) as a finding_source.
finding_source findings_of(const boost::json::array* findings);

}  // namespace detail

// Refers to `report` (which must outlive it) and to itself: neither copied nor moved.
class report_view {
public:
    explicit report_view(const boost::json::object& report, report_streams streams = {});
    report_view(const report_view&) = delete;
    report_view& operator=(const report_view&) = delete;

    const boost::json::object& report;
    const boost::json::object* run;     // report.run; null when absent
    const boost::json::object* window;  // run.window; null when absent
    std::string run_id, status, mode, error, window_start, window_end;  // "" when absent
    totals_model totals;
    finding_source findings;
    std::size_t finding_count = 0;
    row_source<correction_row> corrections;  // in the report's order
    row_source<escalation_row> escalations;  // in listing order (report_streams::escalations)
    bool escalation_records = false;  // escalation records, not flagged findings

private:
    report_streams streams_;
    std::vector<correction_row> held_corrections_;
    std::vector<escalation_row> held_escalations_;
};

}  // namespace reconciler
