// The client's public operations, retrieve, and the helpers both paging
// and retrying use. Retry rules: client_retry.cpp; list paging:
// client_paging.cpp.
#include "stripe/client.hpp"

#include "stripe/client_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <deque>
#include <exception>
#include <new>
#include <optional>
#include <random>

namespace reconciler::stripe {

namespace asio = boost::asio;
using std::chrono::milliseconds;

stripe_error::stripe_error(std::string what, details d) : std::runtime_error(std::move(what)), d_(std::move(d)) {}

// ------------------------------------------------------------------ helpers

namespace detail {

std::vector<std::pair<std::int64_t, std::int64_t>> split_window(std::int64_t gte, std::int64_t lt, int slices) {
    if (lt <= gte || slices < 1) throw std::invalid_argument("split_window: empty window or no slices");
    // Unsigned width: lt - gte may not fit in int64 for extreme inputs.
    const std::uint64_t width = static_cast<std::uint64_t>(lt) - static_cast<std::uint64_t>(gte);
    const std::uint64_t n = std::min<std::uint64_t>(static_cast<std::uint64_t>(slices), width);
    const std::uint64_t step = width / n;
    const std::uint64_t extra = width % n;  // the first `extra` slices get one more second
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    out.reserve(n);
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t len = step + (i < extra ? 1 : 0);
        out.emplace_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(gte) + offset),
                         static_cast<std::int64_t>(static_cast<std::uint64_t>(gte) + offset + len));
        offset += len;
    }
    std::reverse(out.begin(), out.end());  // newest first, like the lists themselves
    return out;
}

std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

std::string redact_secrets(std::string text, const std::vector<std::string>& extra) {
    for (const auto& secret : extra) {
        if (secret.empty()) continue;
        for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
            text.replace(pos, secret.size(), "[redacted]");
    }
    // Anything shaped like a Stripe secret, even one we were not told about
    // (e.g. a proxy echoing the Authorization header).
    static constexpr std::string_view prefixes[] = {"sk_live_", "sk_test_", "rk_live_", "rk_test_",
                                                    "pk_live_", "pk_test_", "whsec_"};
    for (std::string_view prefix : prefixes) {
        for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + 1)) {
            auto end = pos + prefix.size();
            while (end < text.size() &&
                   (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '*' || text[end] == '_'))
                ++end;
            if (end == pos + prefix.size()) continue;
            text.replace(pos + prefix.size(), end - pos - prefix.size(), "[redacted]");
        }
    }
    return text;
}

}  // namespace detail

// ------------------------------------------------------------------ retrieve

