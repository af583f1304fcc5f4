// SQLite: recon_escalations.
#pragma once

#include "store/escalations.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_escalations : public virtual escalations {
public:
    explicit sqlite_escalations(connection& c) noexcept : c_(c) {}

    escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until) override;
    int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                       const std::vector<std::string>& kinds) override;
    std::vector<escalation> open_escalations() override;
    void each_open_escalation(const std::function<void(const escalation&)>& visit) override;
    void each_open_escalation_by_age(unix_seconds now, const std::function<void(const escalation&)>& visit) override;
    std::int64_t count_open_escalations() override;
    std::map<std::string, std::int64_t> count_open_escalations_by_team() override;

private:
    connection& c_;
};

// The open (and watching) escalations, oldest first (first_seen, id): for
// the areas that filter them (support_queries).
std::vector<escalation> open_escalations(connection& c);

}  // namespace reconciler::store::sqlite
