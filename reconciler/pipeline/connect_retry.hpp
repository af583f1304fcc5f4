// Opening the database while its server does not answer yet (a failover, a
// restart at 03:00): the connect is retried with exponential backoff and
// jitter until database.connect_retry_for has passed, one warn line a retry
// (the database as "host:port/db as user", libpq's reason, the next delay;
// never the password). Only store::postgres::server_unavailable is retried:
// a server that answers and refuses (password, database, TLS) fails at once,
// and so does SQLite. A connection lost mid-run is not this file's: the run
// stops on it (its lock session went with it).
#pragma once

#include "store/postgres/pg_connection.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

namespace reconciler {

// The waits between attempts: 0.5 s doubled each time up to 8 s, each one
// 75..125 % of that at random, so that runs started together spread out.
class connect_backoff {
public:
    explicit connect_backoff(std::uint32_t seed = std::random_device{}()) : rng_(seed) {}
    std::chrono::milliseconds next();

private:
    std::mt19937 rng_;
    std::chrono::milliseconds base_{500};
};

// One opening's attempts (the store, or the run lock's session).
class connect_retry {
public:
    explicit connect_retry(std::chrono::seconds retry_for)
        : retry_for_(retry_for), start_(std::chrono::steady_clock::now()) {}

    // After an attempt that met `e`: the wait before the next one, logged
    // (database_connect_retry). Throws store::schema_error (a setup error,
    // exit 2) saying for how long it tried, once retry_for has passed (at
    // once when it is 0).
    std::chrono::milliseconds after(const store::postgres::server_unavailable& e);

    // "stopped by a signal while waiting for <database>" for a stop request.
    static std::string stopped(const store::postgres::server_unavailable& e);

private:
    std::chrono::seconds retry_for_;
    std::chrono::steady_clock::time_point start_;
    int attempts_ = 0;
    connect_backoff backoff_;
};

// open() until it returns; blocking waits (a command: SIGTERM ends the process).
template <class Open>
auto retrying_connect(std::chrono::seconds retry_for, Open&& open) -> decltype(open()) {
    connect_retry retry(retry_for);
    for (;;) {
        try {
            return open();
        } catch (const store::postgres::server_unavailable& e) {
            std::this_thread::sleep_for(retry.after(e));
        }
    }
}

// open() until it returns, waiting on the coroutine's executor: the daemon
// keeps handling signals meanwhile, and `stop` (its SIGTERM; may be null)
// ends the wait within 100 ms. `open` is a named object of the caller
// (GCC 12 and co_await temporaries: see async.hpp).
template <class Open>
boost::asio::awaitable<std::invoke_result_t<Open&>> retrying_connect_async(std::chrono::seconds retry_for,
                                                                           const std::atomic<bool>* stop, Open& open) {
    namespace asio = boost::asio;
    connect_retry retry(retry_for);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        std::chrono::milliseconds wait{0};
        std::string stopped;
        try {
            co_return open();
        } catch (const store::postgres::server_unavailable& e) {
            wait = retry.after(e);
            stopped = connect_retry::stopped(e);
        }
        for (auto left = wait; left.count() > 0; left -= std::chrono::milliseconds(100)) {
            if (stop && stop->load()) throw std::runtime_error(stopped);
            timer.expires_after(std::min(left, std::chrono::milliseconds(100)));
            co_await timer.async_wait(asio::use_awaitable);
        }
        if (stop && stop->load()) throw std::runtime_error(stopped);
    }
}

}  // namespace reconciler