void client::impl::check_retrieve_path(const std::string& path) {
    if (path.empty() || path.front() != '/' ||
        std::any_of(path.begin(), path.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
        throw std::invalid_argument("retrieve: path must be an encoded path like /v1/subscriptions/sub_123");
}

asio::awaitable<std::pair<boost::json::object, std::string>> client::impl::retrieve_one(std::string path) {
    check_retrieve_path(path);
    // Moved, never assigned: an assignment across storages copies the whole object.
    std::optional<boost::json::value> parsed;
    http_response response = co_await request("retrieve " + path, path, [&parsed](const std::string& body) {
        parsed.emplace(parse_json(body));
        if (!parsed->is_object()) throw parse_error("expected a JSON object");
    });
    co_return std::pair<boost::json::object, std::string>{std::move(parsed->as_object()), std::move(response.request_id)};
}

asio::awaitable<void> client::impl::retrieve_worker(const std::vector<std::string>& paths,
                                                    std::vector<retrieved>& out, std::size_t& next,
                                                    bool allow_missing) {
    ++cursors;
    struct ended {
        impl& self;
        ~ended() { self.cursor_ended(); }
    } guard{*this};
    // `next` is shared by all workers; single-threaded, so no lock.
    while (next < paths.size()) {
        const std::size_t i = next++;
        out[i].path = paths[i];
        try {
            auto [object, request_id] = co_await retrieve_one(paths[i]);
            out[i].object = std::move(object);
            out[i].request_id = std::move(request_id);
        } catch (const stripe_error& e) {
            if (!allow_missing || e.http_status() != 404) throw;
            out[i].request_id = e.request_id();
        }
    }
}

// ------------------------------------------------------------------ client

client::client(transport& t, client_options opts, sleeper sleep, clock now) {
    auto bad = [](const std::string& what) { return std::invalid_argument("stripe client options: " + what); };
    if (opts.max_retries < 0 || opts.max_retries > 100) throw bad("max_retries must be in 0..100");
    if (opts.base_delay <= milliseconds::zero() || opts.max_delay < opts.base_delay)
        throw bad("need 0 < base_delay <= max_delay");
    if (opts.rate_limited_base_delay <= milliseconds::zero() ||
        opts.rate_limited_max_delay < opts.rate_limited_base_delay)
        throw bad("need 0 < rate_limited_base_delay <= rate_limited_max_delay");
    if (opts.max_retry_after < milliseconds::zero()) throw bad("max_retry_after must not be negative");
    if (!(opts.requests_per_second > 0) || !std::isfinite(opts.requests_per_second))
        throw bad("requests_per_second must be positive");
    if (opts.burst != 0 && !(opts.burst >= 1)) throw bad("burst must be 0 (default) or at least 1");
    if (opts.concurrency < 1 || opts.concurrency > 64) throw bad("concurrency must be in 1..64");
    if (opts.page_limit < 1 || opts.page_limit > 100) throw bad("page_limit must be in 1..100");
    impl_ = std::make_unique<impl>(t, std::move(opts), std::move(sleep), std::move(now));
}

client::~client() = default;

client_stats client::stats() const { return impl_->stats; }

asio::awaitable<void> client::list_all(list_query q, page_sink sink) {
    const std::string what = "list " + q.resource + ": ";
    if (q.resource.empty() || q.resource.front() != '/' ||
        q.resource.find_first_of("?# \r\n") != std::string::npos)
        throw std::invalid_argument(what + "resource must be a path like /v1/events");
    if (q.created_lt <= q.created_gte)
        throw std::invalid_argument(what + "empty window [" + std::to_string(q.created_gte) + ", " +
                                    std::to_string(q.created_lt) + ")");
    if (!sink) throw std::invalid_argument(what + "no page sink");

    std::string fixed_query = "limit=" + std::to_string(impl_->opts.page_limit);
    for (const auto& [key, value] : q.params) {
        if (key == "limit" || key.rfind("created", 0) == 0 || key == "starting_after" || key == "ending_before")
            throw std::invalid_argument(what + "parameter " + key + " is set by the client itself");
        fixed_query += "&" + detail::url_encode(key) + "=" + detail::url_encode(value);
    }

    const int workers = impl_->opts.concurrency;
    auto ex = co_await asio::this_coro::executor;
    impl::list_run run{q, fixed_query, sink, workers, {}, {}, {}, false, false,
                       asio::steady_timer(ex, asio::steady_timer::time_point::max())};
    run.pieces.push_back(impl::piece{q.created_gte, q.created_lt, {}, std::nullopt, false, 0, false, 0});
    run.queue.push_back(0);
    // The window's own piece is a cursor whatever the others hold: every
    // list gets one, only splits wait for room.
    ++impl_->cursors;
    impl_->runs.push_back(&run);
    struct unregister {
        impl& self;
        impl::list_run& run;
        ~unregister() {
            std::erase(self.runs, &run);
            self.cursors -= static_cast<int>(run.queue.size());  // pieces a failure left unstarted
        }
    } guard{*impl_, run};

    using op_type = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
    std::vector<op_type> ops;
    for (int i = 0; i < workers; ++i) ops.push_back(asio::co_spawn(ex, impl_->worker(run), asio::deferred));

    // The first failure cancels the other workers; it is the root cause, the
    // others then fail with operation_aborted.
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    for (std::size_t i : order)
        if (errors[i]) std::rethrow_exception(errors[i]);
}

asio::awaitable<std::pair<boost::json::object, std::string>> client::retrieve(std::string path) {
    co_return co_await impl_->retrieve_one(std::move(path));
}

asio::awaitable<std::vector<retrieved>> client::retrieve_all(std::vector<std::string> paths, bool allow_missing) {
    for (const auto& path : paths) impl::check_retrieve_path(path);
    std::vector<retrieved> out(paths.size());
    if (paths.empty()) co_return out;
    std::size_t next = 0;
    auto ex = co_await asio::this_coro::executor;
    using op_type = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
    std::vector<op_type> ops;
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(impl_->opts.concurrency), paths.size());
    for (std::size_t i = 0; i < n; ++i)
        ops.push_back(asio::co_spawn(ex, impl_->retrieve_worker(paths, out, next, allow_missing), asio::deferred));
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    for (std::size_t i : order)
        if (errors[i]) std::rethrow_exception(errors[i]);
    co_return out;
}

}  // namespace reconciler::stripe
