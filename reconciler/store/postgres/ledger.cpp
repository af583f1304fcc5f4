#include "store/postgres/ledger.hpp"

#include "core/checked.hpp"
#include "store/errors.hpp"
#include "store/ids.hpp"
#include "store/ledger_rules.hpp"
#include "store/postgres/escalations.hpp"
#include "store/postgres/pg_transaction.hpp"
#include "store/postgres/users.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <string_view>

namespace reconciler::store::postgres {

namespace json = boost::json;

namespace {

std::string pg_ledger_now() { return format_rfc3339(now_unix()); }

// What one apply() works on: the locked user and what it has written so far.
struct pg_apply_state {
    locked_user& u;
    const std::string& correlation_id;
    const std::string& now;
    apply_result& r;
    json::object& details;
};

// A correction's credit event of `delta` (kind "grant" or "revoke").
void pg_write_credits(session& s, const proposed_correction& c, std::int64_t delta, const char* kind,
                      pg_apply_state& st) {
    const std::int64_t before = st.u.m.ai_credits;
    st.r.balance_after = ledger_rules::balance_after(before, delta, kind, st.u.user.id);
    st.r.credit_event_id = random_credit_event_id();
    append_credit_event(s, st.u.user.id, st.u.m,
                        new_credit_event{st.r.credit_event_id, delta, kind, c.reason, c.source, st.correlation_id, st.now},
                        st.r.balance_after);
    ledger_rules::note_balance(st.details, before, st.r.balance_after);
}

void pg_record_payment(session& s, const local_payment& p, std::int64_t user_id, apply_result& r) {
    const auto res = s.run("INSERT INTO @payments@(@payments.stripe_invoice_id@, @payments.stripe_customer_id@,"
                           " @payments.user_id@, @payments.amount@, @payments.currency@, @payments.status@,"
                           " @payments.paid_at@) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                           " ON CONFLICT (@payments.stripe_invoice_id@) DO NOTHING",
                           params().add(p.invoice_id).add(p.customer_id).add(user_id).add(p.amount).add(p.currency)
                               .add(p.status).add(p.paid_at));
    r.payment_recorded = res.affected() > 0;
}

// Each kind's change to the user; false: nothing to write (r says why).
bool pg_revoke_credits(session& s, const proposed_correction& c, pg_apply_state& st) {
    const auto amount = ledger_rules::revoke_amount(c, st.u.user, st.r);
    if (!amount) return false;
    pg_write_credits(s, c, -*amount, "revoke", st);
    st.r.credits_applied = *amount;
    ledger_rules::note_unrecovered(st.details, c, *amount);
    return true;
}

bool pg_grant_credits(session& s, const proposed_correction& c, pg_apply_state& st) {
    if (!ledger_rules::grant_applies(c, st.u.user, st.r)) return false;
    pg_write_credits(s, c, c.credits, "grant", st);
    st.r.credits_applied = c.credits;
    if (c.record_payment) pg_record_payment(s, *c.record_payment, st.u.user.id, st.r);
    return true;
}

bool pg_set_tier(session& s, const proposed_correction& c, pg_apply_state& st) {
    if (!ledger_rules::tier_applies(c, st.u.user.plan, st.r)) return false;
    write_plan(s, st.u.user.id, c.tier_to);
    return true;
}

// The correction's ledger row; its id, or nullopt when (ledger_key, kind)
// is already there (a concurrent apply committed it first).
std::optional<std::int64_t> pg_insert_correction(session& s, const proposed_correction& c, std::int64_t run_id,
                                                 const pg_apply_state& st) {
    const apply_result& r = st.r;
    const bool tier = c.kind == correction_kind::set_tier;
    const std::int64_t delta = ledger_rules::ledger_delta(c, r);
    params p;
    p.add(c.ledger_key).add(reconciler::to_string(c.kind));
    if (run_id) p.add(run_id);
    else p.null();
    p.add(st.u.user.id).add(st.correlation_id).add(delta);
    if (tier) p.add(c.tier_from).add(c.tier_to);
    else p.null().null();
    if (r.credit_event_id.empty()) p.null();
    else p.add(r.credit_event_id);
    p.add(r.payment_recorded ? 1 : 0).add(json::serialize(st.details)).add(st.now);
    const auto res = s.run("INSERT INTO @schema@.recon_corrections(stripe_object, kind, run_id, user_id, correlation_id,"
                           " credits_delta, tier_before, tier_after, credit_event_id, payment_recorded, details,"
                           " applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json, $12)"
                           " ON CONFLICT (stripe_object, kind) DO NOTHING RETURNING id",
                           p);
    if (res.rows() == 0) return std::nullopt;
    return res.int64(0, 0);
}

}  // namespace

apply_result postgres_ledger::apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                                    const escalate_with& escalate) {
    const std::string what =
        std::string("apply ") + reconciler::to_string(c.kind) + " " + c.ledger_key + " to user " + std::to_string(c.user_id);
    return naming_errors(what, [&] { return apply_locked(c, run_id, correlation_id, escalate); });
}

