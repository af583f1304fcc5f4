// SQLite: recon_escalation_outbox (store/outbox.hpp). The enqueueing helpers
// run in the caller's transaction: escalations.cpp and escalation_people.cpp
// call them in the escalation change's own.
#pragma once

#include "store/outbox.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_outbox : public virtual outbox {
public:
    explicit sqlite_outbox(connection& c) noexcept : c_(c) {}

    void set_delivery_routes(const std::map<std::string, std::vector<std::string>>& team_routes) override;
    std::vector<outbox_delivery> due_deliveries(unix_seconds now, int limit) override;
    void mark_delivery_sent(std::int64_t id) override;
    std::string mark_delivery_failed(std::int64_t id, unix_seconds next_attempt_at, const std::string& error,
                                     bool give_up, int max_attempts) override;
    std::vector<delivery_count> count_deliveries() override;

private:
    connection& c_;
};

// A trigger for each route of `team`, for the open (or reopen) recorded as
// history row `generation`. In the caller's transaction.
void enqueue_triggers(connection& c, std::int64_t escalation_id, const std::string& team, std::int64_t generation,
                      const std::string& now);

// "INSERT ...": a resolve for each route that got a trigger, of the
// escalations `ids_select` selects (SQL; ?1 is bound to the time).
std::string enqueue_resolves_sql(const std::string& ids_select);

// The same for one escalation. In the caller's transaction.
void enqueue_resolves(connection& c, std::int64_t escalation_id, const std::string& now);

}  // namespace reconciler::store::sqlite
