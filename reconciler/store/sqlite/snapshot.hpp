// SQLite: the app's side of a window (users, payments, ai_usage,
// webhook_events), read for the diff.
#pragma once

#include "store/snapshot.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_snapshot : public virtual snapshot {
public:
    explicit sqlite_snapshot(connection& c) noexcept : c_(c) {}

    local_snapshot load_local(const local_query& q) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
