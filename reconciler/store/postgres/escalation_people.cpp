// What people do with escalations (`reconciler escalations`) on PostgreSQL:
// find, list, ack, resolve, and the history of each.
#include "store/postgres/escalations.hpp"
#include "store/postgres/outbox.hpp"

#include "store/errors.hpp"
#include "store/postgres/pg_transaction.hpp"

#include <algorithm>

namespace reconciler::store::postgres {

namespace {

std::optional<escalation> pg_find_escalation(session& s, std::int64_t id, bool lock) {
    const auto r = s.run(escalation_columns(true) + "WHERE id = $1" + (lock ? " FOR UPDATE" : ""), params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return read_escalation(r, 0);
}

std::string pg_what(const char* action, std::int64_t id) {
    return std::string(action) + " escalation #" + std::to_string(id);
}

// A person's change from one of `allowed` statuses to `to`, with its history
// row, in one transaction (the row locked while it is checked and changed).
escalation pg_change_status(session& s, std::int64_t id, const std::vector<std::string>& allowed, const char* verb,
                            const char* to, const std::string& by, const std::string& note) {
    transaction tx(s.conn());
    auto e = pg_find_escalation(s, id, true);
    if (!e) throw store_error(pg_what(verb, id) + ": no such escalation");
    if (std::find(allowed.begin(), allowed.end(), e->status) == allowed.end()) {
        const std::string who = e->status == "acked"      ? " by " + e->acked_by
                                : e->status == "resolved" ? " by " + e->resolved_by
                                                          : "";
        throw store_error(pg_what(verb, id) + ": it is " + e->status + " already" + who);
    }
    const std::string now = format_rfc3339(now_unix());
    const bool ack = std::string(to) == "acked";
    s.run(ack ? "UPDATE @schema@.recon_escalations SET status = $1, acked_by = $2, acked_at = $3 WHERE id = $4"
              : "UPDATE @schema@.recon_escalations SET status = $1, resolved_by = $2, resolved_at = $3 WHERE id = $4",
          params().add(to).add(by).add(now).add(id));
    record_change(s, id, escalation_change{0, now, by, to, e->status, to, note, 0});
    if (!ack) enqueue_resolves(s, id, now);  // the routes that were paged hear it is closed
    auto changed = pg_find_escalation(s, id, false);
    tx.commit();
    return *changed;
}

}  // namespace

std::optional<escalation> postgres_escalations::find_escalation(std::int64_t id) {
    return pg_find_escalation(s_, id, false);
}

std::vector<escalation> postgres_escalations::list_escalations(const escalation_filter& f) {
    const bool unresolved = f.status == "unresolved";
    const auto r = s_.run(escalation_columns(false) + "WHERE ($1 = '' OR team = $1)" +
                              (unresolved ? " AND status IN ('open','watching','acked') AND $2 = $2"
                                          : " AND ($2 = '' OR status = $2)") +
                              " ORDER BY id",
                          params().add(f.team).add(f.status));
    std::vector<escalation> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_escalation(r, i));
    return out;
}

std::vector<std::string> postgres_escalations::escalation_teams() {
    const auto r = s_.run("SELECT team FROM @schema@.recon_escalations GROUP BY team ORDER BY team COLLATE \"C\"");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
}

escalation postgres_escalations::ack_escalation(std::int64_t id, const std::string& by, const std::string& note) {
    return pg_change_status(s_, id, {"open", "watching"}, "ack", "acked", by, note);
}

escalation postgres_escalations::resolve_escalation(std::int64_t id, const std::string& by, const std::string& note) {
    return pg_change_status(s_, id, {"open", "watching", "acked"}, "resolve", "resolved", by, note);
}

std::vector<escalation_change> postgres_escalations::escalation_history(std::int64_t id) {
    const auto r = s_.run("SELECT id, at, actor, action, COALESCE(from_status, ''), to_status, note, COALESCE(run_id, 0)"
                          " FROM @schema@.recon_escalation_history WHERE escalation_id = $1 ORDER BY id",
                          params().add(id));
    std::vector<escalation_change> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(escalation_change{r.int64(i, 0), std::string(r.text(i, 1)), std::string(r.text(i, 2)),
                                        std::string(r.text(i, 3)), std::string(r.text(i, 4)), std::string(r.text(i, 5)),
                                        std::string(r.text(i, 6)), r.int64(i, 7)});
    return out;
}

std::map<std::string, team_escalation_counts> postgres_escalations::count_escalations_by_team(std::int64_t run_id) {
    std::map<std::string, team_escalation_counts> out;
    const auto now = s_.run("SELECT team, SUM(CASE WHEN status = 'acked' THEN 0 ELSE 1 END),"
                            " SUM(CASE WHEN status = 'acked' THEN 1 ELSE 0 END) FROM @schema@.recon_escalations"
                            " WHERE status IN ('open','watching','acked') GROUP BY team");
    for (int i = 0; i < now.rows(); ++i) {
        auto& t = out[std::string(now.text(i, 0))];
        t.open = now.int64(i, 1);
        t.acked = now.int64(i, 2);
    }
    // The run's own changes, from the history (a person's have no run).
    const auto run = s_.run("SELECT e.team, SUM(CASE WHEN h.action IN ('opened','reopened') THEN 1 ELSE 0 END),"
                            " SUM(CASE WHEN h.action = 'resolved' THEN 1 ELSE 0 END)"
                            " FROM @schema@.recon_escalation_history h JOIN @schema@.recon_escalations e"
                            " ON e.id = h.escalation_id WHERE h.run_id = $1 GROUP BY e.team",
                            params().add(run_id));
    for (int i = 0; i < run.rows(); ++i) {
        auto& t = out[std::string(run.text(i, 0))];
        t.opened = run.int64(i, 1);
        t.resolved = run.int64(i, 2);
    }
    return out;
}

}  // namespace reconciler::store::postgres
