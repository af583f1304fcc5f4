// One run at a time per database: an exclusive flock(2) on a file beside it
// (<database>.reconciler.lock). The kernel drops the lock when the process
// dies, however it dies, so a SIGKILLed run never leaves a stale lock; the
// file's text only says who holds it, for the error message.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace reconciler {

class run_locked_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class run_lock {
public:
    // Throws run_locked_error naming the holder and since when; std::runtime_error
    // when the lock file cannot be created.
    explicit run_lock(const std::filesystem::path& database);
    ~run_lock();
    run_lock(const run_lock&) = delete;
    run_lock& operator=(const run_lock&) = delete;

    static std::filesystem::path path_for(const std::filesystem::path& database);

private:
    int fd_ = -1;
};

}  // namespace reconciler
