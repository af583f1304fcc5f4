// A live progress line for a person at a terminal (stdout is a TTY); nothing
// otherwise, so cron mail and journald get only the summary and JSON lines.
// Drawn as the log's status line (core/json_log.hpp), which log lines step around.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace reconciler::pipeline {

class progress_line {
public:
    progress_line();
    ~progress_line();  // clears the line it drew
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

    // `done`: the fraction of the window verified so far (0 while unknown).
    // Redraws at most five times a second.
    void update(const std::string& resource, std::int64_t pages, std::int64_t objects, double done);

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace reconciler::pipeline
