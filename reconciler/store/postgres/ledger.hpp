// PostgreSQL: the writes to the app's users (plan, plan_metadata, payments)
// with their ledger rows in recon_corrections, each in one transaction that
// locks the user's row (SELECT ... FOR UPDATE) before reading it: an app
// write meanwhile waits for us or we for it, and neither is lost. The
// ledger's UNIQUE(stripe_object, kind) is PostgreSQL's: a second apply finds
// the row, or loses the insert (ON CONFLICT DO NOTHING) and rolls back. The
// escalation a correction raises is written in the correction's transaction.
#pragma once

#include "store/ledger.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_ledger : public virtual ledger {
public:
    explicit postgres_ledger(session& s) noexcept : s_(s) {}

    apply_result apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                       const escalate_with& escalate) override;
    revert_result revert(std::int64_t correction_id, const std::string& correlation_id) override;
    adjust_result adjust(const adjustment& a, const std::string& correlation_id) override;

private:
    apply_result apply_locked(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                              const escalate_with& escalate);
    apply_result existing_correction(const proposed_correction& c);

    session& s_;
};

}  // namespace reconciler::store::postgres