apply_result postgres_ledger::existing_correction(const proposed_correction& c) {
    const auto q = s_.run("SELECT id, correlation_id, credit_event_id FROM @schema@.recon_corrections"
                          " WHERE stripe_object = $1 AND kind = $2",
                          params().add(c.ledger_key).add(reconciler::to_string(c.kind)));
    apply_result r;
    r.outcome = apply_outcome::already_applied;
    if (q.rows() > 0) {
        r.correction_id = q.int64(0, 0);
        r.correlation_id = q.text(0, 1);
        r.credit_event_id = q.text(0, 2);
    }
    return r;
}

apply_result postgres_ledger::apply_locked(const proposed_correction& c, std::int64_t run_id,
                                           const std::string& correlation_id, const escalate_with& escalate) {
    {
        transaction tx(s_.conn());
        // The user's row is locked from here to the commit: what we read is
        // what we change. Locked before the ledger is read, so a second apply
        // of the same correction waiting here then finds the first one's row.
        auto user = lock_user(s_, c.user_id);
        const auto seen = s_.run("SELECT 1 FROM @schema@.recon_corrections WHERE stripe_object = $1 AND kind = $2",
                                 params().add(c.ledger_key).add(reconciler::to_string(c.kind)));
        if (seen.rows() > 0) return existing_correction(c);  // tx rolls back: nothing written
        if (!user) throw store_error("user " + std::to_string(c.user_id) + " no longer exists");
        apply_result r;
        r.correlation_id = correlation_id;
        const std::string now = pg_ledger_now();
        json::object details;
        pg_apply_state st{*user, correlation_id, now, r, details};
        const bool changed = c.kind == correction_kind::revoke_credits  ? pg_revoke_credits(s_, c, st)
                             : c.kind == correction_kind::grant_credits ? pg_grant_credits(s_, c, st)
                                                                        : pg_set_tier(s_, c, st);
        if (!changed) return r;  // tx rolls back: nothing written
        ledger_rules::note_origin(details, c);
        if (const auto id = pg_insert_correction(s_, c, run_id, st)) {
            r.correction_id = *id;
            r.outcome = apply_outcome::applied;
            if (auto req = escalate ? escalate(r) : std::nullopt; req && req->only_existing)
                keep_for_person(s_, req->input.kind, req->input.subject, run_id);
            else if (req)
                r.escalation_raised = raise_in_transaction(s_, req->input, run_id, req->watch_until);
            tx.commit();
            return r;
        }
    }  // another apply of (ledger_key, kind) committed first: ours is rolled back
    return existing_correction(c);
}

