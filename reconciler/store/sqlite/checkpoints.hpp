// SQLite: recon_checkpoints.
#pragma once

#include "store/checkpoints.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_checkpoints : public virtual checkpoints {
public:
    explicit sqlite_checkpoints(connection& c) noexcept : c_(c) {}

    std::optional<unix_seconds> checkpoint(const std::string& stream) override;
    void advance_checkpoint(const std::string& stream, unix_seconds chunk_start, unix_seconds chunk_end,
                            std::int64_t run_id) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
