// Resolving an http_url's host under a deadline, for the two Beast TUs only
// (beast_transport.cpp, https_post.cpp): it pulls in Asio's resolver.
// Plain http keeps only loopback addresses: the one loopback rule (url.hpp)
// applied to what the name resolved to, not only to the name.
#pragma once

#include "stripe/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace reconciler::stripe {

// The two Beast TUs' shorthand: expected errors come back as values.
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace reconciler::stripe

namespace reconciler::stripe::detail {

struct resolved {
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // empty on failure
    bool timed_out = false;
    std::string error;  // on failure: "resolve <host>: <why>"
};

inline boost::asio::awaitable<resolved> resolve_endpoints(boost::asio::any_io_executor ex, const http_url& url,
                                                          std::chrono::milliseconds timeout,
                                                          const std::string& timeout_text) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    // Resolver operations take no deadline and do not support per-operation
    // cancellation, so a timer cancels the resolver. The timer's handler
    // may run after this frame is gone: it holds only a weak reference.
    struct resolve_state {
        explicit resolve_state(asio::any_io_executor e) : resolver(std::move(e)) {}
        tcp::resolver resolver;
        bool timed_out = false;
    };
    auto state = std::make_shared<resolve_state>(ex);
    asio::steady_timer deadline(ex, timeout);
    deadline.async_wait([weak = std::weak_ptr<resolve_state>(state)](boost::system::error_code ec) {
        if (ec) return;
        if (auto s = weak.lock()) {
            s->timed_out = true;
            s->resolver.cancel();
        }
    });
    auto [ec, results] = co_await state->resolver.async_resolve(url.host, url.port, tcp::resolver::numeric_service,
                                                                asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    resolved out;
    if (state->timed_out) {
        out.timed_out = true;
        out.error = "resolve " + url.host + ": " + timeout_text;
        co_return out;
    }
    if (ec) {
        out.error = "resolve " + url.host + ": " + ec.message();
        co_return out;
    }
    for (const auto& entry : results) {
        if (!url.tls && !is_loopback_host(entry.endpoint().address().to_string())) continue;
        out.endpoints.push_back(entry.endpoint());
    }
    if (out.endpoints.empty()) out.error = "resolve " + url.host + ": no loopback address (plain http is loopback-only)";
    co_return out;
}

}  // namespace reconciler::stripe::detail
