// SQLite: the writes to the app's users (plan, plan_metadata, payments)
// with their ledger rows in recon_corrections, each in one BEGIN IMMEDIATE
// transaction: the write lock is taken before the user's row is read, so the
// read-modify-write of plan_metadata cannot interleave with the app's own.
#pragma once

#include "store/ledger.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_ledger : public virtual ledger {
public:
    explicit sqlite_ledger(connection& c) noexcept : c_(c) {}

    apply_result apply(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                       const escalate_with& escalate) override;
    revert_result revert(std::int64_t correction_id, const std::string& correlation_id) override;
    adjust_result adjust(const adjustment& a, const std::string& correlation_id) override;

private:
    apply_result apply_locked(const proposed_correction& c, std::int64_t run_id, const std::string& correlation_id,
                              const escalate_with& escalate);
    apply_result existing_correction(const proposed_correction& c);

    connection& c_;
};

}  // namespace reconciler::store::sqlite
