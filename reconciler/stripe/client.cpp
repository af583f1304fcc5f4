#include "stripe/client.hpp"

#include "stripe/rate_limiter.hpp"

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
    struct list_run;

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

    // Cursors of every list_all (and retrieve_all) running on this client:
    // pieces queued or being paged, and retrieve workers. Splitting a piece
    // adds a cursor, and every cursor ends in a partial page; so a list
    // splits only while the client as a whole has fewer than `concurrency`,
    // which is all the parallelism the budget can use. (Per list, six lists
    // in flight would keep six times that, and pay for it in partial pages.)
    int cursors = 0;
    std::vector<list_run*> runs;  // idle workers to wake when a cursor ends

    void cursor_ended() {
        --cursors;
        for (auto* r : runs) r->notify();
    }
    bool may_split() const { return cursors < opts.concurrency; }

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

    // One list_all's shared state. Work is a set of disjoint pieces of the
    // window; each is paged newest-first by one worker at a time. A piece that
    // has proven dense (its last page said has_more) can be split by an idle
    // worker: the remaining range [gte, cursor's created] is halved, the older
    // half becomes a new piece, and the busy piece's next request asks for
    // created >= the split point. Pages already in flight may bring objects
    // below the new bound: they are dropped there (the new piece owns them)
    // and the piece ends. So requests go where the objects are: a sparse
    // list costs one request, a dense one keeps every worker busy to the end.
    struct piece {
        std::int64_t gte = 0, lt = 0;  // [gte, lt); gte rises when split
        std::string after;             // starting_after cursor ("" on the first page)
        std::optional<std::int64_t> after_created;  // the cursor object's created
        bool dense = false;            // its last page said has_more
        std::int64_t page_span = 0;    // seconds its last page spanned
        bool done = false;
        int page_no = 0;
    };

    struct list_run {
        const list_query& q;
        const std::string& fixed_query;
        const page_sink& sink;
        int workers;
        std::deque<piece> pieces;       // stable references on push_back
        std::deque<std::size_t> queue;  // pieces no worker has started
        std::vector<std::size_t> active;  // pieces being paged
        bool first_page_seen = false;
        bool failed = false;
        asio::steady_timer wake;  // never expires: cancel() wakes every idle worker

        void notify() { wake.cancel(); }
    };

    static std::optional<std::int64_t> created_of(const boost::json::value& v) {
        const auto* o = v.if_object();
        const auto* c = o ? o->if_contains("created") : nullptr;
        if (!c) return std::nullopt;
        if (c->is_int64()) return c->get_int64();
        if (c->is_uint64() && c->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
            return static_cast<std::int64_t>(c->get_uint64());
        return std::nullopt;
    }

    // Pages a piece still holds, judged by how many seconds its last page
    // spanned (0: not worth splitting, or unknown).
    static double pages_left(const piece& p) {
        if (p.done || !p.dense || !p.after_created || *p.after_created <= p.gte) return 0;
        return static_cast<double>(*p.after_created - p.gte) / static_cast<double>(std::max<std::int64_t>(1, p.page_span));
    }

    // A piece's last page is usually partial: pieces of fewer pages than
    // this cost more in partial pages than their parallelism saves (the
    // run keeps other lists in flight beside this one).
    static constexpr double min_pages_per_piece = 3;

    // Splits off the older half of the busy piece with the most pages left,
    // when each half keeps min_pages_per_piece (else splitting costs a
    // partial page and saves little); the new piece's index.
    std::optional<std::size_t> steal(list_run& run) {
        if (!may_split()) return std::nullopt;
        std::size_t best = 0;
        double most = 0;
        for (std::size_t i : run.active) {
            const double left = pages_left(run.pieces[i]);
            if (left > most) most = left, best = i;
        }
        if (most < 2 * min_pages_per_piece) return std::nullopt;
        piece& victim = run.pieces[best];
        const std::int64_t mid = victim.gte + (*victim.after_created - victim.gte + 1) / 2;  // gte < mid <= cursor's created
        piece older;
        older.gte = victim.gte;
        older.lt = mid;
        victim.gte = mid;
        run.pieces.push_back(std::move(older));
        ++cursors;
        return run.pieces.size() - 1;
    }

    // After the window's first page: how dense the list is says how many
    // pieces to start with (at most one per worker), so the workers start
    // at once instead of splitting one by one.
    void initial_split(list_run& run, piece& p) {
        if (run.workers < 2 || !p.dense || !p.after_created || *p.after_created <= p.gte) return;
        const std::int64_t parts = std::min<std::int64_t>(
            {static_cast<std::int64_t>(pages_left(p) / min_pages_per_piece) + 1, run.workers,
             *p.after_created + 1 - p.gte, 1 + std::max(0, opts.concurrency - cursors)});
        if (parts < 2) return;
        const auto windows = detail::split_window(p.gte, *p.after_created + 1, static_cast<int>(parts));
        p.gte = windows.front().first;  // the busy piece keeps the newest part
        for (std::size_t k = 1; k < windows.size(); ++k) {
            piece next;
            next.gte = windows[k].first;
            next.lt = windows[k].second;
            run.pieces.push_back(std::move(next));
            run.queue.push_back(run.pieces.size() - 1);
            ++cursors;
        }
    }

    asio::awaitable<void> page_piece(list_run& run, std::size_t index) {
        piece& p = run.pieces[index];
        for (;;) {
            ++p.page_no;
            const std::string window = "[" + std::to_string(p.gte) + ", " + std::to_string(p.lt) + ")";
            const std::string action = "fetch " + run.q.resource + " created " + window + " page " +
                                       std::to_string(p.page_no);
            std::string target = run.q.resource + "?" + run.fixed_query + "&created%5Bgte%5D=" +
                                 std::to_string(p.gte) + "&created%5Blt%5D=" + std::to_string(p.lt);
            if (!p.after.empty()) target += "&starting_after=" + detail::url_encode(p.after);

            auto [response, envelope] = co_await request<list_envelope>(
                action, target, [](const std::string& body) { return parse_list_envelope(body); });

            // A split while this page was in flight moved p.gte up: what lies
            // below it now belongs to the older piece, and so does the rest.
            bool more = envelope.has_more;
            auto& data = envelope.data;
            for (std::size_t k = 0; k < data.size(); ++k) {
                const auto created = created_of(data[k]);
                if (created && *created < p.gte) {
                    data.erase(data.begin() + static_cast<std::ptrdiff_t>(k), data.end());
                    more = false;
                    break;
                }
            }

            // The cursor must come out before the envelope is handed over.
            if (more) {
                // Paging on would loop or skip: a broken peer, not worth a retry.
                auto bad_page = [&](const std::string& why) {
                    stripe_error::details d;
                    d.action = action;
                    d.http_status = response.status;
                    d.request_id = response.request_id;
                    d.message = why;
                    return stripe_error(with_request_id(action, response.request_id) + ": " + why, std::move(d));
                };
                if (data.empty()) throw bad_page("has_more is true on an empty page");
                const auto* last = data.back().if_object();
                const auto* id = last ? last->if_contains("id") : nullptr;
                if (!id || !id->is_string() || id->as_string().empty())
                    throw bad_page("the last object has no string id to continue from");
                std::string next(id->as_string());
                if (next == p.after) throw bad_page("the page ends at the cursor it started after (" + next + ")");
                p.after = std::move(next);
                const auto top = p.after_created.value_or(p.lt);
                p.after_created = created_of(data.back());
                p.page_span = p.after_created ? top - *p.after_created : 0;
            }
            p.dense = more;
            p.done = !more;
            if (!run.first_page_seen) {
                run.first_page_seen = true;
                initial_split(run, p);
            }
            if (more) run.notify();  // idle workers may split this piece now

            list_page_info info;
            info.resource = run.q.resource;
            info.page_no = p.page_no;
            info.request_id = response.request_id;
            info.object_count = data.size();
            info.has_more = more;
            ++stats.pages;
            stats.objects += data.size();
            run.sink(info, std::move(envelope));
            if (!more) co_return;
        }
    }

    static void check_retrieve_path(const std::string& path) {
        if (path.empty() || path.front() != '/' ||
            std::any_of(path.begin(), path.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
            throw std::invalid_argument("retrieve: path must be an encoded path like /v1/subscriptions/sub_123");
    }

    asio::awaitable<std::pair<boost::json::object, std::string>> retrieve_one(std::string path) {
        check_retrieve_path(path);
        auto [response, object] = co_await request<boost::json::object>(
            "retrieve " + path, path, [](const std::string& body) {
                boost::json::value v = parse_json(body);
                if (!v.is_object()) throw parse_error("expected a JSON object");
                return std::move(v.as_object());
            });
        co_return std::pair<boost::json::object, std::string>{std::move(object), std::move(response.request_id)};
    }

    asio::awaitable<void> retrieve_worker(const std::vector<std::string>& paths, std::vector<retrieved>& out,
                                          std::size_t& next, bool allow_missing) {
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

    asio::awaitable<void> worker(list_run& run) {
        // Single-threaded: the shared state needs no lock.
        for (;;) {
            if (run.failed) co_return;
            std::optional<std::size_t> index;
            if (!run.queue.empty()) {
                index = run.queue.front();
                run.queue.pop_front();
            } else {
                index = steal(run);
            }
            if (index) {
                run.active.push_back(*index);
                std::exception_ptr error;
                try {
                    co_await page_piece(run, *index);
                } catch (...) {
                    error = std::current_exception();
                }
                std::erase(run.active, *index);
                cursor_ended();  // wakes idle workers here and in every other list
                if (error) {
                    run.failed = true;  // idle workers stop; the group reports this error
                    std::rethrow_exception(error);
                }
                continue;
            }
            if (run.active.empty()) co_return;  // nothing left to page or split
            co_await run.wake.async_wait(asio::as_tuple(asio::use_awaitable));
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) co_return;
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
