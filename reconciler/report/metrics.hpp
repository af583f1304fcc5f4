// Prometheus text format for node_exporter's textfile collector, written
// atomically to <output.dir>/reconciler.prom after every run.
#pragma once

#include "report/run_result.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace reconciler {

std::string metrics_text(const run_result& r, std::optional<unix_seconds> last_success);
// A failed run keeps the previous file's last success time.
void write_metrics(const std::filesystem::path& output_dir, const run_result& r);

}  // namespace reconciler
