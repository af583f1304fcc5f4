// PostgreSQL: recon_escalations and recon_escalation_history. The lifecycle
// a run drives is in escalations.cpp, what people do in escalation_people.cpp.
#pragma once

#include "store/escalations.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_escalations : public virtual escalations {
public:
    explicit postgres_escalations(session& s) noexcept : s_(s) {}

    escalation raise(const escalation_input& e, std::int64_t run_id, int watch_until) override;
    // One transaction, a few statements for the whole batch (escalation_batch.cpp).
    std::vector<escalation> raise_all(const std::vector<raise_input>& batch, std::int64_t run_id) override;
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
    session& s_;
};

// The unresolved (open, watching, acked) escalations that also match
// `and_where` (SQL starting with AND, over `p`; "" for all), oldest first
// (first_seen, id): for the areas that filter them (support_queries).
std::vector<escalation> select_open_escalations(session& s, const std::string& and_where, const params& p);

// raise() inside the caller's transaction: the ledger writes the escalation
// a correction raises in the correction's own transaction.
escalation raise_in_transaction(session& s, const escalation_input& e, std::int64_t run_id, int watch_until);

// An unresolved escalation of (kind, subject), if any, is closed only by a
// person from now on; seen by run `run_id`. In the caller's transaction.
void keep_for_person(session& s, const std::string& kind, const std::string& subject, std::int64_t run_id);

// One row of the history, in the caller's transaction; its id.
std::int64_t record_change(session& s, std::int64_t escalation_id, const escalation_change& ch);

// "SELECT <the columns read_escalation() reads> FROM recon_escalations "
// (evidence "" when a listing shows none); a query appends its WHERE.
std::string escalation_columns(bool with_evidence);
escalation read_escalation(const result& r, int i);

}  // namespace reconciler::store::postgres
