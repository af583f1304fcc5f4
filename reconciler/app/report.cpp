#include "app/report.hpp"

#include "app/report_render.hpp"
#include "core/timeutil.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <map>
#include <sstream>
#include <system_error>

namespace reconciler {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace detail {

void restrict_file(const fs::path& p) {
    std::error_code ec;
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perm_options::replace, ec);
}

// An escalation's stored evidence as JSON (null when it is not JSON).
json::value evidence_of(const store::escalation& e) {
    boost::system::error_code ec;
    json::value evidence = json::parse(e.evidence, ec);
    return ec ? json::value(nullptr) : evidence;
}

// The fields every escalation record carries (escalations.jsonl, report.json).
json::object escalation_fields(const store::escalation& e) {
    return json::object{{"id", e.id},
                        {"team", e.team},
                        {"kind", e.kind},
                        {"subject", e.subject},
                        {"status", e.status},
                        {"first_seen", e.first_seen},
                        {"last_seen", e.last_seen},
                        {"occurrences", e.occurrences}};
}

// Write to a temporary name, then rename: a reader never sees half a report.
void write_file_with(const fs::path& p, const std::function<void(std::ostream&)>& write) {
    const fs::path tmp = p.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        restrict_file(tmp);
        write(out);
        out.flush();
        if (!out) throw std::runtime_error("write report file " + tmp.string() + ": write failed");
    }
    fs::rename(tmp, p);
}

void write_file(const fs::path& p, const std::string& text) {
    write_file_with(p, [&](std::ostream& out) { out << text; });
}

}  // namespace detail

void prepare_output_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        // Missing directories are created (a fresh StateDirectory, a new
        // machine); umask 027 (main) keeps them 0750.
        fs::create_directories(dir, ec);
        if (ec)
            throw config_error("output.dir " + dir.string() + ": cannot create it: " + ec.message() +
                               " (create it, or point output.dir at a writable directory)");
    } else if (!fs::is_directory(dir, ec)) {
        throw config_error("output.dir " + dir.string() + ": exists but is not a directory (point output.dir at a "
                           "directory)");
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw config_error("output.dir " + dir.string() + ": not writable by this user (" + std::strerror(errno) +
                           "; fix its owner or permissions, or point output.dir elsewhere)");
}

fs::path prepare_report_dir(const fs::path& dir, std::int64_t run_id, unix_seconds /*started*/) {
    const fs::path run_dir = dir / ("run-" + std::to_string(run_id));
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec)
        throw config_error("output.dir " + dir.string() + ": cannot create " + run_dir.string() + ": " + ec.message() +
                           " (check output.dir in the config and the directory's permissions)");
    fs::permissions(run_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace, ec);
    return run_dir;
}

report_writer::report_writer(const fs::path& run_dir)
    : run_dir_(run_dir),
      out_(run_dir / "entitlement_changes.jsonl", std::ios::app),
      findings_(run_dir / "findings.jsonl", std::ios::binary | std::ios::trunc),
      corrections_(run_dir / "corrections.jsonl", std::ios::binary | std::ios::trunc),
      escalations_(run_dir / "escalations.jsonl", std::ios::binary | std::ios::trunc),
      request_ids_(run_dir / "request_ids.txt", std::ios::binary | std::ios::trunc) {
    detail::restrict_file(run_dir / "entitlement_changes.jsonl");
    detail::restrict_file(run_dir / "findings.jsonl");
    detail::restrict_file(run_dir / "corrections.jsonl");
    detail::restrict_file(run_dir / "escalations.jsonl");
    detail::restrict_file(run_dir / "request_ids.txt");
}

void report_writer::request_id(const std::string& id) { request_ids_ << id << '\n'; }

void report_writer::request_ids_done() {
    request_ids_.flush();
    if (!request_ids_) throw std::runtime_error("write " + (run_dir_ / "request_ids.txt").string() + ": write failed");
}

void report_writer::escalation(const store::escalation& e) {
    json::object line = detail::escalation_fields(e);
    line["new"] = e.is_new;
    line["evidence"] = detail::evidence_of(e);
    escalations_ << json::serialize(line) << '\n';
    escalations_.flush();
}

void report_writer::entitlement_change(const json::object& line) {
    out_ << json::serialize(line) << '\n';
    out_.flush();
}

