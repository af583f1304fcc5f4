// `reconciler daemon`: runs `reconciler run` (continuing from the checkpoint)
// on its own schedule until SIGTERM/SIGINT; SIGHUP reloads the config.
//
// Contract: a signal that arrives during a run is handled when the run
// returns: every correction is its own transaction and the run finishes its
// window, releases the lock and writes its report; then the daemon exits 0
// (or reloads). A run that fails, or finds the lock held, is logged and the
// daemon waits for the next slot: one bad night must not stop the schedule.
#pragma once

#include "core/timeutil.hpp"

#include <chrono>
#include <filesystem>
#include <optional>

namespace reconciler {

struct daemon_options {
    std::filesystem::path config_file;
    std::optional<std::chrono::seconds> every;  // run every interval (first run at start)
    std::optional<int> daily_minute;            // or daily at this UTC minute of the day (HH:MM)
};

int run_daemon(const daemon_options& opts);

namespace detail {

// Seconds from `now` to the next run: the interval, or to the next
// daily_minute (UTC) strictly after now.
std::chrono::seconds until_next(const daemon_options& o, unix_seconds now);

}  // namespace detail

}  // namespace reconciler
