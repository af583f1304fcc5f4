// SQLite: recon_escalations and recon_escalation_history. The lifecycle a
// run drives is in escalations.cpp, what people do in escalation_people.cpp.
#pragma once

#include "store/escalations.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_escalations : public virtual escalations {
public:
    explicit sqlite_escalations(connection& c) noexcept : c_(c) {}

    escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until) override;
    std::vector<escalation> raise_all(const std::vector<raise_input>& requests, std::int64_t run_id) override;
    int resolve_absent(std::int64_t run_id, unix_seconds start, unix_seconds end,
                       const std::vector<std::string>& kinds) override;
    int resolve_rechecked(std::int64_t run_id, const std::vector<std::string>& kinds,
                          const std::vector<std::string>& subjects, unix_seconds start, unix_seconds end) override;
    std::vector<escalation> open_escalations() override;
    void each_open_escalation(const std::function<void(const escalation&)>& visit) override;
    void each_open_escalation_by_age(unix_seconds now, const std::function<void(const escalation&)>& visit) override;
    std::int64_t count_open_escalations() override;
    std::map<std::string, std::int64_t> count_open_escalations_by_team() override;

    std::optional<escalation> find_escalation(std::int64_t id) override;
    std::vector<escalation> list_escalations(const escalation_filter& f) override;
    std::vector<std::string> escalation_teams() override;
    escalation ack_escalation(std::int64_t id, const std::string& by, const std::string& note) override;
    escalation resolve_escalation(std::int64_t id, const std::string& by, const std::string& note) override;
    std::vector<escalation_change> escalation_history(std::int64_t id) override;
    std::map<std::string, team_escalation_counts> count_escalations_by_team(std::int64_t run_id) override;

private:
    connection& c_;
};

// The unresolved (open, watching, acked) escalations, oldest first
// (first_seen, id): for the areas that filter them (support_queries).
std::vector<escalation> open_escalations(connection& c);

// raise() inside the caller's transaction: the ledger writes the escalation
// a correction raises in the correction's own transaction.
escalation raise_in_transaction(connection& c, const escalation_input& e, std::int64_t run_id, int watch_until);

// An unresolved escalation of (kind, subject), if any, is closed only by a
// person from now on; seen by run `run_id`. In the caller's transaction.
void keep_for_person(connection& c, const std::string& kind, const std::string& subject, std::int64_t run_id);

// One row of the history, in the caller's transaction; its id.
std::int64_t record_change(connection& c, std::int64_t escalation_id, const escalation_change& ch);

// The columns read_escalation() reads, in its order (evidence: "" when a
// listing shows none).
std::string escalation_columns(bool with_evidence);
escalation read_escalation(SQLite::Statement& q);

}  // namespace reconciler::store::sqlite