namespace detail {

bool counts_as_flagged(store::disposition d) {
    return d != store::disposition::applied && d != store::disposition::already_applied &&
           d != store::disposition::superseded && d != store::disposition::replayed;
}

// One escalations[] item of report.json, without its evidence: the renderers
// show none; report.json adds it. Its age_days is what
// store::each_open_escalation_by_age sorts by.
json::object escalation_item(const store::escalation& e, unix_seconds now) {
    json::object item = escalation_fields(e);
    item["age_days"] = store::escalation_age_days(e.first_seen, now);
    return item;
}

// One findings[] item of report.json (docs/report-schema.md); `applied`
// receives the corrections[] item when the finding's correction was applied.
json::object finding_item(const finding_outcome& o, std::optional<json::object>& applied_out) {
    json::object item{
        {"kind", to_string(o.f.kind)},
        {"subject_type", o.f.subject_type},
        {"subject_id", o.f.subject_id},
        {"customer", o.f.customer_id},
        {"user_id", o.f.user_id ? json::value(*o.f.user_id) : json::value(nullptr)},
        {"user_email", o.f.user_email},
        {"team", to_string(o.f.owner)},
        {"disposition", store::to_string(o.disposition)},
        {"summary", o.f.summary},
        {"note", o.note},
        {"correlation_id", o.correlation_id},
        {"correction_id", o.correction_id},
        {"evidence", o.f.evidence},
    };
    if (o.f.correction) {
        const auto& c = *o.f.correction;
        json::object corr{{"kind", to_string(c.kind)}, {"ledger_key", c.ledger_key}};
        if (c.kind == correction_kind::grant_credits) {
            corr["credits"] = c.credits;
            corr["record_payment"] = c.record_payment.has_value();
        } else if (c.kind == correction_kind::revoke_credits) {
            corr["credits"] = c.credits;
            corr["unrecovered"] = c.unrecovered;
        } else {
            corr["tier_from"] = c.tier_from;
            corr["tier_to"] = c.tier_to;
        }
        if (o.disposition == store::disposition::applied) {
            json::object applied = corr;
            applied["id"] = o.correction_id;
            applied["user_email"] = o.f.user_email;
            applied["correlation_id"] = o.correlation_id;
            applied["finding"] = to_string(o.f.kind);
            applied["subject_id"] = o.f.subject_id;
            applied["status"] = "applied";
            applied_out = std::move(applied);
        }
        item["correction"] = std::move(corr);
    } else {
        item["correction"] = nullptr;
    }
    return item;
}

// A spool of the run (findings.jsonl, corrections.jsonl: one report.json
// array item per line) to a visitor, line by line.
void each_spooled_line(const fs::path& file, const std::function<void(std::string_view line)>& visit) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) visit(line);
}

// The same, parsed: a source the renderers can read as often as they need.
item_source spooled_items(const fs::path& file) {
    return [file](const item_visitor& visit) {
        each_spooled_line(file, [&](std::string_view line) {
            boost::system::error_code ec;
            const json::value v = json::parse(line, ec);
            visit(ec ? nullptr : v.if_object());
        });
    };
}

}  // namespace detail

void finding_tally::add(const finding_outcome& o) {
    ++total;
    const std::string kind = to_string(o.f.kind), team_name = to_string(o.f.owner),
                      disposition = store::to_string(o.disposition);
    ++by_kind[kind];
    ++by_team[team_name];
    ++by_disposition[disposition];
    ++by_kind_and_disposition[kind][disposition];
    if (detail::counts_as_flagged(o.disposition)) ++flagged_by_team[team_name];
    if (o.disposition == store::disposition::applied) ++applied;
    if (o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed) ++flagged;
}

void report_writer::findings(run_result& r) {
    for (const auto& o : r.outcomes) {
        std::optional<json::object> applied;
        const json::object item = detail::finding_item(o, applied);
        findings_ << json::serialize(item) << '\n';
        r.tally.add(o);
        if (applied) corrections_ << json::serialize(*applied) << '\n';
    }
    findings_.flush();
    if (!findings_) throw std::runtime_error("write " + (run_dir_ / "findings.jsonl").string() + ": write failed");
    corrections_.flush();
    if (!corrections_)
        throw std::runtime_error("write " + (run_dir_ / "corrections.jsonl").string() + ": write failed");
    r.outcomes.clear();
    r.outcomes.shrink_to_fit();
}

