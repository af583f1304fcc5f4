#include "report/report_json.hpp"

#include "core/timeutil.hpp"
#include "report/report_items.hpp"
#include "report/report_writer.hpp"

#include <boost/json/serialize.hpp>

#include <map>
#include <ostream>
#include <string>

namespace reconciler {

namespace json = boost::json;

namespace {

json::object to_obj(const std::map<std::string, std::int64_t>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
}

// run.escalations: per team, what this run opened (new) and resolved, and
// what is open (or watching) and acked after it.
json::object escalations_by_team(const run_result& r) {
    json::object out;
    for (const auto& [team, c] : r.escalations_by_team)
        out[team] = json::object{{"new", c.opened}, {"open", c.open}, {"acked", c.acked}, {"resolved", c.resolved}};
    return out;
}

json::object delivery_object(const delivery_counts& c) {
    return json::object{{"sent", c.sent}, {"failed", c.failed}, {"pending", c.pending}};
}

// run.deliveries: sent and failed by this run, pending in the outbox after
// it, and the same by route; null without escalations.routes.
json::value deliveries(const run_result& r) {
    if (!r.deliveries_configured) return nullptr;
    json::object out = delivery_object(r.deliveries);
    json::object by_route;
    for (const auto& [route, c] : r.deliveries_by_route) by_route[route] = delivery_object(c);
    out["by_route"] = std::move(by_route);
    return out;
}

json::object run_fields(const run_result& r) {
    json::array notes;
    for (const auto& n : r.notes) notes.push_back(json::string(n));
    return json::object{
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
        {"livemode", r.livemode},
        {"stripe_account", r.stripe_account.empty() ? json::value(nullptr) : json::value(r.stripe_account)},
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
        {"abandoned_runs", r.abandoned_runs},
        {"escalations", escalations_by_team(r)},
        {"deliveries", deliveries(r)},
    };
}

json::object totals_fields(const run_result& r) {
    const auto& t = r.tally;
    return json::object{
        {"findings", t.total},
        {"applied", r.applied()},
        {"flagged", r.flagged()},
        {"by_kind", to_obj(t.by_kind)},
        {"by_disposition", to_obj(t.by_disposition)},
        {"by_team", to_obj(t.by_team)},
        {"flagged_by_team", to_obj(t.flagged_by_team)},
        {"escalations_new", r.new_escalations},
        {"escalations_resolved", r.escalations_resolved},
        {"escalations_open", r.open_escalations},
    };
}

}  // namespace

json::object report_json(const run_result& r) {
    return json::object{
        {"schema_version", report_schema_version},
        {"run", run_fields(r)},
        {"totals", totals_fields(r)},
    };
}

void write_report_json(std::ostream& out, const json::object& head, const run_result& r, store::store* db) {
    std::string text = json::serialize(head);
    text.pop_back();  // the closing brace
    out << text << ",\"corrections\":[";
    bool first = true;
    const auto spliced = [&](std::string_view line) {
        out << (first ? "" : ",") << line;
        first = false;
    };
    detail::each_spooled_line(r.report_dir / corrections_spool, spliced);
    out << "],\"escalations\":[";
    first = true;
    const std::set<std::int64_t> new_ids = detail::new_escalation_ids(r.report_dir);
    if (db != nullptr)
        db->each_open_escalation([&](const store::escalation& e) {
            json::object item = detail::escalation_item(e, r.finished_at, &new_ids);
            item["evidence"] = detail::evidence_of(e);
            spliced(json::serialize(item));
        });
    out << "],\"findings\":[";
    first = true;
    detail::each_spooled_line(r.report_dir / findings_spool, spliced);
    out << "]}\n";
}

}  // namespace reconciler
