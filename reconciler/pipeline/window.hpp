// Which window a run verifies, and the checkpoint that carries it from one
// run to the next.
#pragma once

#include "core/model.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace reconciler::pipeline {

// Stripe keeps events for 30 days; older parts of a window are only in the object lists.
inline constexpr unix_seconds event_retention = 30 * 24 * 3600;

// The stream whose checkpoint says how far the app has been reconciled.
inline constexpr const char* checkpoint_stream = "window";

struct window_bounds {
    unix_seconds start = 0, end = 0;
    std::vector<std::string> notes;  // for the report: where the start came from, what retention means for it
};

// [--since or the checkpoint minus `overlap` (late events) or `lookback`
// before the end, --until or `now`). Throws config_error when the start is
// not before the end.
window_bounds window_of(std::optional<unix_seconds> since, std::optional<unix_seconds> until, unix_seconds now,
                        std::optional<unix_seconds> checkpoint, std::chrono::seconds overlap,
                        std::chrono::seconds lookback);

}  // namespace reconciler::pipeline
