#include "store/sqlite/escalations.hpp"

#include "store/errors.hpp"
#include "store/sqlite/sql.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

namespace reconciler::store::sqlite {

namespace json = boost::json;

namespace {

// The columns read_escalation() reads, in its order; a listing that shows no
// evidence selects an empty one in its place.
constexpr const char* escalation_columns =
    "id, team, kind, subject, evidence, first_seen, last_seen, occurrences, status, subject_at";
constexpr const char* escalation_columns_without_evidence =
    "id, team, kind, subject, '' AS evidence, first_seen, last_seen, occurrences, status, subject_at";

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
    return e;
}

void each_open(connection& c, const std::function<void(const escalation&)>& visit) {
    SQLite::Statement q(c.db(), std::string("SELECT ") + escalation_columns +
                                    " FROM recon_escalations WHERE status IN ('open','watching') ORDER BY first_seen, id");
    while (q.executeStep()) visit(read_escalation(q));
}

// The record seen again: occurrences + 1, reopened when it reaches `watch_until`.
void raise_again(connection& c, SQLite::Statement& sel, const escalation_input& e, std::int64_t run_id,
                 int watch_until, const std::string& now, escalation& out) {
    out.id = sel.getColumn(0).getInt64();
    out.occurrences = sel.getColumn(1).getInt64() + 1;
    const std::string old_status = sel.getColumn(2).getString();
    out.first_seen = sel.getColumn(3).getString();
    out.status = out.occurrences >= watch_until ? "open" : "watching";
    out.is_new = out.status == "open" && old_status != "open";
    sel.reset();
    auto up = c.cached("UPDATE recon_escalations SET occurrences = ?, status = ?, last_seen = ?,"
                       " last_run_id = ?, evidence = ?, team = ?, subject_at = ?, resolved_at = NULL"
                       " WHERE id = ?");
    up->bind(1, static_cast<std::int64_t>(out.occurrences));
    up->bind(2, out.status);
    up->bind(3, now);
    up->bind(4, static_cast<std::int64_t>(run_id));
    up->bind(5, e.evidence);
    up->bind(6, e.team);
    up->bind(7, static_cast<std::int64_t>(e.subject_at));
    up->bind(8, static_cast<std::int64_t>(out.id));
    up->exec();
}

void raise_first(connection& c, const escalation_input& e, std::int64_t run_id, int watch_until,
                 const std::string& now, escalation& out) {
    out.occurrences = 1;
    out.first_seen = now;
    out.status = watch_until <= 1 ? "open" : "watching";
    out.is_new = out.status == "open";
    auto ins = c.cached("INSERT INTO recon_escalations(team, kind, subject, evidence, subject_at,"
                        " first_seen, last_seen, occurrences, status, first_run_id, last_run_id)"
                        " VALUES (?,?,?,?,?,?,?,1,?,?,?)");
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
    ins->exec();
    out.id = c.db().getLastInsertRowid();
}

}  // namespace

std::vector<escalation> open_escalations(connection& c) {
    std::vector<escalation> out;
    each_open(c, [&](const escalation& e) { out.push_back(e); });
    return out;
}

escalation sqlite_escalations::raise(const escalation_input& e, std::int64_t run_id, int watch_until) {
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const std::string now = now_text();
    escalation out;
    {
        auto sel = c_.cached("SELECT id, occurrences, status, first_seen FROM recon_escalations"
                             " WHERE kind = ? AND subject = ?");
        sel->bind(1, e.kind);
        sel->bind(2, e.subject);
        if (sel->executeStep()) raise_again(c_, *sel, e, run_id, watch_until, now, out);
        else raise_first(c_, e, run_id, watch_until, now, out);
    }
    tx.commit();
    out.team = e.team;
    out.kind = e.kind;
    out.subject = e.subject;
    out.evidence = e.evidence;
    out.last_seen = now;
    out.subject_at = e.subject_at;
    return out;
}

int sqlite_escalations::resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                                       const std::vector<std::string>& kinds) {
    if (kinds.empty()) return 0;
    // One statement: the open escalations are never read into memory (a
    // large account has tens of thousands, and a run resolves per slice).
    auto up = c_.cached("UPDATE recon_escalations SET status = 'resolved', resolved_at = ?1, last_run_id = ?2"
                        " WHERE status IN ('open','watching') AND last_run_id IS NOT ?2"
                        " AND (subject_at = 0 OR (subject_at >= ?3 AND subject_at < ?4))"
                        " AND kind IN (SELECT value FROM json_each(?5))");
    json::array kind_list;
    for (const auto& k : kinds) kind_list.emplace_back(k);
    up->bind(1, now_text());
    up->bind(2, static_cast<std::int64_t>(run_id));
    up->bind(3, static_cast<std::int64_t>(start));
    up->bind(4, static_cast<std::int64_t>(end));
    up->bind(5, json::serialize(kind_list));
    return up->exec();
}

std::vector<escalation> sqlite_escalations::open_escalations() { return sqlite::open_escalations(c_); }

std::int64_t sqlite_escalations::count_open_escalations() {
    return c_.db().execAndGet("SELECT COUNT(*) FROM recon_escalations WHERE status IN ('open','watching')").getInt64();
}

std::map<std::string, std::int64_t> sqlite_escalations::count_open_escalations_by_team() {
    std::map<std::string, std::int64_t> out;
    SQLite::Statement q(c_.db(), "SELECT team, COUNT(*) FROM recon_escalations WHERE status IN ('open','watching')"
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
    SQLite::Statement q(c_.db(), std::string("SELECT ") + escalation_columns_without_evidence +
                                     " FROM recon_escalations WHERE status IN ('open','watching')"
                                     " ORDER BY status <> 'open', recon_age_days(first_seen, ?1) DESC, first_seen, id");
    q.bind(1, static_cast<std::int64_t>(now));
    while (q.executeStep()) visit(read_escalation(q));
}

}  // namespace reconciler::store::sqlite
