#include "stripe/client.hpp"

#include "stripe/rate_limiter.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
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

namespace {

bool is_2xx(unsigned status) { return status >= 200 && status < 300; }

// Why a failed attempt is (or is not) worth another.
struct verdict {
    bool retry = false;
    std::string reason;  // short, for the retry log
};

std::string with_request_id(std::string s, const std::string& request_id) {
    if (!request_id.empty()) s += " (" + request_id + ")";
    return s;
}

std::string status_summary(const http_response& r, const std::optional<stripe_error_body>& body) {
    std::string s = std::to_string(r.status);
    if (body && !body->code.empty()) s += " " + body->code;
    else if (body && !body->type.empty()) s += " " + body->type;
    return s;
}

verdict classify_response(const transport_result& r, const std::optional<stripe_error_body>& body) {
    if (r.error != transport_error::none) {
        switch (r.error) {
            case transport_error::connect:
            case transport_error::reset:
            case transport_error::truncated:
            case transport_error::timeout:
                return {true, std::string(to_string(r.error)) + ": " + r.detail};
            default:
                return {false, std::string(to_string(r.error)) + ": " + r.detail};
        }
    }
    const http_response& res = r.response;
    const std::string summary = with_request_id(status_summary(res, body), res.request_id);
    // Stripe's own verdict wins over the status code, both ways.
    if (res.should_retry) {
        return *res.should_retry ? verdict{true, summary + ", Stripe-Should-Retry: true"}
                                 : verdict{false, summary + ", Stripe-Should-Retry: false"};
    }
    if (res.status == 409 || res.status == 429 || res.status >= 500) return {true, summary};
    return {false, summary};
}

}  // namespace

// ------------------------------------------------------------------ impl

struct client::impl {
    impl(transport& t, client_options o, sleeper s, clock c)
        : transport_(t),
          opts(std::move(o)),
          sleep(std::move(s)),
          limiter(opts.requests_per_second,
                  opts.burst > 0 ? opts.burst : std::max(1.0, opts.requests_per_second / 4), std::move(c)),
          rng(opts.jitter_seed != 0 ? opts.jitter_seed : std::random_device{}()) {
        if (!sleep) {
            sleep = [](milliseconds d) -> asio::awaitable<void> {
                asio::steady_timer timer(co_await asio::this_coro::executor, d);
                co_await timer.async_wait(asio::use_awaitable);
            };
        }
    }

    transport& transport_;
    client_options opts;
    sleeper sleep;
    detail::rate_limiter limiter;
    std::mt19937_64 rng;
    client_stats stats;

    // Waits for this request's slot in the shared budget.
    asio::awaitable<void> throttle() {
        const auto wait = limiter.reserve();
        if (wait > std::chrono::nanoseconds::zero()) co_await sleep(std::chrono::ceil<milliseconds>(wait));
    }

    milliseconds backoff(int n, const transport_result& r) {
        if (r.error == transport_error::none && r.response.retry_after)
            return std::min(*r.response.retry_after, opts.max_retry_after);
        const bool rate_limited = r.error == transport_error::none && r.response.status == 429;
        const milliseconds base = rate_limited ? opts.rate_limited_base_delay : opts.base_delay;
        const milliseconds cap = rate_limited ? opts.rate_limited_max_delay : opts.max_delay;
        const double exp = std::ldexp(static_cast<double>(base.count()), std::min(n - 1, 30));
        const double ceiling = std::min(exp, static_cast<double>(cap.count()));
        const double factor = std::uniform_real_distribution<double>(0.5, 1.0)(rng);
        const auto jittered = milliseconds(static_cast<milliseconds::rep>(ceiling * factor));
        return std::max(jittered, base);
    }

    [[noreturn]] void fail(const std::string& action, const transport_result& r,
                           const std::optional<stripe_error_body>& body, const std::string& parse_problem,
                           bool exhausted, int retries) const {
        stripe_error::details d;
        d.action = action;
        d.retries_exhausted = exhausted;
        d.retries = retries;
        d.transport = r.error;
        std::string what = action;
        if (r.error != transport_error::none) {
            d.message = detail::redact_secrets(r.detail, opts.redact);
            what += ": " + std::string(to_string(r.error)) + ": " + d.message;
        } else {
            const http_response& res = r.response;
            d.http_status = res.status;
            d.request_id = res.request_id;
            what = with_request_id(what, res.request_id) + ": " + std::to_string(res.status);
            if (!parse_problem.empty()) {
                d.message = detail::redact_secrets(parse_problem, opts.redact);
                what += " malformed response body: " + d.message;
            } else if (body) {
                d.type = body->type;
                d.code = body->code;
                d.message = detail::redact_secrets(body->message, opts.redact);
                if (!d.code.empty()) what += " " + d.code;
                if (!d.type.empty()) what += d.code.empty() ? " " + d.type : " (" + d.type + ")";
                if (!d.message.empty()) what += ": " + d.message;
                if (!body->param.empty()) what += " [param " + body->param + "]";
            } else {
                // A non-Stripe body (proxy page, HTML): its size says enough, its
                // content could echo anything.
                what += ": non-Stripe error body (" + std::to_string(res.body.size()) + " bytes)";
            }
            if (res.should_retry == false) what += "; Stripe-Should-Retry: false";
        }
        if (exhausted) what += "; gave up after " + std::to_string(retries) + " retries";
        throw stripe_error(detail::redact_secrets(std::move(what), opts.redact), std::move(d));
    }

