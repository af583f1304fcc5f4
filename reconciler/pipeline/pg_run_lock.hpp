// One run at a time on a PostgreSQL database: pg_try_advisory_lock on a
// connection of its own, held for the run. The server releases a session
// lock when the session ends, so a killed run (or a lost network) frees it;
// a lock session that died (a server restart, a reset, idle_session_timeout,
// pg_terminate_backend) is noticed by check_held() before the next slice's
// writes, and the run stops there: another run may hold the lock by then,
// so it is not taken again. The key is (hashtext('stripe-reconciler run'),
// hashtext(<recon schema>)): two reconcilers with their own schemas in one
// database do not exclude each other.
#pragma once

#include "pipeline/run_lock.hpp"
#include "store/postgres/open.hpp"
#include "store/postgres/pg_connection.hpp"

#include <memory>
#include <string>

namespace reconciler {

class pg_run_lock final : public run_lock {
public:
    // Throws run_locked_error naming the holder (application, pid, since when,
    // as far as pg_stat_activity lets this role read them); schema_error or
    // postgres::server_unavailable (retried by take_run_lock) when the server
    // cannot be reached.
    pg_run_lock(const store::postgres_options& opts, const std::string& database_name);
    ~pg_run_lock() override;

    // One round trip on the lock's session. Throws run_lock_lost naming the
    // database and libpq's reason when the session (and the lock) is gone.
    void check_held() override;

private:
    std::unique_ptr<store::postgres::connection> session_;
    std::string database_;
};

}  // namespace reconciler
