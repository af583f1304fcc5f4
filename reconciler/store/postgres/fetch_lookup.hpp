// PostgreSQL: what the fetch stage reads (payments, the webhook log) and the
// subscription scratch it folds into (a temporary table of the session).
#pragma once

#include "store/fetch_lookup.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_fetch_lookup : public virtual fetch_lookup {
public:
    explicit postgres_fetch_lookup(session& s) noexcept : s_(s) {}

    std::unique_ptr<subscription_state_table> subscription_scratch() override;
    std::vector<std::string> payments_paid_between(unix_seconds start, unix_seconds end) override;
    std::vector<std::string> delivered_event_ids(const std::vector<std::string>& event_ids) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
