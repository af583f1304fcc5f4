#include "store/sqlite/ledger.hpp"

#include "store/errors.hpp"
#include "store/ids.hpp"
#include "store/ledger_rules.hpp"
#include "store/sqlite/escalations.hpp"
#include "store/sqlite/sql.hpp"
#include "store/sqlite/users.hpp"
#include "core/checked.hpp"

#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <optional>
#include <string_view>

namespace reconciler::store::sqlite {

namespace json = boost::json;

namespace {

// The plan and plan_metadata of a user, read in the caller's transaction.
struct user_state {
    std::string plan;
    metadata m;
};

std::optional<user_state> read_user_state(connection& c, std::int64_t user_id) {
    auto uq = c.cached(c.sql(std::string(user_columns) + "WHERE @users.id@ = ?"));
    uq->bind(1, static_cast<std::int64_t>(user_id));
    if (!uq->executeStep()) return std::nullopt;
    return user_state{uq->getColumn(2).getString(), parse_metadata(uq->getColumn(4).getString(), user_id)};
}

// A correction's credit event of `delta` (kind "grant" or "revoke") appended
// to the user's plan_metadata; r gets its id and the balance after it.
void write_credits(connection& cn, const proposed_correction& c, const local_user& user,
                   const std::string& metadata_text, std::int64_t delta, const char* kind,
                   const std::string& correlation_id, const std::string& now, apply_result& r, json::object& details) {
    auto m = parse_metadata(metadata_text, user.id);
    r.balance_after = ledger_rules::balance_after(m.ai_credits, delta, kind, user.id);
    r.credit_event_id = random_credit_event_id();
    add_credit_event(m, new_credit_event{r.credit_event_id, delta, kind, c.reason, c.source, correlation_id, now},
                     r.balance_after);
    write_metadata(cn, user.id, m);
    ledger_rules::note_balance(details, m.ai_credits, r.balance_after);
}

void record_payment(connection& cn, const local_payment& p, std::int64_t user_id, apply_result& r) {
    auto ins = cn.cached(cn.sql("INSERT INTO @payments@(@payments.stripe_invoice_id@, @payments.stripe_customer_id@,"
                                " @payments.user_id@, @payments.amount@, @payments.currency@, @payments.status@,"
                                " @payments.paid_at@) VALUES (?,?,?,?,?,?,?)"
                                " ON CONFLICT(@payments.stripe_invoice_id@) DO NOTHING"));
    ins->bind(1, p.invoice_id);
    ins->bind(2, p.customer_id);
    ins->bind(3, static_cast<std::int64_t>(user_id));
    ins->bind(4, static_cast<std::int64_t>(p.amount));
    ins->bind(5, p.currency);
    ins->bind(6, p.status);
    ins->bind(7, p.paid_at);
    r.payment_recorded = ins->exec() > 0;
}

// Each kind's change to the user; false: nothing to write (r says why).
bool revoke_credits(connection& cn, const proposed_correction& c, const local_user& user, const std::string& metadata_text,
                    const std::string& correlation_id, const std::string& now, apply_result& r, json::object& details) {
    const auto amount = ledger_rules::revoke_amount(c, user, r);
    if (!amount) return false;
    write_credits(cn, c, user, metadata_text, -*amount, "revoke", correlation_id, now, r, details);
    r.credits_applied = *amount;
    ledger_rules::note_unrecovered(details, c, *amount);
    return true;
}

bool grant_credits(connection& cn, const proposed_correction& c, const local_user& user, const std::string& metadata_text,
                   const std::string& correlation_id, const std::string& now, apply_result& r, json::object& details) {
    if (!ledger_rules::grant_applies(c, user, r)) return false;
    write_credits(cn, c, user, metadata_text, c.credits, "grant", correlation_id, now, r, details);
    r.credits_applied = c.credits;
    if (c.record_payment) record_payment(cn, *c.record_payment, user.id, r);
    return true;
}

bool set_tier(connection& cn, const proposed_correction& c, const local_user& user, apply_result& r) {
    if (!ledger_rules::tier_applies(c, user.plan, r)) return false;
    write_plan(cn, user.id, c.tier_to);
    return true;
}

// The correction's ledger row; returns its id.
std::int64_t insert_correction(connection& cn, const proposed_correction& c, std::int64_t run_id, std::int64_t user_id,
                               const std::string& correlation_id, const apply_result& r, const json::object& details,
                               const std::string& now) {
    auto led = cn.cached("INSERT INTO recon_corrections(stripe_object, kind, run_id, user_id, correlation_id,"
                         " credits_delta, tier_before, tier_after, credit_event_id, payment_recorded, details,"
                         " applied_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    led->bind(1, c.ledger_key);
    led->bind(2, reconciler::to_string(c.kind));
    if (run_id) led->bind(3, static_cast<std::int64_t>(run_id));
    else led->bind(3);
    led->bind(4, static_cast<std::int64_t>(user_id));
    led->bind(5, correlation_id);
    led->bind(6, static_cast<std::int64_t>(ledger_rules::ledger_delta(c, r)));
    if (c.kind == correction_kind::set_tier) {
        led->bind(7, c.tier_from);
        led->bind(8, c.tier_to);
    } else {
        led->bind(7);
        led->bind(8);
    }
    if (r.credit_event_id.empty()) led->bind(9);
    else led->bind(9, r.credit_event_id);
    led->bind(10, r.payment_recorded ? 1 : 0);
    led->bind(11, json::serialize(details));
    led->bind(12, now);
    led->exec();
    return cn.db().getLastInsertRowid();
}

}  // namespace

apply_result sqlite_ledger::apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                                  const escalate_with& escalate) {
    const std::string what =
        std::string("apply ") + reconciler::to_string(c.kind) + " " + c.ledger_key + " to user " + std::to_string(c.user_id);
    return naming_errors(what, [&] { return apply_locked(c, run_id, correlation_id, escalate); });
}

apply_result sqlite_ledger::existing_correction(const proposed_correction& c) {
    auto q = c_.cached("SELECT id, correlation_id, credit_event_id FROM recon_corrections WHERE stripe_object = ? AND kind = ?");
    q->bind(1, c.ledger_key);
    q->bind(2, reconciler::to_string(c.kind));
    apply_result r;
    r.outcome = apply_outcome::already_applied;
    if (q->executeStep()) {
        r.correction_id = q->getColumn(0).getInt64();
        r.correlation_id = q->getColumn(1).getString();
        r.credit_event_id = q->getColumn(2).isNull() ? std::string{} : q->getColumn(2).getString();
    }
    return r;
}

apply_result sqlite_ledger::apply_locked(const proposed_correction& c, std::int64_t run_id,
                                         const std::string& correlation_id, const escalate_with& escalate) {
    // IMMEDIATE: take the write lock before reading, so the app cannot
    // change the row between our read and our write.
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    {
        auto q = c_.cached("SELECT 1 FROM recon_corrections WHERE stripe_object = ? AND kind = ?");
        q->bind(1, c.ledger_key);
        q->bind(2, reconciler::to_string(c.kind));
        if (q->executeStep()) return existing_correction(c);  // tx rolls back: nothing written
    }
    auto uq = c_.cached(c_.sql(std::string(user_columns) + "WHERE @users.id@ = ?"));
    uq->bind(1, static_cast<std::int64_t>(c.user_id));
    if (!uq->executeStep()) throw store_error("user " + std::to_string(c.user_id) + " no longer exists");
    const std::string metadata_text = uq->getColumn(4).getString();
    const local_user user = read_user(*uq);
    uq->reset();

    apply_result r;
    r.correlation_id = correlation_id;
    const std::string now = now_text();
    json::object details;
    const bool changed =
        c.kind == correction_kind::revoke_credits  ? revoke_credits(c_, c, user, metadata_text, correlation_id, now, r, details)
        : c.kind == correction_kind::grant_credits ? grant_credits(c_, c, user, metadata_text, correlation_id, now, r, details)
                                                   : set_tier(c_, c, user, r);
    if (!changed) return r;  // tx rolls back: nothing written
    ledger_rules::note_origin(details, c);
    r.correction_id = insert_correction(c_, c, run_id, user.id, correlation_id, r, details, now);
    r.outcome = apply_outcome::applied;
    if (auto req = escalate ? escalate(r) : std::nullopt; req && req->only_existing)
        keep_for_person(c_, req->input.kind, req->input.subject, run_id);
    else if (req)
        r.escalation_raised = raise_in_transaction(c_, req->input, run_id, req->watch_until);
    tx.commit();
    return r;
}

revert_result sqlite_ledger::revert(std::int64_t correction_id, const std::string& correlation_id) {
    const std::string what = "revert correction " + std::to_string(correction_id);
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(c_.db(), "SELECT kind, user_id, credits_delta, tier_before, tier_after, status, correlation_id"
                                 " FROM recon_corrections WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(correction_id));
    if (!q.executeStep()) throw store_error(what + ": no such correction");
    revert_result r;
    r.kind = q.getColumn(0).getString();
    r.user_id = q.getColumn(1).getInt64();
    const std::int64_t delta = q.getColumn(2).getInt64();
    const std::string tier_before = q.getColumn(3).isNull() ? "" : q.getColumn(3).getString();
    const std::string tier_after = q.getColumn(4).isNull() ? "" : q.getColumn(4).getString();
    if (q.getColumn(5).getString() == "reverted") throw store_error(what + ": already reverted");
    const std::string original = q.getColumn(6).getString();
    q.reset();
    r.correlation_id = correlation_id;

    auto u = read_user_state(c_, r.user_id);
    if (!u) throw store_error(what + ": user " + std::to_string(r.user_id) + " no longer exists");
    if (r.kind == "set_tier") {
        if (u->plan != tier_after)
            throw store_error(what + ": the plan is now " + u->plan + ", not " + tier_after +
                              " as the correction left it; change it with `reconciler adjust` instead");
        write_plan(c_, r.user_id, tier_before);
        r.tier_from = tier_after;
        r.tier_to = tier_before;
    } else {
        // The ledger stores grants positive and revokes negative.
        r.credits_delta = -delta;
        const std::string reason = "revert of reconciler correction " + original;
        add_credit_event(u->m,
                         new_credit_event{random_credit_event_id(), r.credits_delta, "adjust", reason, original,
                                          correlation_id, now_text()},
                         u->m.ai_credits + r.credits_delta);
        write_metadata(c_, r.user_id, u->m);
    }
    SQLite::Statement led(c_.db(), "UPDATE recon_corrections SET status = 'reverted', reverted_at = ?,"
                                   " revert_correlation_id = ? WHERE id = ?");
    led.bind(1, now_text());
    led.bind(2, correlation_id);
    led.bind(3, static_cast<std::int64_t>(correction_id));
    led.exec();
    tx.commit();
    return r;
}

adjust_result sqlite_ledger::adjust(const adjustment& a, const std::string& correlation_id) {
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    auto u = read_user_state(c_, a.user_id);
    if (!u) throw store_error("adjust user " + std::to_string(a.user_id) + ": no such user");
    metadata& m = u->m;
    adjust_result r;
    r.correlation_id = correlation_id;
    r.balance_before = r.balance_after = m.ai_credits;
    r.tier_before = r.tier_after = u->plan;
    const std::string now = now_text();
    json::object details{{"reason", a.reason}};
    if (a.grant > 0 || a.consume > 0) {
        const std::int64_t delta = a.grant > 0 ? a.grant : -a.consume;
        if (m.ai_credits + delta < 0 && !a.force)
            throw adjust_refused("consuming " + std::to_string(a.consume) + " credits would take the balance from " +
                                 std::to_string(m.ai_credits) + " to " + std::to_string(m.ai_credits + delta) +
                                 " (below zero); pass --force if that is really intended");
        r.credit_event_id = random_credit_event_id();
        r.balance_after = m.ai_credits + delta;
        add_credit_event(m,
                         new_credit_event{r.credit_event_id, delta, a.grant > 0 ? "grant" : "consume", a.reason,
                                          "support", correlation_id, now},
                         r.balance_after);
        write_metadata(c_, a.user_id, m);
        details["delta"] = delta;
    }
    if (!a.set_tier.empty()) {
        write_plan(c_, a.user_id, a.set_tier);
        r.tier_after = a.set_tier;
    }
    // The ledger keeps support's changes too: one audit trail for every write.
    SQLite::Statement led(c_.db(), "INSERT INTO recon_corrections(stripe_object, kind, user_id, correlation_id,"
                                   " credits_delta, tier_before, tier_after, credit_event_id, details, applied_at)"
                                   " VALUES (?, 'support_adjust', ?, ?, ?, ?, ?, ?, ?, ?)");
    led.bind(1, "support:" + correlation_id);
    led.bind(2, static_cast<std::int64_t>(a.user_id));
    led.bind(3, correlation_id);
    led.bind(4, static_cast<std::int64_t>(r.balance_after - r.balance_before));
    led.bind(5, r.tier_before);
    led.bind(6, r.tier_after);
    if (r.credit_event_id.empty()) led.bind(7);
    else led.bind(7, r.credit_event_id);
    led.bind(8, json::serialize(details));
    led.bind(9, now);
    led.exec();
    tx.commit();
    return r;
}

}  // namespace reconciler::store::sqlite
