// PostgreSQL: the app's side of a window (users, payments, ai_usage,
// webhook_events), read for the diff: each key list in one statement
// (= ANY($1) with an array parameter), not one round trip per key.
#pragma once

#include "store/postgres/pg_session.hpp"
#include "store/snapshot.hpp"

namespace reconciler::store::postgres {

class postgres_snapshot : public virtual snapshot {
public:
    explicit postgres_snapshot(session& s) noexcept : s_(s) {}

    local_snapshot load_local(const local_query& q) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
