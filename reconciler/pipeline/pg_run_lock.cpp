#include "pipeline/pg_run_lock.hpp"

namespace reconciler {
namespace {

namespace pg = store::postgres;

// The holder as pg_locks and pg_stat_activity show it. Another role's
// session shows its pid but may hide the rest: say what is readable.
std::string holder_of(pg::connection& c, const std::string& schema) {
    const auto r = c.run(
        "SELECT a.pid, a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), a.usename "
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = hashtext('stripe-reconciler run')::oid AND l.objid = hashtext($1)::oid LIMIT 1",
        pg::params().add(schema));
    if (r.rows() == 0 || r.is_null(0, 0)) return "holder not readable";
    std::string who = "server pid " + std::string(r.text(0, 0));
    if (!r.is_null(0, 1) && !r.text(0, 1).empty()) who = std::string(r.text(0, 1)) + ", " + who;
    if (!r.is_null(0, 3)) who += ", role " + std::string(r.text(0, 3));
    if (!r.is_null(0, 2)) who += ", since " + std::string(r.text(0, 2));
    return who;
}

}  // namespace

pg_run_lock::pg_run_lock(const store::postgres_options& opts, const std::string& database_name)
    : database_(database_name) {
    pg::connect_options o = opts.connect;
    o.application_name = "stripe-reconciler run";  // what the holder's message shows
    o.statement_timeout = std::chrono::milliseconds(0);
    session_ = std::make_unique<pg::connection>(o);
    const auto r = session_->run("SELECT pg_try_advisory_lock(hashtext('stripe-reconciler run'), hashtext($1))",
                                 pg::params().add(opts.schema));
    if (r.boolean(0, 0)) return;
    const std::string holder = holder_of(*session_, opts.schema);
    session_.reset();
    throw run_locked_error("another run holds the lock on " + database_name + " (" + holder + ")");
}

// A session that is still there holds its lock: the server releases a
// session lock only when the session ends (or it unlocks, which we never do).
void pg_run_lock::check_held() {
    try {
        session_->run("SELECT 1");
    } catch (const pg::connection_lost& e) {
        throw run_lock_lost("check the run lock on " + database_ + ": its session ended, and the lock with it (" +
                            e.what() + "); the run stops before the next slice's writes, as another run may have "
                                       "taken the lock since; rerun: the window resumes from the last checkpoint");
    }
}

// Closing the session releases the lock: no unlock statement that could fail.
pg_run_lock::~pg_run_lock() = default;

}  // namespace reconciler
