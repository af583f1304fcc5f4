#include "store/postgres/escalations.hpp"

#include "store/errors.hpp"
#include "store/escalation_rules.hpp"
#include "store/postgres/outbox.hpp"
#include "store/postgres/pg_transaction.hpp"

#include <algorithm>

namespace reconciler::store::postgres {

namespace {

// Unresolved: a run may still see it again, a person may still act on it.
constexpr const char* pg_unresolved = "status IN ('open','watching','acked')";

std::string pg_esc_now() { return format_rfc3339(now_unix()); }

// The record seen again (`sel`: id, occurrences, status, first_seen,
// last_run_id, person_closes); escalation_rules::seen_again says how it moves.
void pg_raise_again(session& s, const result& sel, const escalation_input& e, std::int64_t run_id, int watch_until,
                    const std::string& now, escalation& out) {
    const escalation_rules::stored old{sel.int64(0, 0), sel.int64(0, 1), std::string(sel.text(0, 2)),
                                       std::string(sel.text(0, 3)), sel.opt_int64(0, 4), sel.int64(0, 5) != 0};
    const auto change = escalation_rules::seen_again(old, e, run_id, watch_until, now, out);
    // Reopened: the last ack and resolve no longer hold.
    s.run("UPDATE @schema@.recon_escalations SET occurrences = $1, status = $2, last_seen = $3, last_run_id = $4,"
          " evidence = $5::json, team = $6, subject_at = $7, person_closes = $8, resolved_at = NULL, resolved_by = NULL,"
          " acked_by = CASE WHEN $2 = 'acked' THEN acked_by END, acked_at = CASE WHEN $2 = 'acked' THEN acked_at END"
          " WHERE id = $9",
          params().add(out.occurrences).add(out.status).add(now).add(run_id).add(e.evidence).add(e.team)
              .add(static_cast<std::int64_t>(e.subject_at)).add(out.person_closes ? 1 : 0).add(out.id));
    if (!change) return;
    const std::int64_t history = record_change(s, out.id, *change);
    // Opened or reopened (never a bump, a watch or an acked one): page its team.
    if (out.is_new) enqueue_triggers(s, out.id, e.team, history, now);
}

void pg_raise_first(session& s, const escalation_input& e, std::int64_t run_id, int watch_until, const std::string& now,
                    escalation& out) {
    const auto change = escalation_rules::first_seen(e, run_id, watch_until, now, out);
    out.id = s.run("INSERT INTO @schema@.recon_escalations(team, kind, subject, evidence, subject_at, first_seen,"
                   " last_seen, occurrences, status, first_run_id, last_run_id, person_closes)"
                   " VALUES ($1, $2, $3, $4::json, $5, $6, $6, 1, $7, $8, $8, $9) RETURNING id",
                   params().add(e.team).add(e.kind).add(e.subject).add(e.evidence)
                       .add(static_cast<std::int64_t>(e.subject_at)).add(now).add(out.status).add(run_id)
                       .add(e.person_closes ? 1 : 0))
                 .int64(0, 0);
    const std::int64_t history = record_change(s, out.id, change);
    if (out.is_new) enqueue_triggers(s, out.id, e.team, history, now);
}

// Resolves, with a history row each, the unresolved escalations `where`
// selects ($1 the time, $2 the run, the filter's parameters from $3 on), in
// one statement: the open escalations are never read into memory.
int pg_resolve_where(session& s, const std::string& where, params p) {
    const auto r = s.run(std::string("WITH sel AS (SELECT id, status FROM @schema@.recon_escalations WHERE ") +
                             pg_unresolved + " AND person_closes = 0 AND last_run_id IS DISTINCT FROM $2::bigint AND " +
                             where + " FOR UPDATE), hist AS (INSERT INTO @schema@.recon_escalation_history(escalation_id,"
                             " at, actor, action, from_status, to_status, note, run_id) SELECT id, $1, 'reconciler',"
                             " 'resolved', status, 'resolved', 're-checked by run ' || $2::bigint || ' and found clear',"
                             " $2::bigint FROM sel), outbox AS (" + enqueue_resolves_sql("sel") + ") UPDATE @schema@.recon_escalations e SET status = 'resolved',"
                             " resolved_at = $1, last_run_id = $2::bigint, resolved_by = 'reconciler' FROM sel"
                             " WHERE e.id = sel.id",
                         p);
    return static_cast<int>(r.affected());
}

}  // namespace

std::string escalation_columns(bool with_evidence) {
    return std::string("SELECT id, team, kind, subject, ") + (with_evidence ? "evidence::text" : "''") +
           ", first_seen, last_seen, occurrences, status, subject_at, person_closes, COALESCE(acked_by, ''),"
           " COALESCE(acked_at, ''), COALESCE(resolved_by, ''), COALESCE(resolved_at, '')"
           " FROM @schema@.recon_escalations ";
}

escalation read_escalation(const result& r, int i) {
    escalation e;
    e.id = r.int64(i, 0);
    e.team = r.text(i, 1);
    e.kind = r.text(i, 2);
    e.subject = r.text(i, 3);
    e.evidence = r.text(i, 4);
    e.first_seen = r.text(i, 5);
    e.last_seen = r.text(i, 6);
    e.occurrences = r.int64(i, 7);
    e.status = r.text(i, 8);
    e.subject_at = r.int64(i, 9);
    e.person_closes = r.int64(i, 10) != 0;
    e.acked_by = r.text(i, 11);
    e.acked_at = r.text(i, 12);
    e.resolved_by = r.text(i, 13);
    e.resolved_at = r.text(i, 14);
    return e;
}

std::int64_t record_change(session& s, std::int64_t escalation_id, const escalation_change& ch) {
    params p;
    p.add(escalation_id).add(ch.at).add(ch.actor).add(ch.action);
    if (ch.from_status.empty()) p.null();
    else p.add(ch.from_status);
    p.add(ch.to_status).add(ch.note);
    if (ch.run_id) p.add(ch.run_id);
    else p.null();
    return s.run("INSERT INTO @schema@.recon_escalation_history(escalation_id, at, actor, action, from_status, to_status,"
                 " note, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                 p)
        .int64(0, 0);
}

std::vector<escalation> select_open_escalations(session& s, const std::string& and_where, const params& p) {
    const auto r = s.run(escalation_columns(true) + "WHERE " + pg_unresolved + " " + and_where +
                             " ORDER BY first_seen COLLATE \"C\", id",
                         p);
    std::vector<escalation> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_escalation(r, i));
    return out;
}

escalation raise_in_transaction(session& s, const escalation_input& e, std::int64_t run_id, int watch_until) {
    const std::string now = pg_esc_now();
    escalation out;
    const auto sel = s.run("SELECT id, occurrences, status, first_seen, last_run_id, person_closes"
                           " FROM @schema@.recon_escalations WHERE kind = $1 AND subject = $2 FOR UPDATE",
                           params().add(e.kind).add(e.subject));
    if (sel.rows() > 0) pg_raise_again(s, sel, e, run_id, watch_until, now, out);
    else pg_raise_first(s, e, run_id, watch_until, now, out);
    escalation_rules::fill_from_input(e, now, out);
    return out;
}

void keep_for_person(session& s, const std::string& kind, const std::string& subject, std::int64_t run_id) {
    s.run(std::string("UPDATE @schema@.recon_escalations SET person_closes = 1, last_run_id = $1"
                      " WHERE kind = $2 AND subject = $3 AND ") + pg_unresolved,
          params().add(run_id).add(kind).add(subject));
}

escalation postgres_escalations::raise(const escalation_input& e, std::int64_t run_id, int watch_until) {
    transaction tx(s_.conn());
    auto out = raise_in_transaction(s_, e, run_id, watch_until);
    tx.commit();
    return out;
}

int postgres_escalations::resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                                         const std::vector<std::string>& kinds) {
    if (kinds.empty()) return 0;
    // subject_at 0 is never "in the window": nothing ties it to the range verified.
    return pg_resolve_where(s_, "subject_at <> 0 AND subject_at >= $3 AND subject_at < $4 AND kind = ANY($5::text[])",
                            params().add(pg_esc_now()).add(run_id).add(static_cast<std::int64_t>(start))
                                .add(static_cast<std::int64_t>(end)).add(text_array(kinds)));
}