json::object report_json(const run_result& r) {
    const auto& t = r.tally;
    const auto& by_kind = t.by_kind;
    const auto& by_team = t.by_team;
    const auto& by_disposition = t.by_disposition;
    const auto& flagged_by_team = t.flagged_by_team;
    auto to_obj = [](const std::map<std::string, std::int64_t>& m) {
        json::object o;
        for (const auto& [k, v] : m) o[k] = v;
        return o;
    };
    json::array notes;
    for (const auto& n : r.notes) notes.push_back(json::string(n));
    return json::object{
        {"schema_version", report_schema_version},
        {"run",
         json::object{
             {"id", r.run_id},
             {"status", r.succeeded ? "succeeded" : "failed"},
             {"error", r.error},
             {"mode", r.dry_run ? "dry_run" : "apply"},
             {"window", json::object{{"start", format_rfc3339(r.window_start)}, {"end", format_rfc3339(r.window_end)}}},
             {"started_at", format_rfc3339(r.started_at)},
             {"finished_at", format_rfc3339(r.finished_at)},
             {"duration_seconds", r.finished_at - r.started_at},
             {"config_hash", r.config_hash},
             {"stripe_api_version", r.api_version},
             {"pages", r.pages},
             {"objects", r.objects},
             {"requests", r.requests},
             {"retries", r.retries},
             {"slices", r.slices},
             {"subscriptions_from_list", r.subscriptions_from_list},
             {"objects_passed_over", to_obj(r.passed_over)},
             {"portal_sessions", r.portal_sessions},
             {"request_ids_file", "request_ids.txt"},
             {"notes", std::move(notes)},
             {"cursors", r.checkpoint ? json::value(json::object{{"window", format_rfc3339(*r.checkpoint)}})
                                      : json::value(json::object{})},
             {"blast_radius_cap", r.cap_reached.empty() ? json::value(nullptr) : json::value(r.cap_reached)},
         }},
        {"totals",
         json::object{
             {"findings", r.tally.total},
             {"applied", r.applied()},
             {"flagged", r.flagged()},
             {"by_kind", to_obj(by_kind)},
             {"by_disposition", to_obj(by_disposition)},
             {"by_team", to_obj(by_team)},
             {"flagged_by_team", to_obj(flagged_by_team)},
             {"escalations_new", r.new_escalations},
             {"escalations_resolved", r.escalations_resolved},
             {"escalations_open", r.open_escalations},
         }},
    };
}

void write_report(const run_result& r, store::store* db) {
    if (r.report_dir.empty()) return;
    // The findings and the corrections stream from their spools into each
    // file, one file at a time; the open escalations from the database.
    const json::object report = report_json(r);
    const fs::path findings_spool = r.report_dir / "findings.jsonl";
    const fs::path corrections_spool = r.report_dir / "corrections.jsonl";
    report_streams streams;
    streams.findings = detail::spooled_items(findings_spool);
    streams.finding_count = static_cast<std::size_t>(r.tally.total);
    streams.corrections = detail::spooled_items(corrections_spool);
    // The pages' order (open first, oldest first) and no evidence (they show none).
    streams.escalations = [&](const item_visitor& visit) {
        if (db == nullptr) return;
        db->each_open_escalation_by_age(r.finished_at, [&](const store::escalation& e) {
            const json::object item = detail::escalation_item(e, r.finished_at);
            visit(&item);
        });
    };
    detail::write_file_with(r.report_dir / "report.json", [&](std::ostream& out) {
        // report.json is report_json(r) with corrections[] (from their spool),
        // escalations[] (from the database) and findings[] (from their spool)
        // spliced in.
        std::string head = json::serialize(report);
        head.pop_back();  // the closing brace
        out << head << ",\"corrections\":[";
        bool first = true;
        const auto spliced = [&](std::string_view line) {
            out << (first ? "" : ",") << line;
            first = false;
        };
        detail::each_spooled_line(corrections_spool, spliced);
        out << "],\"escalations\":[";
        first = true;
        if (db != nullptr)
            db->each_open_escalation([&](const store::escalation& e) {
                json::object item = detail::escalation_item(e, r.finished_at);
                item["evidence"] = detail::evidence_of(e);
                spliced(json::serialize(item));
            });
        out << "],\"findings\":[";
        first = true;
        detail::each_spooled_line(findings_spool, spliced);
        out << "]}\n";
    });
    detail::write_file_with(r.report_dir / "report.html",
                            [&](std::ostream& out) { render_html(out, report, streams); });
    detail::write_file_with(r.report_dir / "findings.csv",
                            [&](std::ostream& out) { render_findings_csv(out, streams.findings); });
    detail::write_file(r.report_dir / "summary.md", render_summary_md(report, streams));
    // `latest` always points at the newest complete report.
    const fs::path latest = r.report_dir.parent_path() / "latest";
    const fs::path tmp = r.report_dir.parent_path() / ".latest.tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_directory_symlink(r.report_dir.filename(), tmp, ec);
    if (!ec) fs::rename(tmp, latest, ec);
}

