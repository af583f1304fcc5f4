// A database of its own on the tests' throwaway PostgreSQL server
// (tools/pg_cluster.sh, started by ctest's `postgres` fixture; its directory
// in RECONCILER_TEST_PG_DIR): created empty for one test, dropped after it,
// so tests running in parallel never see each other's tables.
#pragma once

#include "store/postgres/pg_connection.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace reconciler::test {

// The server's directory: conninfo (libpq keywords, no password), password.
struct pg_server {
    std::filesystem::path dir;
    std::string conninfo, password;

    explicit pg_server(std::filesystem::path d) : dir(std::move(d)) {
        std::ifstream c(dir / "conninfo"), p(dir / "password");
        std::getline(c, conninfo);
        std::getline(p, password);
        if (conninfo.empty() || password.empty())
            throw std::runtime_error("no PostgreSQL test server in " + dir.string() +
                                     " (ctest starts it: fixture `postgres`, tools/pg_cluster.sh)");
    }
    static pg_server from_env() {
        const char* d = std::getenv("RECONCILER_TEST_PG_DIR");
        if (!d || !*d) throw std::runtime_error("RECONCILER_TEST_PG_DIR is not set (run the test through ctest)");
        return pg_server(d);
    }
    store::postgres::connect_options options(const std::string& dbname = "app") const {
        store::postgres::connect_options o;
        o.url = conninfo + " dbname=" + dbname;
        o.password = password;
        return o;
    }
};

class pg_test_db {
public:
    explicit pg_test_db(pg_server server = pg_server::from_env()) : server_(std::move(server)) {
        static std::atomic<int> n{0};
        name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
        store::postgres::connection admin(server_.options());
        admin.exec("DROP DATABASE IF EXISTS " + name_);
        admin.exec("CREATE DATABASE " + name_);
    }
    ~pg_test_db() {
        try {
            store::postgres::connection admin(server_.options());
            admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {  // a test that stopped the server: the directory goes with it
        }
    }
    pg_test_db(const pg_test_db&) = delete;
    pg_test_db& operator=(const pg_test_db&) = delete;

    const std::string& name() const noexcept { return name_; }
    const pg_server& server() const noexcept { return server_; }
    store::postgres::connect_options options() const { return server_.options(name_); }

private:
    pg_server server_;
    std::string name_;
};

}  // namespace reconciler::test
