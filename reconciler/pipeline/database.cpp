#include "pipeline/database.hpp"

#include "core/json_log.hpp"
#include "pipeline/connect_retry.hpp"
#include "pipeline/pg_run_lock.hpp"
#include "store/sqlite/open.hpp"

namespace reconciler {

std::string database_name(const config& cfg) {
    return cfg.database.is_postgres() ? cfg.database.url : cfg.database.path.string();
}

database_access database_access_of(const config& cfg) {
    database_access a;
    a.tables = cfg.database.app_tables;
    if (!cfg.database.is_postgres()) {
        a.sqlite_path = cfg.database.path;
        a.busy_timeout = cfg.database.busy_timeout;
        a.name = cfg.database.path.string();
        return a;
    }
    store::postgres_options pg;
    pg.connect.url = cfg.database.url;
    pg.connect.statement_timeout = cfg.database.statement_timeout;
    pg.schema = cfg.database.schema;
    a.connect_retry_for = cfg.database.connect_retry_for;
    if (cfg.database.password) {
        pg.connect.password = read_secret(*cfg.database.password, "database password", "database.password");
        log::add_secret(pg.connect.password);
    }
    a.postgres = std::move(pg);
    a.name = cfg.database.url;
    return a;
}

namespace {

std::unique_ptr<store::store> open_once(const database_access& access) {
    if (access.postgres) return store::open_postgres_store(*access.postgres, access.tables);
    return store::open_sqlite_store({access.sqlite_path, access.busy_timeout, false}, access.tables);
}

std::unique_ptr<run_lock> lock_once(const database_access& access) {
    if (access.postgres) return std::make_unique<pg_run_lock>(*access.postgres, access.name);
    return std::make_unique<file_run_lock>(access.sqlite_path);
}

}  // namespace

std::unique_ptr<store::store> open_store(const database_access& access) {
    return retrying_connect(access.connect_retry_for, [&] { return open_once(access); });
}

std::unique_ptr<store::store> open_store(const config& cfg) { return open_store(database_access_of(cfg)); }

std::unique_ptr<store::store> open_store_once(const database_access& access) { return open_once(access); }

std::unique_ptr<run_lock> take_run_lock(const database_access& access) {
    return retrying_connect(access.connect_retry_for, [&] { return lock_once(access); });
}

boost::asio::awaitable<std::unique_ptr<store::store>> open_store_async(const database_access& access,
                                                                       const std::atomic<bool>* stop) {
    auto open = [&access] { return open_once(access); };
    co_return co_await retrying_connect_async(access.connect_retry_for, stop, open);
}

boost::asio::awaitable<std::unique_ptr<run_lock>> take_run_lock_async(const database_access& access,
                                                                      const std::atomic<bool>* stop) {
    auto lock = [&access] { return lock_once(access); };
    co_return co_await retrying_connect_async(access.connect_retry_for, stop, lock);
}

}  // namespace reconciler
