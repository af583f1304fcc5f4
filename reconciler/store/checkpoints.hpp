// Port: how far each stream has been verified (recon_checkpoints).
#pragma once

#include "core/timeutil.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace reconciler::store {

class checkpoints {
public:
    virtual ~checkpoints() = default;

    // How far `stream` has been verified: every second before it is reconciled.
    virtual std::optional<unix_seconds> checkpoint(const std::string& stream) = 0;
    // Records [chunk_start, chunk_end) as verified. The checkpoint only moves
    // forward and only over contiguous coverage: a rerun of an old window, or
    // a window that starts past the checkpoint (a gap), does not move it.
    virtual void advance_checkpoint(const std::string& stream, unix_seconds chunk_start, unix_seconds chunk_end,
                                    std::int64_t run_id) = 0;
};

}  // namespace reconciler::store