revert_result postgres_ledger::revert(std::int64_t correction_id, const std::string& correlation_id) {
    const std::string what = "revert correction " + std::to_string(correction_id);
    transaction tx(s_.conn());
    const auto q = s_.run("SELECT kind, user_id, credits_delta, tier_before, tier_after, status, correlation_id"
                          " FROM @schema@.recon_corrections WHERE id = $1 FOR UPDATE",
                          params().add(correction_id));
    if (q.rows() == 0) throw store_error(what + ": no such correction");
    revert_result r;
    r.kind = q.text(0, 0);
    r.user_id = q.int64(0, 1);
    const std::int64_t delta = q.int64(0, 2);
    const std::string tier_before(q.text(0, 3)), tier_after(q.text(0, 4)), original(q.text(0, 6));
    if (q.text(0, 5) == "reverted") throw store_error(what + ": already reverted");
    r.correlation_id = correlation_id;

    auto u = lock_user(s_, r.user_id);
    if (!u) throw store_error(what + ": user " + std::to_string(r.user_id) + " no longer exists");
    if (r.kind == "set_tier") {
        if (u->user.plan != tier_after)
            throw store_error(what + ": the plan is now " + u->user.plan + ", not " + tier_after +
                              " as the correction left it; change it with `reconciler adjust` instead");
        write_plan(s_, r.user_id, tier_before);
        r.tier_from = tier_after;
        r.tier_to = tier_before;
    } else {
        // The ledger stores grants positive and revokes negative.
        r.credits_delta = -delta;
        const std::string reason = "revert of reconciler correction " + original;
        const std::string id = random_credit_event_id(), now = pg_ledger_now();
        append_credit_event(s_, r.user_id, u->m,
                            new_credit_event{id, r.credits_delta, "adjust", reason, original, correlation_id, now},
                            u->m.ai_credits + r.credits_delta);
    }
    s_.run("UPDATE @schema@.recon_corrections SET status = 'reverted', reverted_at = $1, revert_correlation_id = $2"
           " WHERE id = $3",
           params().add(pg_ledger_now()).add(correlation_id).add(correction_id));
    tx.commit();
    return r;
}

adjust_result postgres_ledger::adjust(const adjustment& a, const std::string& correlation_id) {
    transaction tx(s_.conn());
    auto u = lock_user(s_, a.user_id);
    if (!u) throw store_error("adjust user " + std::to_string(a.user_id) + ": no such user");
    metadata& m = u->m;
    adjust_result r;
    r.correlation_id = correlation_id;
    r.balance_before = r.balance_after = m.ai_credits;
    r.tier_before = r.tier_after = u->user.plan;
    const std::string now = pg_ledger_now();
    json::object details{{"reason", a.reason}};
    if (a.grant > 0 || a.consume > 0) {
        const std::int64_t delta = a.grant > 0 ? a.grant : -a.consume;
        if (m.ai_credits + delta < 0 && !a.force)
            throw adjust_refused("consuming " + std::to_string(a.consume) + " credits would take the balance from " +
                                 std::to_string(m.ai_credits) + " to " + std::to_string(m.ai_credits + delta) +
                                 " (below zero); pass --force if that is really intended");
        r.credit_event_id = random_credit_event_id();
        r.balance_after = m.ai_credits + delta;
        append_credit_event(s_, a.user_id, m,
                            new_credit_event{r.credit_event_id, delta, a.grant > 0 ? "grant" : "consume", a.reason,
                                             "support", correlation_id, now},
                            r.balance_after);
        details["delta"] = delta;
    }
    if (!a.set_tier.empty()) {
        write_plan(s_, a.user_id, a.set_tier);
        r.tier_after = a.set_tier;
    }
    // The ledger keeps support's changes too: one audit trail for every write.
    params p;
    p.add("support:" + correlation_id).add(a.user_id).add(correlation_id).add(r.balance_after - r.balance_before)
        .add(r.tier_before).add(r.tier_after);
    if (r.credit_event_id.empty()) p.null();
    else p.add(r.credit_event_id);
    p.add(json::serialize(details)).add(now);
    s_.run("INSERT INTO @schema@.recon_corrections(stripe_object, kind, user_id, correlation_id, credits_delta,"
           " tier_before, tier_after, credit_event_id, details, applied_at)"
           " VALUES ($1, 'support_adjust', $2, $3, $4, $5, $6, $7, $8::json, $9)",
           p);
    tx.commit();
    return r;
}

}  // namespace reconciler::store::postgres
