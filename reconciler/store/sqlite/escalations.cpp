#include "store/sqlite/escalations.hpp"

#include "store/errors.hpp"
#include "store/escalation_rules.hpp"
#include "store/sqlite/outbox.hpp"
#include "store/sqlite/sql.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

namespace reconciler::store::sqlite {

namespace json = boost::json;

namespace {

// Unresolved: a run may still see it again, a person may still act on it.
constexpr const char* unresolved = "status IN ('open','watching','acked')";

void each_open(connection& c, const std::function<void(const escalation&)>& visit) {
    SQLite::Statement q(c.db(), "SELECT " + escalation_columns(true) + " FROM recon_escalations WHERE " + unresolved +
                                    " ORDER BY first_seen, id");
    while (q.executeStep()) visit(read_escalation(q));
}

// The record seen again (escalation_rules::seen_again says how it moves).
void raise_again(connection& c, SQLite::Statement& sel, const escalation_input& e, std::int64_t run_id,
                 int watch_until, const std::string& now, escalation& out) {
    escalation_rules::stored old;
    old.id = sel.getColumn(0).getInt64();
    old.occurrences = sel.getColumn(1).getInt64();
    old.status = sel.getColumn(2).getString();
    old.first_seen = sel.getColumn(3).getString();
    if (!sel.getColumn(4).isNull()) old.last_run_id = sel.getColumn(4).getInt64();
    old.person_closes = sel.getColumn(5).getInt() != 0;
    sel.reset();
    const auto change = escalation_rules::seen_again(old, e, run_id, watch_until, now, out);
    // Reopened: the last ack and resolve no longer hold.
    auto up = c.cached("UPDATE recon_escalations SET occurrences = ?1, status = ?2, last_seen = ?3,"
                       " last_run_id = ?4, evidence = ?5, team = ?6, subject_at = ?7, person_closes = ?8,"
                       " resolved_at = NULL, resolved_by = NULL,"
                       " acked_by = CASE WHEN ?2 = 'acked' THEN acked_by END,"
                       " acked_at = CASE WHEN ?2 = 'acked' THEN acked_at END"
                       " WHERE id = ?9");
    up->bind(1, static_cast<std::int64_t>(out.occurrences));
    up->bind(2, out.status);
    up->bind(3, now);
    up->bind(4, static_cast<std::int64_t>(run_id));
    up->bind(5, e.evidence);
    up->bind(6, e.team);
    up->bind(7, static_cast<std::int64_t>(e.subject_at));
    up->bind(8, out.person_closes ? 1 : 0);
    up->bind(9, static_cast<std::int64_t>(out.id));
    up->exec();
    if (!change) return;
    const std::int64_t history = record_change(c, out.id, *change);
    // Opened or reopened (never a bump, a watch or an acked one): page its team.
    if (out.is_new) enqueue_triggers(c, out.id, e.team, history, now);
}

void raise_first(connection& c, const escalation_input& e, std::int64_t run_id, int watch_until,
                 const std::string& now, escalation& out) {
    const auto change = escalation_rules::first_seen(e, run_id, watch_until, now, out);
    auto ins = c.cached("INSERT INTO recon_escalations(team, kind, subject, evidence, subject_at,"
                        " first_seen, last_seen, occurrences, status, first_run_id, last_run_id, person_closes)"
                        " VALUES (?,?,?,?,?,?,?,1,?,?,?,?)");
    ins->bind(1, e.team);
    ins->bind(2, e.kind);
    ins->bind(3, e.subject);
    ins->bind(4, e.evidence);
    ins->bind(5, static_cast<std::int64_t>(e.subject_at));
    ins->bind(6, now);
    ins->bind(7, now);
    ins->bind(8, out.status);
    ins->bind(9, static_cast<std::int64_t>(run_id));
    ins->bind(10, static_cast<std::int64_t>(run_id));
    ins->bind(11, e.person_closes ? 1 : 0);
    ins->exec();
    out.id = c.db().getLastInsertRowid();
    const std::int64_t history = record_change(c, out.id, change);
    if (out.is_new) enqueue_triggers(c, out.id, e.team, history, now);
}

// Resolves, with a history row each, the unresolved escalations `where`
// selects (its parameters bound by `bind`, from ?3 on; ?1 is the time and
// ?2 the run). One pair of statements: the open escalations are never read
// into memory (a large account has tens of thousands, and a run resolves
// per slice).
int resolve_where(connection& c, const std::string& where, std::int64_t run_id,
                  const std::function<void(SQLite::Statement&)>& bind) {
    const std::string selected = std::string(" FROM recon_escalations WHERE ") + unresolved +
                                 " AND person_closes = 0 AND last_run_id IS NOT ?2 AND " + where;
    SQLite::Transaction tx(c.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const std::string now = now_text();
    auto hist = c.cached("INSERT INTO recon_escalation_history(escalation_id, at, actor, action, from_status,"
                         " to_status, note, run_id) SELECT id, ?1, 'reconciler', 'resolved', status, 'resolved',"
                         " 're-checked by run ' || ?2 || ' and found clear', ?2" + selected);
    auto up = c.cached("UPDATE recon_escalations SET status = 'resolved', resolved_at = ?1, last_run_id = ?2,"
                       " resolved_by = 'reconciler' WHERE id IN (SELECT id" + selected + ")");
    // Before the update: a resolve for each route that got a trigger.
    auto outbox = c.cached(enqueue_resolves_sql("SELECT id" + selected));
    for (auto* q : {&*hist, &*up, &*outbox}) {
        q->bind(1, now);
        q->bind(2, static_cast<std::int64_t>(run_id));
        bind(*q);
    }
    hist->exec();
    outbox->exec();
    const int n = up->exec();
    tx.commit();
    return n;
}

std::string json_list(const std::vector<std::string>& values) {
    json::array list;
    for (const auto& v : values) list.emplace_back(v);
    return json::serialize(list);
}

}  // namespace

std::string escalation_columns(bool with_evidence) {
    return std::string("id, team, kind, subject, ") + (with_evidence ? "evidence" : "'' AS evidence") +
           ", first_seen, last_seen, occurrences, status, subject_at, person_closes,"
           " COALESCE(acked_by, ''), COALESCE(acked_at, ''), COALESCE(resolved_by, ''), COALESCE(resolved_at, '')";
}

escalation read_escalation(SQLite::Statement& q) {
    escalation e;
    e.id = q.getColumn(0).getInt64();
    e.team = q.getColumn(1).getString();
    e.kind = q.getColumn(2).getString();
    e.subject = q.getColumn(3).getString();
    e.evidence = q.getColumn(4).getString();
    e.first_seen = q.getColumn(5).getString();
    e.last_seen = q.getColumn(6).getString();
    e.occurrences = q.getColumn(7).getInt64();
    e.status = q.getColumn(8).getString();
    e.subject_at = q.getColumn(9).getInt64();
    e.person_closes = q.getColumn(10).getInt() != 0;
    e.acked_by = q.getColumn(11).getString();
    e.acked_at = q.getColumn(12).getString();
    e.resolved_by = q.getColumn(13).getString();
    e.resolved_at = q.getColumn(14).getString();
    return e;
}

std::int64_t record_change(connection& c, std::int64_t escalation_id, const escalation_change& ch) {
    auto ins = c.cached("INSERT INTO recon_escalation_history(escalation_id, at, actor, action, from_status,"
                        " to_status, note, run_id) VALUES (?,?,?,?,?,?,?,?)");
    ins->bind(1, static_cast<std::int64_t>(escalation_id));
    ins->bind(2, ch.at);
    ins->bind(3, ch.actor);
    ins->bind(4, ch.action);
    if (ch.from_status.empty()) ins->bind(5);
    else ins->bind(5, ch.from_status);
    ins->bind(6, ch.to_status);
    ins->bind(7, ch.note);
    if (ch.run_id) ins->bind(8, static_cast<std::int64_t>(ch.run_id));
    else ins->bind(8);
    ins->exec();
    return c.db().getLastInsertRowid();
}

std::vector<escalation> open_escalations(connection& c) {
    std::vector<escalation> out;
    each_open(c, [&](const escalation& e) { out.push_back(e); });
    return out;
}

escalation raise_in_transaction(connection& c, const escalation_input& e, std::int64_t run_id, int watch_until) {
    const std::string now = now_text();
    escalation out;
    {
        auto sel = c.cached("SELECT id, occurrences, status, first_seen, last_run_id, person_closes"
                            " FROM recon_escalations WHERE kind = ? AND subject = ?");
        sel->bind(1, e.kind);
        sel->bind(2, e.subject);
        if (sel->executeStep()) raise_again(c, *sel, e, run_id, watch_until, now, out);
        else raise_first(c, e, run_id, watch_until, now, out);
    }
    escalation_rules::fill_from_input(e, now, out);
    return out;
}

void keep_for_person(connection& c, const std::string& kind, const std::string& subject, std::int64_t run_id) {
    auto up = c.cached(std::string("UPDATE recon_escalations SET person_closes = 1, last_run_id = ?1"
                                   " WHERE kind = ?2 AND subject = ?3 AND ") + unresolved);
    up->bind(1, static_cast<std::int64_t>(run_id));
    up->bind(2, kind);
    up->bind(3, subject);
    up->exec();
}

escalation sqlite_escalations::raise(const escalation_input& e, std::int64_t run_id, int watch_until) {
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    auto out = raise_in_transaction(c_, e, run_id, watch_until);
    tx.commit();
    return out;
}

std::vector<escalation> sqlite_escalations::raise_all(const std::vector<raise_input>& requests, std::int64_t run_id) {
    std::vector<escalation> out;
    if (requests.empty()) return out;
    out.reserve(requests.size());
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& r : requests) out.push_back(raise_in_transaction(c_, r.input, run_id, r.watch_until));
    tx.commit();
    return out;
}

int sqlite_escalations::resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                                       const std::vector<std::string>& kinds) {
    if (kinds.empty()) return 0;
    // subject_at 0 is never "in the window": nothing ties it to the range verified.
    return resolve_where(c_, "subject_at <> 0 AND subject_at >= ?3 AND subject_at < ?4"
                             " AND kind IN (SELECT value FROM json_each(?5))",
                         run_id, [&](SQLite::Statement& q) {
                             q.bind(3, static_cast<std::int64_t>(start));
                             q.bind(4, static_cast<std::int64_t>(end));
                             q.bind(5, json_list(kinds));
                         });
}