int postgres_escalations::resolve_rechecked(std::int64_t run_id, const std::vector<std::string>& kinds,
                                            const std::vector<std::string>& subjects, unix_seconds start,
                                            unix_seconds end) {
    if (kinds.empty() || subjects.empty()) return 0;
    return pg_resolve_where(s_, "subject_at >= $3 AND subject_at < $4 AND kind = ANY($5::text[])"
                                " AND subject = ANY($6::text[])",
                            params().add(pg_esc_now()).add(run_id).add(static_cast<std::int64_t>(start))
                                .add(static_cast<std::int64_t>(end)).add(text_array(kinds)).add(text_array(subjects)));
}

std::vector<escalation> postgres_escalations::open_escalations() { return select_open_escalations(s_, "", {}); }

std::int64_t postgres_escalations::count_open_escalations() {
    return s_.run(std::string("SELECT COUNT(*) FROM @schema@.recon_escalations WHERE ") + pg_unresolved).int64(0, 0);
}

std::map<std::string, std::int64_t> postgres_escalations::count_open_escalations_by_team() {
    // The same rows as count_open_escalations (acked ones too: still unresolved).
    const auto r = s_.run(std::string("SELECT team, COUNT(*) FROM @schema@.recon_escalations WHERE ") + pg_unresolved +
                          " GROUP BY team");
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < r.rows(); ++i) out[std::string(r.text(i, 0))] = r.int64(i, 1);
    return out;
}

void postgres_escalations::each_open_escalation(const std::function<void(const escalation&)>& visit) {
    for (const auto& e : open_escalations()) visit(e);
}

void postgres_escalations::each_open_escalation_by_age(unix_seconds now,
                                                       const std::function<void(const escalation&)>& visit) {
    // Sorted here by escalation_age_days() itself, so the order is exactly
    // the age a report shows (PostgreSQL would parse first_seen its own way);
    // the rows are short: the evidence is left out.
    const auto r = s_.run(escalation_columns(false) + "WHERE " + pg_unresolved + " ORDER BY first_seen COLLATE \"C\", id");
    struct keyed {
        bool not_open;
        std::int64_t age;
        escalation e;
    };
    std::vector<keyed> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        auto e = read_escalation(r, i);
        rows.push_back(keyed{e.status != "open", escalation_age_days(e.first_seen, now), std::move(e)});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const keyed& a, const keyed& b) {
        return a.not_open != b.not_open ? !a.not_open : a.age > b.age;
    });
    for (const auto& k : rows) visit(k.e);
}

}  // namespace reconciler::store::postgres
