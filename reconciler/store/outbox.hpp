// Port: the escalation outbox (recon_escalation_outbox, issue 20). Rows are
// written by the escalations port, in the transaction of the change that
// causes them: raise() that opens or reopens an escalation enqueues a
// trigger for each route of its team (not a mere occurrence bump, not while
// watching, not while acked); any resolve (a run's or a person's) enqueues a
// resolve for each route that got a trigger. Nothing is enqueued for a team
// without routes. The delivery step (pipeline/delivery.hpp) reads and marks
// them here; senders never touch the store.
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reconciler::store {

// One delivery due, with its escalation as it is now.
struct outbox_delivery {
    std::int64_t id = 0;
    std::string route;   // "<team>/<type>"
    std::string action;  // "trigger" | "resolve"
    std::int64_t attempts = 0;
    std::string created_at;
    escalation esc;      // evidence included
};

// How many deliveries a route has in a status.
struct delivery_count {
    std::string route, status;  // status: pending | sent | failed
    std::int64_t count = 0;
};

class outbox {
public:
    virtual ~outbox() = default;

    // The routes each team delivers to (route names, "<team>/<type>"), for
    // this store's life (a run, a daemon cycle). Empty (the default): nothing
    // is enqueued and nothing is due.
    virtual void set_delivery_routes(const std::map<std::string, std::vector<std::string>>& team_routes) = 0;
    // Pending deliveries of the routes set, whose next attempt is at or
    // before `now`, oldest first, at most `limit`. A resolve waits while its
    // trigger is still pending (a receiver must see the trigger first).
    virtual std::vector<outbox_delivery> due_deliveries(unix_seconds now, int limit) = 0;
    virtual void mark_delivery_sent(std::int64_t id) = 0;
    // One more failed attempt: attempts + 1, the next at `next_attempt_at`;
    // failed for good when `give_up` or attempts reach `max_attempts`.
    // `error` names the route, never a secret. Returns the new status.
    virtual std::string mark_delivery_failed(std::int64_t id, unix_seconds next_attempt_at, const std::string& error,
                                             bool give_up, int max_attempts) = 0;
    // Per route and status, every route that has any (the report, metrics).
    virtual std::vector<delivery_count> count_deliveries() = 0;
};

}  // namespace reconciler::store
