// PostgreSQL: recon_checkpoints.
#pragma once

#include "store/checkpoints.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_checkpoints : public virtual checkpoints {
public:
    explicit postgres_checkpoints(session& s) noexcept : s_(s) {}

    std::optional<unix_seconds> checkpoint(const std::string& stream) override;
    void advance_checkpoint(const std::string& stream, unix_seconds chunk_start, unix_seconds chunk_end,
                            std::int64_t run_id) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
