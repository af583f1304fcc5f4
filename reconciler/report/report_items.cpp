#include "report/report_items.hpp"

#include "core/timeutil.hpp"

#include <boost/json/parse.hpp>

#include <fstream>
#include <string>
#include <utility>

namespace reconciler::detail {

namespace json = boost::json;

namespace {

// The correction part of a findings[] item.
json::object correction_fields(const proposed_correction& c) {
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
    return corr;
}

// The corrections[] item of an applied finding: its correction and what it applied to.
json::object applied_correction(const finding_outcome& o, json::object corr) {
    corr["id"] = o.correction_id;
    corr["user_email"] = o.f.user_email;
    corr["correlation_id"] = o.correlation_id;
    corr["finding"] = to_string(o.f.kind);
    corr["subject_id"] = o.f.subject_id;
    corr["status"] = "applied";
    return corr;
}

bool names_a_time(std::string_view key) {
    auto ends_with = [&](std::string_view tail) {
        return key.size() > tail.size() && key.substr(key.size() - tail.size()) == tail;
    };
    return key == "created" || key == "at" || key == "as_of" || ends_with("_at") || ends_with("_end") ||
           ends_with("_start");
}

}  // namespace

void stamp(json::object& item, const run_stamp& s) {
    item["run_id"] = s.run_id;
    item["window_start"] = format_rfc3339(s.window_start);
    item["window_end"] = format_rfc3339(s.window_end);
}

run_stamp run_stamp_of(const run_result& r) { return {r.run_id, r.window_start, r.window_end}; }

json::value evidence_times(json::value evidence) {
    if (json::object* o = evidence.if_object()) {
        for (auto& kv : *o) {
            if (names_a_time(kv.key()) && kv.value().is_int64())
                kv.value() = format_rfc3339(kv.value().get_int64());
            else
                kv.value() = evidence_times(std::move(kv.value()));
        }
    } else if (json::array* a = evidence.if_array()) {
        for (auto& v : *a) v = evidence_times(std::move(v));
    }
    return evidence;
}

json::object finding_item(const finding_outcome& o, std::optional<json::object>& applied_out,
                          const run_stamp& run) {
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
        {"evidence", evidence_times(o.f.evidence)},
    };
    stamp(item, run);
    if (o.f.correction) {
        json::object corr = correction_fields(*o.f.correction);
        if (o.disposition == store::disposition::applied) {
            applied_out = applied_correction(o, corr);
            stamp(*applied_out, run);
        }
        item["correction"] = std::move(corr);
    } else {
        item["correction"] = nullptr;
    }
    return item;
}

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

json::value evidence_of(const store::escalation& e) {
    boost::system::error_code ec;
    json::value evidence = json::parse(e.evidence, ec);
    return ec ? json::value(nullptr) : evidence_times(std::move(evidence));
}

json::object escalation_item(const store::escalation& e, unix_seconds now, const std::set<std::int64_t>* new_ids) {
    json::object item = escalation_fields(e);
    item["age_days"] = store::escalation_age_days(e.first_seen, now);
    if (new_ids != nullptr) item["new"] = new_ids->count(e.id) > 0;
    return item;
}

std::set<std::int64_t> new_escalation_ids(const std::filesystem::path& run_dir) {
    std::set<std::int64_t> ids;
    std::ifstream in(run_dir / "escalations.jsonl", std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        const json::value v = json::parse(line, ec);
        const json::object* o = ec ? nullptr : v.if_object();
        if (o == nullptr) continue;
        const json::value* is_new = o->if_contains("new");
        const json::value* id = o->if_contains("id");
        if (is_new && is_new->is_bool() && is_new->get_bool() && id && id->is_int64()) ids.insert(id->get_int64());
    }
    return ids;
}

}  // namespace reconciler::detail
