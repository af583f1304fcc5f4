// SQLite: what the fetch stage reads (payments, the webhook log) and the
// subscription scratch it folds into.
#pragma once

#include "store/fetch_lookup.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_fetch_lookup : public virtual fetch_lookup {
public:
    explicit sqlite_fetch_lookup(connection& c) noexcept : c_(c) {}

    std::unique_ptr<subscription_state_table> subscription_scratch() override;
    std::vector<std::string> payments_paid_between(unix_seconds start, unix_seconds end) override;
    std::vector<std::string> delivered_event_ids(const std::vector<std::string>& event_ids) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
