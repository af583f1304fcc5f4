// The app's database as the config names it: SQLite (database.path) or
// PostgreSQL (database.url), opened through one factory so that no command
// knows which; and the run lock that goes with it. Lives in pipeline, the
// first room that may see both config and store.
#pragma once

#include "config/config.hpp"
#include "pipeline/run_lock.hpp"
#include "store/postgres/open.hpp"
#include "store/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace reconciler {

// How to reach the database, its password read: built once per command, so
// the password is read once (and registered with log::add_secret at once).
struct database_access {
    std::filesystem::path sqlite_path;  // empty for PostgreSQL
    std::chrono::milliseconds busy_timeout{10'000};
    std::optional<store::postgres_options> postgres;
    store::app_tables tables;  // database.app_tables, both backends
    // database.connect_retry_for: a PostgreSQL server that does not answer
    // at connect time is retried this long (pipeline/connect_retry.hpp).
    std::chrono::seconds connect_retry_for{0};
    // For messages: the SQLite path, or the URL (checked at load to carry no password).
    std::string name;
};

// The database for messages: the SQLite path or the URL (no password in it).
std::string database_name(const config& cfg);

// Throws config_error when database.password's source cannot be read.
database_access database_access_of(const config& cfg);

// Throws schema_error as open_sqlite_store / open_postgres_store do, and
// when a PostgreSQL server did not answer for connect_retry_for (retried
// meanwhile, blocking).
std::unique_ptr<store::store> open_store(const database_access& access);
std::unique_ptr<store::store> open_store(const config& cfg);

// One attempt, whatever connect_retry_for says: a server that does not
// answer is store::postgres::server_unavailable at once (check-config
// --connect answers now; the run is what waits out a failover).
std::unique_ptr<store::store> open_store_once(const database_access& access);

// One run at a time per database: a flock beside the SQLite file, a session
// advisory lock on PostgreSQL. Throws run_locked_error naming the holder.
std::unique_ptr<run_lock> take_run_lock(const database_access& access);

// The run's (and the daemon's) open_store and take_run_lock: the retries'
// waits are on the coroutine's executor, and `stop` (may be null) ends them.
boost::asio::awaitable<std::unique_ptr<store::store>> open_store_async(const database_access& access,
                                                                       const std::atomic<bool>* stop);
boost::asio::awaitable<std::unique_ptr<run_lock>> take_run_lock_async(const database_access& access,
                                                                      const std::atomic<bool>* stop);

}  // namespace reconciler