int sqlite_escalations::resolve_rechecked(std::int64_t run_id, const std::vector<std::string>& kinds,
                                          const std::vector<std::string>& subjects, unix_seconds start,
                                          unix_seconds end) {
    if (kinds.empty() || subjects.empty()) return 0;
    return resolve_where(c_, "subject_at >= ?3 AND subject_at < ?4 AND kind IN (SELECT value FROM json_each(?5))"
                             " AND subject IN (SELECT value FROM json_each(?6))",
                         run_id, [&](SQLite::Statement& q) {
                             q.bind(3, static_cast<std::int64_t>(start));
                             q.bind(4, static_cast<std::int64_t>(end));
                             q.bind(5, json_list(kinds));
                             q.bind(6, json_list(subjects));
                         });
}

std::vector<escalation> sqlite_escalations::open_escalations() { return sqlite::open_escalations(c_); }

std::int64_t sqlite_escalations::count_open_escalations() {
    return c_.db().execAndGet(std::string("SELECT COUNT(*) FROM recon_escalations WHERE ") + unresolved).getInt64();
}

std::map<std::string, std::int64_t> sqlite_escalations::count_open_escalations_by_team() {
    std::map<std::string, std::int64_t> out;
    // The same rows as count_open_escalations (acked ones too: still unresolved).
    SQLite::Statement q(c_.db(), std::string("SELECT team, COUNT(*) FROM recon_escalations WHERE ") + unresolved +
                                     " GROUP BY team");
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return out;
}

