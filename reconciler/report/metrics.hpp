// Prometheus text format for node_exporter's textfile collector, written
// atomically (temp file + rename in the same directory) to
// output.metrics_file after every run. README "Metrics" lists the series.
//
// Each run series carries mode="scheduled|manual|dry_run" (run_mode_of), and
// a run rewrites only its own mode's series: the other modes' lines are
// carried over from the file as it was. So a by-hand --dry-run or --since
// rerun never refreshes the scheduled run's last success, and an alert reads
// one series: time() - stripe_reconciler_last_success_timestamp_seconds{mode="scheduled"}.
// The gauges that describe the database (open escalations, in all and by
// team) have no mode: every run reads them from the database.
#pragma once

#include "report/run_result.hpp"
#include "store/escalations.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace reconciler {

enum class run_mode { scheduled, manual, dry_run };
const char* to_string(run_mode m) noexcept;

// The rule: --dry-run is dry_run; a window given by hand (--since or
// --until) is manual; anything else is scheduled: the timer's and the
// daemon's runs, and a plain `reconciler run`, which does exactly their work
// (from the checkpoint to now, applied and checkpointed).
run_mode run_mode_of(bool dry_run, bool window_given) noexcept;

// The database's side: read from it whatever the run's mode.
struct database_gauges {
    std::int64_t escalations_open = 0;
    std::map<std::string, std::int64_t> escalations_open_by_team;
};

// nullopt (and a warn log line) when the database cannot be read: the
// series are then left out rather than shown as 0.
std::optional<database_gauges> read_database_gauges(store::escalations& db);

struct metrics_input {
    run_mode mode = run_mode::scheduled;
    std::uint64_t rate_limited = 0;  // 429 responses (stripe::client_stats)
    std::optional<database_gauges> database;
};

// The file's text after run `r`, given the file's text before it (empty
// when there was none): `r`'s mode's series replaced, the others kept.
std::string metrics_text(const run_result& r, const metrics_input& in, std::string_view previous);
// A failed run keeps its mode's previous last success time.
void write_metrics(const std::filesystem::path& file, const run_result& r, const metrics_input& in);

}  // namespace reconciler
