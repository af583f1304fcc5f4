#include "store/postgres/outbox.hpp"

#include "core/timeutil.hpp"
#include "store/postgres/escalations.hpp"

namespace reconciler::store::postgres {

namespace {

std::vector<std::string> all_routes(session& s) {
    std::vector<std::string> out;
    for (const auto& [team, routes] : s.delivery_routes()) out.insert(out.end(), routes.begin(), routes.end());
    return out;
}

}  // namespace

void enqueue_triggers(session& s, std::int64_t escalation_id, const std::string& team, std::int64_t generation,
                      const std::string& now) {
    const auto it = s.delivery_routes().find(team);
    if (it == s.delivery_routes().end() || it->second.empty()) return;
    s.run("INSERT INTO @schema@.recon_escalation_outbox(escalation_id, route, action, generation, created_at)"
          " SELECT $1::bigint, route, 'trigger', $3::bigint, $4::text FROM unnest($2::text[]) AS route"
          " ON CONFLICT DO NOTHING",
          params().add(escalation_id).add(text_array(it->second)).add(generation).add(now));
}

std::string enqueue_resolves_sql(const std::string& ids_from) {
    // The newest trigger of each route.
    return "INSERT INTO @schema@.recon_escalation_outbox(escalation_id, route, action, generation, created_at)"
           " SELECT t.escalation_id, t.route, 'resolve', MAX(t.generation), $1::text FROM @schema@.recon_escalation_outbox t"
           " JOIN " + ids_from + " ON t.escalation_id = " + ids_from + ".id WHERE t.action = 'trigger'"
           " GROUP BY t.escalation_id, t.route ON CONFLICT DO NOTHING";
}

void enqueue_resolves(session& s, std::int64_t escalation_id, const std::string& now) {
    s.run("WITH one AS (SELECT $2::bigint AS id) " + enqueue_resolves_sql("one"), params().add(now).add(escalation_id));
}

void postgres_outbox::set_delivery_routes(const std::map<std::string, std::vector<std::string>>& team_routes) {
    s_.delivery_routes() = team_routes;
}

std::vector<outbox_delivery> postgres_outbox::due_deliveries(unix_seconds now, int limit) {
    std::vector<outbox_delivery> out;
    if (s_.delivery_routes().empty() || limit <= 0) return out;
    const auto r = s_.run("SELECT o.id, o.escalation_id, o.route, o.action, o.attempts, o.created_at"
                          " FROM @schema@.recon_escalation_outbox o WHERE o.status = 'pending'"
                          " AND o.next_attempt_at <= $1 AND o.route = ANY($2::text[])"
                          " AND NOT (o.action = 'resolve' AND EXISTS (SELECT 1 FROM @schema@.recon_escalation_outbox t"
                          " WHERE t.escalation_id = o.escalation_id AND t.route = o.route AND t.action = 'trigger'"
                          " AND t.generation = o.generation AND t.status = 'pending'))"
                          " ORDER BY o.id LIMIT $3",
                          params().add(static_cast<std::int64_t>(now)).add(text_array(all_routes(s_))).add(limit));
    for (int i = 0; i < r.rows(); ++i) {
        outbox_delivery d;
        d.id = r.int64(i, 0);
        d.route = r.text(i, 2);
        d.action = r.text(i, 3);
        d.attempts = r.int64(i, 4);
        d.created_at = r.text(i, 5);
        const auto e = s_.run(escalation_columns(true) + "WHERE id = $1", params().add(r.int64(i, 1)));
        if (e.rows() > 0) d.esc = read_escalation(e, 0);
        out.push_back(std::move(d));
    }
    return out;
}

void postgres_outbox::mark_delivery_sent(std::int64_t id) {
    s_.run("UPDATE @schema@.recon_escalation_outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1,"
           " last_error = '' WHERE id = $2",
           params().add(format_rfc3339(now_unix())).add(id));
}

std::string postgres_outbox::mark_delivery_failed(std::int64_t id, unix_seconds next_attempt_at,
                                                  const std::string& error, bool give_up, int max_attempts) {
    const auto r = s_.run("UPDATE @schema@.recon_escalation_outbox SET attempts = attempts + 1, next_attempt_at = $1,"
                          " last_error = $2, status = CASE WHEN $3::boolean OR attempts + 1 >= $4 THEN 'failed'"
                          " ELSE 'pending' END WHERE id = $5 RETURNING status",
                          params().add(static_cast<std::int64_t>(next_attempt_at)).add(error).add(give_up)
                              .add(max_attempts).add(id));
    return r.rows() > 0 ? std::string(r.text(0, 0)) : std::string("failed");
}

std::vector<delivery_count> postgres_outbox::count_deliveries() {
    const auto r = s_.run("SELECT route, status, COUNT(*) FROM @schema@.recon_escalation_outbox"
                          " GROUP BY route, status ORDER BY route COLLATE \"C\", status COLLATE \"C\"");
    std::vector<delivery_count> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(delivery_count{std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.int64(i, 2)});
    return out;
}

}  // namespace reconciler::store::postgres
