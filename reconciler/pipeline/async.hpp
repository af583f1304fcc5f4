// Two coroutine helpers of the run: fetches side by side, and synchronous
// work on the worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <exception>
#include <tuple>

namespace reconciler::pipeline {

// Runs `ops` side by side on this coroutine's executor; when one fails the
// others are cancelled and the error rethrown is the one that ended the group,
// never a sibling's cancellation (awaitable_operators' && prefers the first
// operand's error, so a 503 could surface as "operation cancelled").
template <typename... Ts>
boost::asio::awaitable<void> together(boost::asio::awaitable<Ts>... ops) {
    namespace asio = boost::asio;
    auto ex = co_await asio::this_coro::executor;
    auto group = asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(ops), asio::deferred)...);
    auto results = co_await group.async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    const auto& order = std::get<0>(results);
    std::array<std::exception_ptr, sizeof...(Ts)> errors;
    std::apply([&](const auto&, const auto&... ex_i) { errors = {ex_i...}; }, results);
    for (std::size_t i : order)
        if (errors[i]) std::rethrow_exception(errors[i]);
}

// Runs `work` (synchronous: diff, database, report files) on `worker` and
// resumes the caller on its own executor once it is done; an exception it
// throws reaches the caller. Meanwhile the network thread keeps the
// fetchers' requests going (run on that thread, the diff stalled them).
// `work` is a named object of the caller: GCC 12 destroys a temporary of a
// co_await expression twice.
template <typename F>
boost::asio::awaitable<void> on_worker(boost::asio::thread_pool& worker, F& work) {
    co_await boost::asio::co_spawn(
        worker,
        [&work]() -> boost::asio::awaitable<void> {
            work();
            co_return;
        },
        boost::asio::use_awaitable);
}

}  // namespace reconciler::pipeline
