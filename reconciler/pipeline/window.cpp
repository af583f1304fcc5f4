#include "pipeline/window.hpp"

#include "config/config.hpp"
#include "core/timeutil.hpp"

#include <algorithm>

namespace reconciler::pipeline {

window_bounds window_of(std::optional<unix_seconds> since, std::optional<unix_seconds> until, unix_seconds now,
                        std::optional<unix_seconds> checkpoint, std::chrono::seconds overlap,
                        std::chrono::seconds lookback) {
    window_bounds w;
    w.end = until.value_or(now);
    if (since) {
        w.start = *since;
    } else if (checkpoint) {
        // Continue where the last run stopped, looking back for late events.
        w.start = std::min(*checkpoint, w.end) - overlap.count();
        w.notes.push_back("continued from the checkpoint " + format_rfc3339(*checkpoint) + " minus the overlap " +
                          std::to_string(overlap.count()) + " s");
    } else {
        w.start = w.end - lookback.count();
    }
    if (w.start >= w.end)
        throw config_error("window: --since " + format_rfc3339(w.start) + " is not before --until " +
                           format_rfc3339(w.end));
    if (w.end - w.start > event_retention)
        w.notes.push_back("the window reaches past Stripe's 30-day event retention: " + format_rfc3339(w.start) +
                          " .. " + format_rfc3339(w.end - event_retention) +
                          " was verified from the object lists (paid invoices by creation time; tiers from "
                          "every subscription's current state), the rest from events and invoices");
    return w;
}

}  // namespace reconciler::pipeline