void sqlite_escalations::each_open_escalation(const std::function<void(const escalation&)>& visit) {
    each_open(c_, visit);
}

void sqlite_escalations::each_open_escalation_by_age(unix_seconds now,
                                                     const std::function<void(const escalation&)>& visit) {
    // escalation_age_days() in SQL: SQLite sorts by exactly the age a report shows.
    const auto age_days = [](sqlite3_context* ctx, int, sqlite3_value** argv) {
        try {
            const auto* first_seen = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
            sqlite3_result_int64(ctx,
                                 escalation_age_days(first_seen != nullptr ? first_seen : "", sqlite3_value_int64(argv[1])));
        } catch (const std::exception&) {
            sqlite3_result_error_nomem(ctx);
        }
    };
    sqlite3* handle = c_.db().getHandle();
    if (sqlite3_create_function_v2(handle, "recon_age_days", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                   +age_days, nullptr, nullptr, nullptr) != SQLITE_OK)
        throw store_error(std::string("list open escalations: ") + sqlite3_errmsg(handle));
    // The evidence is left empty: a listing shows none, and the sort then holds short rows.
    SQLite::Statement q(c_.db(), "SELECT " + escalation_columns(false) + " FROM recon_escalations WHERE " + unresolved +
                                     " ORDER BY status <> 'open', recon_age_days(first_seen, ?1) DESC, first_seen, id");
    q.bind(1, static_cast<std::int64_t>(now));
    while (q.executeStep()) visit(read_escalation(q));
}

}  // namespace reconciler::store::sqlite
