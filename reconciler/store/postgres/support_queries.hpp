// PostgreSQL: the support commands' look-ups.
#pragma once

#include "store/postgres/pg_session.hpp"
#include "store/support_queries.hpp"

namespace reconciler::store::postgres {

class postgres_support_queries : public virtual support_queries {
public:
    explicit postgres_support_queries(session& s) noexcept : s_(s) {}

    std::optional<local_user> find_user_by_email(const std::string& email) override;
    std::vector<escalation> escalations_for(const local_user& u) override;
    std::vector<run_summary> run_trend(int limit) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