std::string metrics_text(const run_result& r, std::optional<unix_seconds> last_success) {
    std::ostringstream s;
    auto gauge = [&](const char* name, const char* help, auto value) {
        s << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
    };
    gauge("stripe_reconciler_last_run_success", "1 if the last run succeeded", r.succeeded ? 1 : 0);
    gauge("stripe_reconciler_last_run_timestamp_seconds", "when the last run finished", r.finished_at);
    if (last_success)
        gauge("stripe_reconciler_last_success_timestamp_seconds", "when a run last succeeded", *last_success);
    gauge("stripe_reconciler_last_run_duration_seconds", "duration of the last run", r.finished_at - r.started_at);
    gauge("stripe_reconciler_last_run_pages", "list pages fetched by the last run", r.pages);
    gauge("stripe_reconciler_last_run_objects", "Stripe objects fetched by the last run", r.objects);
    gauge("stripe_reconciler_last_run_requests", "Stripe requests of the last run", r.requests);
    gauge("stripe_reconciler_last_run_corrections_applied", "corrections applied by the last run", r.applied());
    gauge("stripe_reconciler_escalations_open", "open escalations after the last run",
          r.open_escalations);
    std::map<std::string, std::int64_t> by_kind;
    for (int k = 0; k < finding_kind_count; ++k) by_kind[to_string(static_cast<finding_kind>(k))] = 0;
    for (const auto& [kind, n] : r.tally.by_kind) by_kind[kind] = n;
    s << "# HELP stripe_reconciler_last_run_findings findings of the last run by kind\n"
         "# TYPE stripe_reconciler_last_run_findings gauge\n";
    for (const auto& [kind, n] : by_kind) s << "stripe_reconciler_last_run_findings{kind=\"" << kind << "\"} " << n << '\n';
    return s.str();
}

void write_metrics(const fs::path& output_dir, const run_result& r) {
    // A failed run keeps the previous success time, so "time since last
    // success" alerts keep counting.
    std::optional<unix_seconds> last_success;
    if (r.succeeded) last_success = r.finished_at;
    else {
        std::ifstream in(output_dir / "reconciler.prom");
        std::string line;
        const std::string key = "stripe_reconciler_last_success_timestamp_seconds ";
        while (std::getline(in, line))
            if (line.rfind(key, 0) == 0) last_success = std::stoll(line.substr(key.size()));
    }
    detail::write_file(output_dir / "reconciler.prom", metrics_text(r, last_success));
}

std::string format_summary(const run_result& r) {
    std::ostringstream s;
    s << "stripe-reconciler run " << r.run_id << ": " << (r.succeeded ? "succeeded" : "FAILED")
      << (r.dry_run ? " (dry run: nothing applied)" : "") << "\n";
    s << "  window   " << format_rfc3339(r.window_start) << " .. " << format_rfc3339(r.window_end) << "\n";
    s << "  fetched  " << r.objects << " objects in " << r.pages << " pages (" << r.requests << " requests, "
      << r.retries << " retries) in " << (r.finished_at - r.started_at) << " s\n";
    if (!r.succeeded) s << "  error    " << r.error << "\n";
    // Unknown prices come first: until they are mapped, the rest of the summary is incomplete for their customers.
    const auto unknown_price = [](const std::string& n) { return n.rfind("unknown price ", 0) == 0; };
    for (const auto& n : r.notes)
        if (unknown_price(n)) s << "  note     " << n << "\n";
    const auto& table = r.tally.by_kind_and_disposition;
    s << "  findings " << r.tally.total << " (applied " << r.applied() << ", flagged " << r.flagged() << ")\n";
    for (const auto& [kind, dispositions] : table) {
        s << "    " << kind << ":";
        for (const auto& [d, n] : dispositions) s << " " << d << " " << n;
        s << "\n";
    }
    if (!r.dry_run && r.succeeded)
        s << "  escalations " << r.new_escalations << " new, " << r.escalations_resolved << " resolved, "
          << r.open_escalations << " open\n";
    if (!r.cap_reached.empty()) s << "  CAP      " << r.cap_reached << " reached: remaining corrections flagged\n";
    for (const auto& n : r.notes)
        if (!unknown_price(n)) s << "  note     " << n << "\n";
    s << "  report   " << (r.report_dir / "report.json").string() << "\n";
    return s.str();
}

}  // namespace reconciler
