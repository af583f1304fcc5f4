#include "report/rebuild.hpp"

#include "core/timeutil.hpp"
#include "report/report.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <map>
#include <ostream>
#include <stdexcept>
#include <system_error>

namespace reconciler {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

unix_seconds time_or(const std::string& text, unix_seconds fallback) {
    try {
        return text.empty() ? fallback : parse_rfc3339(text);
    } catch (const std::exception&) {
        return fallback;
    }
}

// The run as its row records it; what only the run's memory held stays 0.
run_result result_of(const store::run_row& row, const fs::path& dir) {
    run_result r;
    r.run_id = row.id;
    r.succeeded = row.status == "succeeded";
    r.error = row.error.empty() && !r.succeeded ? "status in the database: " + row.status : row.error;
    r.window_start = row.window_start;
    r.window_end = row.window_end;
    r.started_at = time_or(row.started_at, 0);
    r.finished_at = time_or(row.finished_at, r.started_at);
    r.dry_run = row.mode == "dry_run";
    r.config_hash = row.config_hash;
    r.api_version = row.stripe_api_version;
    r.pages = row.pages;
    r.objects = row.objects;
    r.report_dir = dir;
    r.notes.push_back("rebuilt from the database by `reconciler report " + std::to_string(row.id) + "` at " +
                      format_rfc3339(now_unix()) + " (run status there: " + row.status +
                      "); the database does not keep each finding's summary and note, the requests, retries, "
                      "slices or the run's own notes");
    return r;
}

// One corrections[] item, as report_items.cpp makes it from a run's finding.
json::object correction_item(const store::recorded_correction& c) {
    json::object item{{"kind", c.kind}, {"ledger_key", c.stripe_object}};
    if (c.kind == "set_tier") {
        item["tier_from"] = c.tier_before;
        item["tier_to"] = c.tier_after;
    } else {
        item["credits"] = std::llabs(c.credits_delta);
        if (c.kind == "grant_credits") item["record_payment"] = c.payment_recorded;
    }
    item["id"] = c.id;
    item["user_email"] = c.user_email;
    item["correlation_id"] = c.correlation_id;
    item["finding"] = c.finding_kind;
    item["subject_id"] = c.subject_id;
    item["status"] = c.status;
    return item;
}

// One findings[] item; its correction (when it has a ledger row) from `corrections`.
json::object finding_item(const store::recorded_finding& f, const std::map<std::int64_t, json::object>& corrections) {
    boost::system::error_code ec;
    json::value evidence = json::parse(f.evidence, ec);
    if (ec) evidence = nullptr;
    const json::object* ev = evidence.if_object();
    const json::value* customer = ev ? ev->if_contains("customer") : nullptr;
    json::value correction = nullptr;
    if (const auto it = corrections.find(f.correction_id); it != corrections.end()) {
        json::object c = it->second;
        for (const char* k : {"id", "user_email", "correlation_id", "finding", "subject_id", "status"}) c.erase(k);
        correction = std::move(c);
    }
    return json::object{
        {"kind", f.kind},
        {"subject_type", f.subject_type},
        {"subject_id", f.subject_id},
        {"customer", customer && customer->is_string() ? *customer : json::value("")},
        {"user_id", f.user_id ? json::value(*f.user_id) : json::value(nullptr)},
        {"user_email", f.user_email},
        {"team", f.team},
        {"disposition", f.disposition},
        {"summary", ""},
        {"note", ""},
        {"correlation_id", f.correlation_id},
        {"correction_id", f.correction_id},
        {"evidence", std::move(evidence)},
        {"correction", std::move(correction)},
    };
}

}  // namespace

run_result rebuild_report(store::store& db, std::int64_t run_id, const fs::path& dir, bool point_latest) {
    const auto row = db.find_run(run_id);
    if (!row) throw std::invalid_argument("no run " + std::to_string(run_id) + " in the database");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("create report directory " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace, ec);
    run_result r = result_of(*row, dir);

    std::map<std::int64_t, json::object> corrections;  // a run's ledger rows: bounded by the blast caps
    detail::write_file_with(dir / corrections_spool, [&](std::ostream& out) {
        db.each_run_correction(run_id, [&](const store::recorded_correction& c) {
            const json::object item = correction_item(c);
            out << json::serialize(item) << '\n';
            corrections.emplace(c.id, item);
        });
    });
    detail::write_file_with(dir / findings_spool, [&](std::ostream& out) {
        db.each_run_finding(run_id, [&](const store::recorded_finding& f) {
            out << json::serialize(finding_item(f, corrections)) << '\n';
            r.tally.add(f.kind, f.team, f.disposition);
        });
    });
    detail::write_file_with(dir / "request_ids.txt", [&](std::ostream& out) {
        db.each_run_request_id(run_id, [&](const std::string& id) { out << id << '\n'; });
    });
    const bool escalations = r.succeeded && !r.dry_run;
    if (escalations) r.open_escalations = db.count_open_escalations();
    write_report(r, escalations ? &db : nullptr, &db, point_latest);
    return r;
}

}  // namespace reconciler
