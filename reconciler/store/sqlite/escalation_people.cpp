// What people do with escalations (`reconciler escalations`): find, list,
// ack, resolve, and the history of each.
#include "store/sqlite/escalations.hpp"
#include "store/sqlite/outbox.hpp"

#include "store/errors.hpp"
#include "store/sqlite/sql.hpp"

#include <SQLiteCpp/Transaction.h>

#include <algorithm>

namespace reconciler::store::sqlite {

namespace {

std::optional<escalation> find(connection& c, std::int64_t id) {
    auto q = c.cached("SELECT " + escalation_columns(true) + " FROM recon_escalations WHERE id = ?");
    q->bind(1, static_cast<std::int64_t>(id));
    if (!q->executeStep()) return std::nullopt;
    return read_escalation(*q);
}

std::string what(const char* action, std::int64_t id) { return std::string(action) + " escalation #" + std::to_string(id); }

// A person's change from one of `allowed` statuses to `to`, with its history
// row, in one transaction.
escalation change_status(connection& c, std::int64_t id, const std::vector<std::string>& allowed, const char* verb,
                         const char* to, const std::string& by, const std::string& note) {
    SQLite::Transaction tx(c.db(), SQLite::TransactionBehavior::IMMEDIATE);
    auto e = find(c, id);
    if (!e) throw store_error(what(verb, id) + ": no such escalation");
    if (std::find(allowed.begin(), allowed.end(), e->status) == allowed.end()) {
        const std::string who = e->status == "acked"      ? " by " + e->acked_by
                                : e->status == "resolved" ? " by " + e->resolved_by
                                                          : "";
        throw store_error(what(verb, id) + ": it is " + e->status +
                          " already" + who);
    }
    const std::string now = now_text();
    const bool ack = std::string(to) == "acked";
    auto up = c.cached(ack ? "UPDATE recon_escalations SET status = ?1, acked_by = ?2, acked_at = ?3 WHERE id = ?4"
                           : "UPDATE recon_escalations SET status = ?1, resolved_by = ?2, resolved_at = ?3 WHERE id = ?4");
    up->bind(1, to);
    up->bind(2, by);
    up->bind(3, now);
    up->bind(4, static_cast<std::int64_t>(id));
    up->exec();
    record_change(c, id, escalation_change{0, now, by, to, e->status, to, note, 0});
    if (!ack) enqueue_resolves(c, id, now);  // the routes that were paged hear it is closed
    tx.commit();
    return *find(c, id);
}

}  // namespace

std::optional<escalation> sqlite_escalations::find_escalation(std::int64_t id) { return find(c_, id); }

std::vector<escalation> sqlite_escalations::list_escalations(const escalation_filter& f) {
    std::string sql = "SELECT " + escalation_columns(false) + " FROM recon_escalations WHERE (?1 = '' OR team = ?1)";
    if (f.status == "unresolved") sql += " AND status IN ('open','watching','acked')";
    else sql += " AND (?2 = '' OR status = ?2)";
    SQLite::Statement q(c_.db(), sql + " ORDER BY id");
    q.bind(1, f.team);
    if (f.status != "unresolved") q.bind(2, f.status);
    std::vector<escalation> out;
    while (q.executeStep()) out.push_back(read_escalation(q));
    return out;
}

std::vector<std::string> sqlite_escalations::escalation_teams() {
    SQLite::Statement q(c_.db(), "SELECT DISTINCT team FROM recon_escalations ORDER BY team");
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
}

escalation sqlite_escalations::ack_escalation(std::int64_t id, const std::string& by, const std::string& note) {
    return change_status(c_, id, {"open", "watching"}, "ack", "acked", by, note);
}

escalation sqlite_escalations::resolve_escalation(std::int64_t id, const std::string& by, const std::string& note) {
    return change_status(c_, id, {"open", "watching", "acked"}, "resolve", "resolved", by, note);
}

std::vector<escalation_change> sqlite_escalations::escalation_history(std::int64_t id) {
    auto q = c_.cached("SELECT id, at, actor, action, COALESCE(from_status, ''), to_status, note, COALESCE(run_id, 0)"
                       " FROM recon_escalation_history WHERE escalation_id = ? ORDER BY id");
    q->bind(1, static_cast<std::int64_t>(id));
    std::vector<escalation_change> out;
    while (q->executeStep())
        out.push_back(escalation_change{q->getColumn(0).getInt64(), q->getColumn(1).getString(),
                                        q->getColumn(2).getString(), q->getColumn(3).getString(),
                                        q->getColumn(4).getString(), q->getColumn(5).getString(),
                                        q->getColumn(6).getString(), q->getColumn(7).getInt64()});
    return out;
}

std::map<std::string, team_escalation_counts> sqlite_escalations::count_escalations_by_team(std::int64_t run_id) {
    std::map<std::string, team_escalation_counts> out;
    SQLite::Statement now(c_.db(), "SELECT team, SUM(CASE WHEN status = 'acked' THEN 0 ELSE 1 END),"
                                   " SUM(CASE WHEN status = 'acked' THEN 1 ELSE 0 END) FROM recon_escalations"
                                   " WHERE status IN ('open','watching','acked') GROUP BY team");
    while (now.executeStep()) {
        auto& t = out[now.getColumn(0).getString()];
        t.open = now.getColumn(1).getInt64();
        t.acked = now.getColumn(2).getInt64();
    }
    // The run's own changes, from the history (a person's have no run).
    SQLite::Statement run(c_.db(), "SELECT e.team, SUM(CASE WHEN h.action IN ('opened','reopened') THEN 1 ELSE 0 END),"
                                   " SUM(CASE WHEN h.action = 'resolved' THEN 1 ELSE 0 END)"
                                   " FROM recon_escalation_history h JOIN recon_escalations e ON e.id = h.escalation_id"
                                   " WHERE h.run_id = ? GROUP BY e.team");
    run.bind(1, static_cast<std::int64_t>(run_id));
    while (run.executeStep()) {
        auto& t = out[run.getColumn(0).getString()];
        t.opened = run.getColumn(1).getInt64();
        t.resolved = run.getColumn(2).getInt64();
    }
    return out;
}

}  // namespace reconciler::store::sqlite
