// A client request's retry rules (client.hpp): the shared rate budget,
// classification of a failed attempt, backoff with jitter, and the
// stripe_error a final failure becomes.
#include "stripe/client_impl.hpp"

#include "core/json_log.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <new>

namespace reconciler::stripe {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace detail {
namespace {

bool is_2xx(unsigned status) { return status >= 200 && status < 300; }

// Why a failed attempt is (or is not) worth another.
struct verdict {
    bool retry = false;
    std::string reason;  // short, for the retry log
};

}  // namespace

std::string with_request_id(std::string s, const std::string& request_id) {
    if (!request_id.empty()) s += " (" + request_id + ")";
    return s;
}

namespace {

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

// One retry on the log (warn: a few are normal, many say Stripe or the path
// to it is struggling): which request, what came back, which attempt is
// next and after how long. The query string is left out: the action names
// the window and page.
void log_retry(const std::string& action, const std::string& target, const transport_result& r,
               const verdict& v, int attempt, milliseconds wait) {
    boost::json::object f{{"action", action}, {"path", target.substr(0, target.find('?'))}};
    if (r.error == transport_error::none) {
        f["status"] = static_cast<std::int64_t>(r.response.status);
        if (!r.response.request_id.empty()) f["request_id"] = r.response.request_id;
    } else {
        f["status"] = to_string(r.error);
    }
    f["reason"] = v.reason;
    f["attempt"] = attempt;
    f["wait_ms"] = wait.count();
    log::warn("request_retry", std::move(f));
}

}  // namespace
}  // namespace detail

using namespace detail;

client::impl::impl(transport& t, client_options o, sleeper s, clock c)
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

// Waits for this request's slot in the shared budget.
asio::awaitable<void> client::impl::throttle() {
    const auto wait = limiter.reserve();
    if (wait > std::chrono::nanoseconds::zero()) co_await sleep(std::chrono::ceil<milliseconds>(wait));
}

milliseconds client::impl::backoff(int n, const transport_result& r) {
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

void client::impl::fail(const std::string& action, const transport_result& r,
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

asio::awaitable<http_response> client::impl::request(std::string action, std::string target, body_parser parse) {
    for (int retries = 0;;) {
        co_await throttle();
        ++stats.requests;
        transport_result r = co_await transport_.get(target);

        std::optional<stripe_error_body> body;
        std::string parse_problem;
        verdict v;
        if (r.error == transport_error::none && is_2xx(r.response.status)) {
            try {
                parse(r.response.body);
                limiter.on_success();
                co_return std::move(r.response);
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
        v.reason = detail::redact_secrets(v.reason, opts.redact);
        log_retry(action, target, r, v, retries + 1, delay);
        if (stats.retry_log.size() < 1000) stats.retry_log.push_back({action, v.reason, delay});
        co_await sleep(delay);
    }
}

}  // namespace reconciler::stripe
