#include "pipeline/corrector.hpp"

#include "core/entitlement_change.hpp"
#include "core/json_log.hpp"
#include "pipeline/test_hooks.hpp"

#include <map>
#include <optional>
#include <thread>

namespace reconciler::pipeline {

namespace json = boost::json;

namespace {

entitlement_change change_of(const finding& f, const proposed_correction& c, const store::apply_result& r,
                             std::int64_t run_id) {
    entitlement_change line;
    line.correlation_id = r.correlation_id;
    line.user_id = c.user_id;
    line.email = f.user_email;
    line.finding = std::string(to_string(f.kind));
    line.run_id = run_id;
    line.actor = "stripe-reconciler";
    json::object stripe_ids{{"customer", f.customer_id}};
    if (c.kind == correction_kind::set_tier) {
        // The same action name the app logs for webhook-driven tier changes,
        // so the runbook's log search finds both.
        line.action = "subscription_updated";
        line.change["plan"] = json::object{{"from", c.tier_from}, {"to", c.tier_to}};
        stripe_ids["subscription"] = f.subject_id;
        stripe_ids["event"] = c.source;
    } else {
        const bool grant = c.kind == correction_kind::grant_credits;
        line.action = grant ? "credits_granted" : "credits_revoked";
        line.change["ai_credits"] =
            json::object{{"delta", grant ? r.credits_applied : -r.credits_applied}, {"after", r.balance_after}};
        line.change["credit_event_id"] = r.credit_event_id;
        if (grant) {
            line.change["payment_recorded"] = r.payment_recorded;
            stripe_ids["invoice"] = f.subject_id;
        } else {
            stripe_ids["charge"] = f.subject_id;
        }
    }
    if (const auto* rid = f.evidence.if_contains("stripe_request_id")) stripe_ids["request_id"] = *rid;
    line.stripe = std::move(stripe_ids);
    return line;
}

// The Stripe event a `replay` re-delivers ("" when none carries the state,
// e.g. a tier read from the subscription list).
std::string replay_event_of(const finding& f) {
    if (f.kind == finding_kind::tier_mismatch) return f.correction->source;
    const auto* ev = f.evidence.if_contains("invoice_paid_event");
    return ev && ev->is_string() ? std::string(ev->as_string()) : std::string{};
}

// "N credits were already spent ..." when a clawback took back less than
// the refund's credits; "" when it took back everything.
std::string unrecovered_note(const proposed_correction& c, const store::apply_result& r) {
    if (c.kind != correction_kind::revoke_credits || (c.unrecovered == 0 && r.credits_applied >= c.credits)) return {};
    return std::to_string(c.unrecovered + c.credits - r.credits_applied) +
           " credits were already spent and could not be taken back";
}

// The paid_without_entitlement_change findings of a batch, by invoice: each
// is escalated with the grant of its invoice.
std::map<std::string, const finding*> webhook_path_findings(const std::vector<finding>& findings) {
    std::map<std::string, const finding*> out;
    for (const auto& f : findings)
        if (f.kind == finding_kind::paid_without_entitlement_change) out.emplace(f.subject_id, &f);
    return out;
}

}  // namespace

corrector::corrector(const config& cfg, store::store& db, bool dry_run,
                     std::function<void(const json::object&)> on_change, replayer replay)
    : cfg_(cfg), db_(db), dry_run_(dry_run), on_change_(std::move(on_change)), replay_(std::move(replay)),
      guard_(cfg.limits) {}

// Whether the config lets the run apply this kind of correction by itself.
bool corrector::policy_allows(const finding& f) const {
    switch (f.kind) {
    case finding_kind::credits_not_granted: return cfg_.corrections.grant_missing_credits;
    case finding_kind::tier_mismatch: return cfg_.corrections.fix_tiers;
    case finding_kind::refund_or_dispute: return cfg_.corrections.clawback_refunds;
    default: return false;
    }
}

// Corrections policy `replay`: this finding's fix goes through the app's webhook handler.
bool corrector::wants_replay(const finding& f) const {
    return (f.kind == finding_kind::credits_not_granted && cfg_.corrections.replay_missing_credits) ||
           (f.kind == finding_kind::tier_mismatch && cfg_.corrections.replay_tiers);
}

void corrector::apply(std::vector<finding> findings, run_result& result) {
    const auto pause = apply_pause();
    const std::size_t first = result.outcomes.size();
    std::string cap_hit;
    const auto webhook_path = webhook_path_findings(findings);
    for (auto& f : findings) {
        finding_outcome o;
        if (!f.correction) {
            o.note = "no safe correction: flagged for " + std::string(to_string(f.owner));
        } else if (dry_run_) {
            o.note = "dry run: not applied";
        } else if (!policy_allows(f)) {
            o.note = "policy: corrections." + std::string(to_string(f.kind)) + " is flag";
        } else if (auto cap = guard_.check(*f.correction); !cap.empty()) {
            o.note = "not applied: " + cap + " reached";
            if (cap_hit.empty() && cap.rfind("limits.", 0) == 0) cap_hit = cap;
            if (cap != "limits.max_credits_per_user") guard_.trip();
        } else if (wants_replay(f)) {
            replay_fix(f, o);
        } else {
            const auto w = f.kind == finding_kind::credits_not_granted ? webhook_path.find(f.subject_id)
                                                                       : webhook_path.end();
            apply_one(f, w == webhook_path.end() ? nullptr : w->second, result, o);
            if (pause.count() > 0) std::this_thread::sleep_for(pause);
        }
        o.f = std::move(f);
        result.outcomes.push_back(std::move(o));
    }
    // Recorded together once the part's corrections are in (each correction
    // commits with its ledger row on its own): one commit for the part's
    // findings instead of one each. Killed before it, the run's checkpoint
    // has not passed the part either, and the rerun records them.
    std::vector<store::run_log::finding_row> rows;
    rows.reserve(result.outcomes.size() - first);
    for (std::size_t i = first; i < result.outcomes.size(); ++i) {
        const auto& o = result.outcomes[i];
        rows.push_back({&o.f, o.disposition, o.correction_id});
    }
    db_.record_findings(result.run_id, rows);
    if (!cap_hit.empty() && result.cap_reached.empty()) {
        result.cap_reached = cap_hit;
        log::warn("blast_radius_cap", {{"run_id", result.run_id}, {"cap", cap_hit}});
    }
}

// `webhook_path`: the paid_without_entitlement_change of f's invoice, if any.
void corrector::apply_one(finding& f, const finding* webhook_path, run_result& result, finding_outcome& o) {
    const auto& c = *f.correction;
    // Asked inside the correction's transaction: what it escalates with it.
    const auto escalate = [&](const store::apply_result& r) {
        if (webhook_path)
            return escalation_request_for(*webhook_path,
                                          "the reconciler granted the credits (correlation id " + r.correlation_id +
                                              "); the webhook path is still broken",
                                          true, result.window_start);
        if (const auto note = unrecovered_note(c, r); !note.empty())
            return escalation_request_for(f, note, true, result.window_start);
        auto keep = escalation_request_for(f, "", false, result.window_start);
        keep.only_existing = true;
        return keep;
    };
    try {
        auto r = db_.apply(c, result.run_id, store::random_correlation_id(),
                           [&](const store::apply_result& r) { return std::optional(escalate(r)); });
        if (r.escalation_raised) raised_.emplace(store::escalation_key(*r.escalation_raised), *r.escalation_raised);
        o.correction_id = r.correction_id;
        o.correlation_id = r.correlation_id;
        switch (r.outcome) {
        case store::apply_outcome::applied:
            o.disposition = store::disposition::applied;
            guard_.count(c, r.credits_applied);
            on_change_(log_entitlement_change(change_of(f, c, r, result.run_id)));
            o.note = unrecovered_note(c, r);
            break;
        case store::apply_outcome::already_applied:
            o.disposition = store::disposition::already_applied;
            o.note = "applied earlier (correlation id " + r.correlation_id + ")";
            break;
        case store::apply_outcome::superseded:
            o.disposition = store::disposition::superseded;
            o.note = r.detail;
            break;
        case store::apply_outcome::conflict:
            o.disposition = store::disposition::failed;
            o.note = r.detail;
            break;
        }
    } catch (const store::connection_lost&) {
        throw;  // not this correction's failure: the run stops (rolled back, applied by the rerun)
    } catch (const store::store_error& e) {
        o.disposition = store::disposition::failed;
        o.note = log::redact(e.what());
        log::error("correction_failed", {{"finding", to_string(f.kind)}, {"subject", f.subject_id}, {"error", o.note}});
    }
}

void corrector::replay_fix(finding& f, finding_outcome& o) {
    const std::string event_id = replay_event_of(f);
    if (event_id.empty()) {
        o.note = "policy replay: no Stripe event carries this state (past the 30-day event retention): flagged";
        return;
    }
    try {
        const replay_result r = replay_(event_id);
        if (r.succeeded()) {
            o.disposition = store::disposition::replayed;
            o.note = "replayed " + event_id + " to " + r.url_for_log + ": the app answered " + std::to_string(r.status);
            guard_.count(*f.correction, credits_moved(*f.correction));
        } else {
            o.disposition = store::disposition::failed;
            o.note = "replay of " + event_id + " to " + r.url_for_log + " failed (attempt " + std::to_string(r.attempt) +
                     "): " + (r.delivered ? "the app answered " + std::to_string(r.status) : r.error);
        }
    } catch (const store::connection_lost&) {
        throw;
    } catch (const std::exception& e) {
        o.disposition = store::disposition::failed;
        o.note = log::redact(e.what());
    }
}

}  // namespace reconciler::pipeline
