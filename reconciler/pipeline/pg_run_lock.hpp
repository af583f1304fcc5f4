// One run at a time on a PostgreSQL database: pg_try_advisory_lock on a
// connection of its own, held for the run. The server releases a session
// lock when the session ends, so a killed run (or a lost network) frees it;
// the run's own connection may be reset and reopened meanwhile without
// losing the lock. The key is (hashtext('stripe-reconciler run'),
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
    // postgres::connection_lost when the server cannot be reached.
    pg_run_lock(const store::postgres_options& opts, const std::string& database_name);
    ~pg_run_lock() override;

private:
    std::unique_ptr<store::postgres::connection> session_;
};

}  // namespace reconciler
