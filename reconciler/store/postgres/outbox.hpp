// PostgreSQL: recon_escalation_outbox (store/outbox.hpp), as sqlite/outbox.hpp.
// The enqueueing helpers run in the caller's transaction.
#pragma once

#include "store/outbox.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_outbox : public virtual outbox {
public:
    explicit postgres_outbox(session& s) noexcept : s_(s) {}

    void set_delivery_routes(const std::map<std::string, std::vector<std::string>>& team_routes) override;
    std::vector<outbox_delivery> due_deliveries(unix_seconds now, int limit) override;
    void mark_delivery_sent(std::int64_t id) override;
    std::string mark_delivery_failed(std::int64_t id, unix_seconds next_attempt_at, const std::string& error,
                                     bool give_up, int max_attempts) override;
    std::vector<delivery_count> count_deliveries() override;

private:
    session& s_;
};

// A trigger for each route of `team`, for the open (or reopen) recorded as
// history row `generation`. In the caller's transaction.
void enqueue_triggers(session& s, std::int64_t escalation_id, const std::string& team, std::int64_t generation,
                      const std::string& now);

// "INSERT ...": a resolve for each route that got a trigger, of the
// escalations whose ids the CTE or table `ids_from` ("sel") lists in column
// id; $1 is the time.
std::string enqueue_resolves_sql(const std::string& ids_from);

// The same for one escalation. In the caller's transaction.
void enqueue_resolves(session& s, std::int64_t escalation_id, const std::string& now);

}  // namespace reconciler::store::postgres
