#include "pipeline/escalator.hpp"

#include <boost/json/serialize.hpp>

namespace reconciler::pipeline {

namespace json = boost::json;

namespace {

// Kinds escalated even when the reconciler repaired their effect.
bool always_escalated(finding_kind k) { return k == finding_kind::paid_without_entitlement_change; }

}  // namespace

void escalator::raise(run_result& result, const std::string& team_name, const std::string& kind,
                      const std::string& subject, const json::object& evidence, unix_seconds at, int watch_until) {
    auto e = db_.raise(store::escalation_input{team_name, kind, subject, json::serialize(evidence), at}, result.run_id,
                       watch_until);
    if (e.is_new) ++result.new_escalations;
    ++result.escalations_raised;
    report_.escalation(e);
}

void escalator::raise_for(run_result& result, std::size_t first_outcome) {
    for (std::size_t i = first_outcome; i < result.outcomes.size(); ++i) {
        const auto& o = result.outcomes[i];
        const bool flagged = o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed;
        // A clawback that could not take everything back: the rest is flagged.
        const bool partial = o.disposition == store::disposition::applied && o.f.correction &&
                             o.f.correction->kind == correction_kind::revoke_credits && !o.note.empty();
        if (!flagged && !partial && !always_escalated(o.f.kind)) continue;
        json::object evidence = o.f.evidence;
        evidence["summary"] = o.f.summary;
        evidence["note"] = o.note;
        // A failed tier fix goes to billing engineering on its second failure
        // ("after 2 failed retries"); everything else at once.
        const int watch = o.f.kind == finding_kind::tier_mismatch && o.disposition == store::disposition::failed ? 2 : 1;
        raise(result, to_string(o.f.owner), to_string(o.f.kind), o.f.subject_id, evidence, o.f.at, watch);
    }
    if (!result.cap_reached.empty() && !cap_escalated_) {
        cap_escalated_ = true;
        raise(result, "billing_engineering", "blast_radius_cap", "run-" + std::to_string(result.run_id),
              json::object{{"cap", result.cap_reached},
                           {"summary", "the run stopped applying corrections at " + result.cap_reached +
                                           "; the rest were flagged: check the price map before raising the cap"}},
              0, 1);
    }
}

void escalator::resolve_absent(run_result& result, unix_seconds start, unix_seconds end,
                               const std::vector<finding_kind>& kinds) {
    std::vector<std::string> names;
    for (auto k : kinds) names.emplace_back(to_string(k));
    result.escalations_resolved += db_.resolve_absent(result.run_id, start, end, names);
}

}  // namespace reconciler::pipeline
