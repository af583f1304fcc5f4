#include "store/sqlite/outbox.hpp"

#include "store/sqlite/escalations.hpp"
#include "store/sqlite/sql.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace reconciler::store::sqlite {

namespace {

std::string json_routes(connection& c) {
    boost::json::array list;
    for (const auto& [team, routes] : c.delivery_routes())
        for (const auto& r : routes) list.emplace_back(r);
    return boost::json::serialize(list);
}

}  // namespace

void enqueue_triggers(connection& c, std::int64_t escalation_id, const std::string& team, std::int64_t generation,
                      const std::string& now) {
    const auto it = c.delivery_routes().find(team);
    if (it == c.delivery_routes().end()) return;
    auto ins = c.cached("INSERT INTO recon_escalation_outbox(escalation_id, route, action, generation, created_at)"
                        " VALUES (?1, ?2, 'trigger', ?3, ?4) ON CONFLICT DO NOTHING");
    for (const auto& route : it->second) {
        ins->bind(1, static_cast<std::int64_t>(escalation_id));
        ins->bind(2, route);
        ins->bind(3, static_cast<std::int64_t>(generation));
        ins->bind(4, now);
        ins->exec();
        ins->reset();
    }
}

std::string enqueue_resolves_sql(const std::string& ids_select) {
    // The newest trigger of each route; WHERE before GROUP BY keeps SQLite's
    // parser from reading ON CONFLICT as a join's ON.
    return "INSERT INTO recon_escalation_outbox(escalation_id, route, action, generation, created_at)"
           " SELECT escalation_id, route, 'resolve', MAX(generation), ?1 FROM recon_escalation_outbox"
           " WHERE action = 'trigger' AND escalation_id IN (" + ids_select + ")"
           " GROUP BY escalation_id, route ON CONFLICT DO NOTHING";
}

void enqueue_resolves(connection& c, std::int64_t escalation_id, const std::string& now) {
    auto ins = c.cached(enqueue_resolves_sql("?2"));
    ins->bind(1, now);
    ins->bind(2, static_cast<std::int64_t>(escalation_id));
    ins->exec();
}

void sqlite_outbox::set_delivery_routes(const std::map<std::string, std::vector<std::string>>& team_routes) {
    c_.delivery_routes() = team_routes;
}

std::vector<outbox_delivery> sqlite_outbox::due_deliveries(unix_seconds now, int limit) {
    std::vector<outbox_delivery> out;
    if (c_.delivery_routes().empty() || limit <= 0) return out;
    auto q = c_.cached("SELECT o.id, o.escalation_id, o.route, o.action, o.attempts, o.created_at"
                       " FROM recon_escalation_outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= ?1"
                       " AND o.route IN (SELECT value FROM json_each(?2))"
                       " AND NOT (o.action = 'resolve' AND EXISTS (SELECT 1 FROM recon_escalation_outbox t"
                       " WHERE t.escalation_id = o.escalation_id AND t.route = o.route AND t.action = 'trigger'"
                       " AND t.generation = o.generation AND t.status = 'pending'))"
                       " ORDER BY o.id LIMIT ?3");
    q->bind(1, static_cast<std::int64_t>(now));
    q->bind(2, json_routes(c_));
    q->bind(3, limit);
    std::vector<std::int64_t> escalation_ids;
    while (q->executeStep()) {
        outbox_delivery d;
        d.id = q->getColumn(0).getInt64();
        escalation_ids.push_back(q->getColumn(1).getInt64());
        d.route = q->getColumn(2).getString();
        d.action = q->getColumn(3).getString();
        d.attempts = q->getColumn(4).getInt64();
        d.created_at = q->getColumn(5).getString();
        out.push_back(std::move(d));
    }
    q->reset();
    auto e = c_.cached("SELECT " + escalation_columns(true) + " FROM recon_escalations WHERE id = ?");
    for (std::size_t i = 0; i < out.size(); ++i) {
        e->bind(1, static_cast<std::int64_t>(escalation_ids[i]));
        if (e->executeStep()) out[i].esc = read_escalation(*e);
        e->reset();
    }
    return out;
}

void sqlite_outbox::mark_delivery_sent(std::int64_t id) {
    auto up = c_.cached("UPDATE recon_escalation_outbox SET status = 'sent', sent_at = ?1, attempts = attempts + 1,"
                        " last_error = '' WHERE id = ?2");
    up->bind(1, now_text());
    up->bind(2, static_cast<std::int64_t>(id));
    up->exec();
}

std::string sqlite_outbox::mark_delivery_failed(std::int64_t id, unix_seconds next_attempt_at, const std::string& error,
                                                bool give_up, int max_attempts) {
    auto up = c_.cached("UPDATE recon_escalation_outbox SET attempts = attempts + 1, next_attempt_at = ?1,"
                        " last_error = ?2, status = CASE WHEN ?3 OR attempts + 1 >= ?4 THEN 'failed' ELSE 'pending' END"
                        " WHERE id = ?5");
    up->bind(1, static_cast<std::int64_t>(next_attempt_at));
    up->bind(2, error);
    up->bind(3, give_up ? 1 : 0);
    up->bind(4, max_attempts);
    up->bind(5, static_cast<std::int64_t>(id));
    up->exec();
    SQLite::Statement q(c_.db(), "SELECT status FROM recon_escalation_outbox WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(id));
    return q.executeStep() ? q.getColumn(0).getString() : std::string("failed");
}

std::vector<delivery_count> sqlite_outbox::count_deliveries() {
    std::vector<delivery_count> out;
    SQLite::Statement q(c_.db(), "SELECT route, status, COUNT(*) FROM recon_escalation_outbox"
                                 " GROUP BY route, status ORDER BY route, status");
    while (q.executeStep())
        out.push_back(delivery_count{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64()});
    return out;
}

}  // namespace reconciler::store::sqlite
