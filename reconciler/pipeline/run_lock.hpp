// One run at a time per database. Two kinds, one contract: the lock is held
// while the object lives and released when the process dies, however it
// dies (a SIGKILLed run never leaves a stale lock); a second taker gets
// run_locked_error naming the holder (exit 3). pipeline/database.hpp picks
// the kind the database needs (take_run_lock).
//  - file_run_lock: an exclusive flock(2) on a file beside the SQLite
//    database (<database>.reconciler.lock), whose text says who holds it.
//  - pg_run_lock (pg_run_lock.hpp): a session advisory lock on PostgreSQL.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace reconciler {

class run_locked_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The lock was held and is gone (a PostgreSQL lock session that died): the
// run stops, since another run may hold it by now (exit 1).
class run_lock_lost : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class run_lock {
public:
    virtual ~run_lock() = default;
    // Still held? Asked before each slice's writes. A flock cannot be lost
    // while the process lives; a PostgreSQL session can (pg_run_lock).
    // Throws run_lock_lost when the lock is gone.
    virtual void check_held() {}
    run_lock(const run_lock&) = delete;
    run_lock& operator=(const run_lock&) = delete;

protected:
    run_lock() = default;
};

class file_run_lock final : public run_lock {
public:
    // Throws run_locked_error naming the holder and since when; std::runtime_error
    // when the lock file cannot be created.
    explicit file_run_lock(const std::filesystem::path& database);
    ~file_run_lock() override;

    static std::filesystem::path path_for(const std::filesystem::path& database);

private:
    int fd_ = -1;
};

}  // namespace reconciler