    // One logical request with the retry rules of client.hpp. `parse` turns a
    // 2xx body into T and throws on a malformed one.
    template <class T, class Parse>
    asio::awaitable<std::pair<http_response, T>> request(const std::string& action, const std::string& target,
                                                         Parse parse) {
        for (int retries = 0;;) {
            co_await throttle();
            ++stats.requests;
            transport_result r = co_await transport_.get(target);

            std::optional<stripe_error_body> body;
            std::string parse_problem;
            verdict v;
            if (r.error == transport_error::none && is_2xx(r.response.status)) {
                try {
                    T value = parse(r.response.body);
                    limiter.on_success();
                    co_return std::pair<http_response, T>{std::move(r.response), std::move(value)};
                } catch (const std::bad_alloc&) {
                    throw;
                } catch (const std::exception& e) {
                    // A 2xx that does not parse is a broken hop, not an answer.
                    ++stats.malformed;
                    parse_problem = e.what();
                    v = {true, with_request_id(std::to_string(r.response.status) + " malformed body",
                                               r.response.request_id) +
                                   ": " + detail::redact_secrets(parse_problem, opts.redact)};
                }
            } else {
                if (r.error == transport_error::none) {
                    body = parse_error_body(r.response.body);
                    if (r.response.status == 429) {
                        ++stats.rate_limited;
                        limiter.on_rate_limited();
                    }
                }
                v = classify_response(r, body);
            }

            if (!v.retry) fail(action, r, body, parse_problem, false, retries);
            if (retries >= opts.max_retries) fail(action, r, body, parse_problem, true, retries);
            ++retries;
            const milliseconds delay = backoff(retries, r);
            ++stats.retries;
            if (stats.retry_log.size() < 1000)
                stats.retry_log.push_back({action, detail::redact_secrets(v.reason, opts.redact), delay});
            co_await sleep(delay);
        }
    }

    asio::awaitable<void> page_window(const list_query& q, const std::string& fixed_query,
                                      std::pair<std::int64_t, std::int64_t> window, const page_sink& sink) {
        const std::string object = q.resource + " created [" + std::to_string(window.first) + ", " +
                                   std::to_string(window.second) + ")";
        const std::string window_query = fixed_query + "&created%5Bgte%5D=" + std::to_string(window.first) +
                                         "&created%5Blt%5D=" + std::to_string(window.second);
        std::string after;
        for (int page_no = 1;; ++page_no) {
            const std::string action = "fetch " + object + " page " + std::to_string(page_no);
            std::string target = q.resource + "?" + window_query;
            if (!after.empty()) target += "&starting_after=" + detail::url_encode(after);

            auto [response, envelope] = co_await request<list_envelope>(
                action, target, [](const std::string& body) { return parse_list_envelope(body); });

            // The cursor must come out before the envelope is handed over.
            if (envelope.has_more) {
                // Paging on would loop or skip: a broken peer, not worth a retry.
                auto bad_page = [&](const std::string& why) {
                    stripe_error::details d;
                    d.action = action;
                    d.http_status = response.status;
                    d.request_id = response.request_id;
                    d.message = why;
                    return stripe_error(with_request_id(action, response.request_id) + ": " + why, std::move(d));
                };
                if (envelope.data.empty()) throw bad_page("has_more is true on an empty page");
                const auto* last = envelope.data.back().if_object();
                const auto* id = last ? last->if_contains("id") : nullptr;
                if (!id || !id->is_string() || id->as_string().empty())
                    throw bad_page("the last object has no string id to continue from");
                std::string next(id->as_string());
                if (next == after) throw bad_page("the page ends at the cursor it started after (" + next + ")");
                after = std::move(next);
            }

            list_page_info info;
            info.resource = q.resource;
            info.page_no = page_no;
            info.request_id = response.request_id;
            info.object_count = envelope.data.size();
            info.has_more = envelope.has_more;
            ++stats.pages;
            stats.objects += envelope.data.size();
            const bool more = envelope.has_more;
            sink(info, std::move(envelope));
            if (!more) co_return;
        }
    }

    asio::awaitable<void> worker(const list_query& q, const std::string& fixed_query,
                                 const std::vector<std::pair<std::int64_t, std::int64_t>>& slices,
                                 std::size_t& next, const page_sink& sink) {
        // `next` is shared by all workers; single-threaded, so no lock.
        while (next < slices.size()) {
            const auto window = slices[next++];
            co_await page_window(q, fixed_query, window, sink);
        }
    }
};

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
    if (opts.slices_per_worker < 1 || opts.slices_per_worker > 64) throw bad("slices_per_worker must be in 1..64");
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
    const auto slices = detail::split_window(q.created_gte, q.created_lt,
                                             workers == 1 ? 1 : workers * impl_->opts.slices_per_worker);
    std::size_t next = 0;

    auto ex = co_await asio::this_coro::executor;
    using op_type = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
    std::vector<op_type> ops;
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(workers), slices.size());
    for (std::size_t i = 0; i < n; ++i)
        ops.push_back(asio::co_spawn(ex, impl_->worker(q, fixed_query, slices, next, sink), asio::deferred));

    // The first failure cancels the other workers; it is the root cause, the
    // others then fail with operation_aborted.
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    for (std::size_t i : order)
        if (errors[i]) std::rethrow_exception(errors[i]);
}

asio::awaitable<std::pair<boost::json::object, std::string>> client::retrieve(std::string path) {
    if (path.empty() || path.front() != '/' ||
        std::any_of(path.begin(), path.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
        throw std::invalid_argument("retrieve: path must be an encoded path like /v1/subscriptions/sub_123");
    auto [response, object] = co_await impl_->request<boost::json::object>(
        "retrieve " + path, path, [](const std::string& body) {
            boost::json::value v = parse_json(body);
            if (!v.is_object()) throw parse_error("expected a JSON object");
            return std::move(v.as_object());
        });
    co_return std::pair<boost::json::object, std::string>{std::move(object), std::move(response.request_id)};
}

}  // namespace reconciler::stripe
