#include "pipeline/progress_line.hpp"

#include "core/json_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace reconciler::pipeline {

progress_line::progress_line() : enabled_(::isatty(STDOUT_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

progress_line::~progress_line() {
    if (shown_) log::clear_status();
}

void progress_line::update(const std::string& resource, std::int64_t pages, std::int64_t objects, double done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    const double secs = std::max(0.001, std::chrono::duration<double>(now - start_).count());
    std::string eta = "ETA --";
    if (done > 0.001 && done < 1) eta = "ETA " + std::to_string(static_cast<long long>(secs * (1 - done) / done)) + " s";
    char line[512];
    std::snprintf(line, sizeof line, "  fetching %s: %lld pages, %lld objects, %.0f objects/s, %.0f s, %.0f%%, %s",
                  resource.c_str(), static_cast<long long>(pages), static_cast<long long>(objects), objects / secs, secs,
                  done * 100, eta.c_str());
    // Through the log's status line: a log line written meanwhile (stderr on
    // the same terminal) clears it and draws it again, so neither garbles the other.
    log::show_status(line);
}

}  // namespace reconciler::pipeline
