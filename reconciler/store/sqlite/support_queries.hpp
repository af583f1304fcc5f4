// SQLite: the support commands' look-ups.
#pragma once

#include "store/sqlite/connection.hpp"
#include "store/support_queries.hpp"

namespace reconciler::store::sqlite {

class sqlite_support_queries : public virtual support_queries {
public:
    explicit sqlite_support_queries(connection& c) noexcept : c_(c) {}

    std::optional<local_user> find_user_by_email(const std::string& email) override;
    std::vector<escalation> escalations_for(const local_user& u) override;
    std::vector<run_summary> run_trend(int limit) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
