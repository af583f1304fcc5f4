// PostgreSQL: recon_escalations.
#pragma once

#include "store/escalations.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_escalations : public virtual escalations {
public:
    explicit postgres_escalations(session& s) noexcept : s_(s) {}

    escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until) override;
    int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                       const std::vector<std::string>& kinds) override;
    std::vector<escalation> open_escalations() override;
    void each_open_escalation(const std::function<void(const escalation&)>& visit) override;
    void each_open_escalation_by_age(unix_seconds now, const std::function<void(const escalation&)>& visit) override;
    std::int64_t count_open_escalations() override;

private:
    session& s_;
};

// The open (and watching) escalations that also match `and_where` (SQL
// starting with AND, over `p`; "" for all), oldest first (first_seen, id):
// for the areas that filter them (support_queries).
std::vector<escalation> select_open_escalations(session& s, const std::string& and_where, const params& p);

}  // namespace reconciler::store::postgres
