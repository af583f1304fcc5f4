#include "pipeline/escalator.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <iterator>
#include <limits>
#include <variant>

namespace reconciler::pipeline {

namespace json = boost::json;

namespace {

// A transaction holds the database's write lock (on SQLite the app's writers
// wait for it), so a part's escalations are raised a bounded number at a time
// rather than all in one (one transaction each was a measurable part of a run).
constexpr std::size_t escalations_per_transaction = 256;

// Kinds escalated even when the reconciler repaired their effect.
bool always_escalated(finding_kind k) { return k == finding_kind::paid_without_entitlement_change; }

}  // namespace

closer closer_of(finding_kind k) {
    using fk = finding_kind;
    switch (k) {
    // The webhook path: a correction hides the symptom, never the cause.
    case fk::paid_without_entitlement_change:
    case fk::missed_webhook:
    case fk::webhook_failed_twice:
    case fk::webhook_signature_failures:
    // Closed by a change only a person makes (the price map, the portal).
    case fk::unknown_price:
    case fk::billing_portal_misconfigured: return closer::person;
    case fk::balance_drift:
    case fk::negative_or_stuck_balance:
    case fk::credits_not_decrementing: return closer::rechecked_user;
    default: return closer::in_window;
    }
}

store::escalation_request escalation_request_for(const finding& f, const std::string& note, bool person,
                                                 unix_seconds window_start, int watch_until) {
    json::object evidence = f.evidence;
    evidence["summary"] = f.summary;
    evidence["note"] = note;
    const closer who = closer_of(f.kind);
    const unix_seconds at = f.at == 0 && who == closer::rechecked_user ? window_start : f.at;
    return store::escalation_request{
        store::escalation_input{to_string(f.owner), to_string(f.kind), f.subject_id, json::serialize(evidence), at,
                                person || who == closer::person},
        watch_until, false};
}

void escalator::count_and_report(run_result& result, const store::escalation& e) {
    if (e.is_new) ++result.new_escalations;
    ++result.escalations_raised;
    report_.escalation(e, result);
}

void escalator::raise_for(run_result& result, std::size_t first_outcome, const raised_escalations& with_corrections) {
    // In the outcomes' order: one written with its correction, or the index
    // of one raised below.
    std::vector<std::variant<const store::escalation*, std::size_t>> order;
    std::vector<store::raise_input> batch;
    for (std::size_t i = first_outcome; i < result.outcomes.size(); ++i) {
        const auto& o = result.outcomes[i];
        const bool flagged = o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed;
        // A clawback that could not take everything back: the rest is flagged.
        const bool partial = o.disposition == store::disposition::applied && o.f.correction &&
                             o.f.correction->kind == correction_kind::revoke_credits && !o.note.empty();
        if (!flagged && !partial && !always_escalated(o.f.kind)) continue;
        if (auto it = with_corrections.find(std::string(to_string(o.f.kind)) + ":" + o.f.subject_id);
            it != with_corrections.end()) {
            order.emplace_back(&it->second);
            continue;
        }
        // A failed tier fix goes to billing engineering on its second failure
        // ("after 2 failed retries"); everything else at once.
        const int watch = o.f.kind == finding_kind::tier_mismatch && o.disposition == store::disposition::failed ? 2 : 1;
        auto req = escalation_request_for(o.f, o.note, partial, result.window_start, watch);
        order.emplace_back(batch.size());
        batch.push_back(store::raise_input{std::move(req.input), req.watch_until});
    }
    if (!result.cap_reached.empty() && !cap_escalated_) {
        cap_escalated_ = true;
        const json::object evidence{{"cap", result.cap_reached},
                                    {"summary", "the run stopped applying corrections at " + result.cap_reached +
                                                    "; the rest were flagged: check the price map before raising the cap"}};
        order.emplace_back(batch.size());
        batch.push_back(store::raise_input{store::escalation_input{"billing_engineering", "blast_radius_cap",
                                                                     "run-" + std::to_string(result.run_id),
                                                                     json::serialize(evidence), 0, true},
                                             1});
    }
    const auto raised = raise_in_chunks(batch, result.run_id);
    for (const auto& slot : order) {
        if (const auto* written = std::get_if<const store::escalation*>(&slot)) count_and_report(result, **written);
        else count_and_report(result, raised[std::get<std::size_t>(slot)]);
    }
}

std::vector<store::escalation> escalator::raise_in_chunks(const std::vector<store::raise_input>& batch,
                                                          std::int64_t run_id) {
    std::vector<store::escalation> raised;
    raised.reserve(batch.size());
    for (std::size_t at = 0; at < batch.size(); at += escalations_per_transaction) {
        const auto end = std::min(batch.size(), at + escalations_per_transaction);
        auto part = db_.raise_all(std::vector<store::raise_input>(batch.begin() + at, batch.begin() + end), run_id);
        std::move(part.begin(), part.end(), std::back_inserter(raised));
    }
    return raised;
}

void escalator::resolve_absent(run_result& result, unix_seconds start, unix_seconds end,
                               const std::vector<finding_kind>& kinds) {
    std::vector<std::string> names;
    for (auto k : kinds)
        if (closer_of(k) == closer::in_window) names.emplace_back(to_string(k));
    result.escalations_resolved += db_.resolve_absent(result.run_id, start, end, names);
}

void escalator::resolve_rechecked_users(run_result& result, const std::vector<std::string>& emails) {
    // A balance that drifts from its events is the user's state, whatever the
    // window: any re-evaluation after it was seen decides it. Usage without
    // consumes (stuck, not decrementing) is the window's: only a window that
    // covers where it was seen does.
    result.escalations_resolved += db_.resolve_rechecked(result.run_id, {to_string(finding_kind::balance_drift)}, emails,
                                                         std::numeric_limits<unix_seconds>::min(), result.window_end);
    result.escalations_resolved += db_.resolve_rechecked(
        result.run_id,
        {to_string(finding_kind::negative_or_stuck_balance), to_string(finding_kind::credits_not_decrementing)}, emails,
        result.window_start, result.window_end);
}

}  // namespace reconciler::pipeline
