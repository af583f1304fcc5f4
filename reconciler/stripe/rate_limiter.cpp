#include "stripe/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace reconciler::stripe::detail {

rate_limiter::rate_limiter(double requests_per_second, double burst, clock_fn clock, double min_rate)
    : budget_(requests_per_second),
      burst_(burst),
      min_rate_(std::min(min_rate, requests_per_second)),
      rate_(requests_per_second),
      clock_(std::move(clock)) {
    if (!(requests_per_second > 0) || !std::isfinite(requests_per_second))
        throw std::invalid_argument("rate limiter: requests_per_second must be positive, got " +
                                    std::to_string(requests_per_second));
    if (!(burst >= 1) || !std::isfinite(burst))
        throw std::invalid_argument("rate limiter: burst must be at least 1, got " + std::to_string(burst));
}

rate_limiter::time_point rate_limiter::now() const {
    return clock_ ? clock_() : std::chrono::steady_clock::now();
}

std::chrono::nanoseconds rate_limiter::interval() const {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(1e9 / rate_)));
}

std::chrono::nanoseconds rate_limiter::tolerance() const {
    // The burst shrinks with the rate, so a slowed-down limiter cannot
    // release a full-budget burst: the credit in *time* never exceeds
    // (burst - 1) / budget, which keeps the guarantee in the header.
    const double tokens = std::max(1.0, burst_ * rate_ / budget_);
    return std::chrono::nanoseconds(static_cast<std::int64_t>((tokens - 1.0) * 1e9 / rate_));
}

std::chrono::nanoseconds rate_limiter::reserve() {
    const time_point t = now();
    if (!started_) {
        tat_ = t;  // start with a full bucket
        started_ = true;
    }
    const time_point tat = std::max(tat_, t);
    const time_point allowed = tat - tolerance();
    tat_ = tat + interval();
    return allowed > t ? std::chrono::duration_cast<std::chrono::nanoseconds>(allowed - t)
                       : std::chrono::nanoseconds::zero();
}

void rate_limiter::on_rate_limited() {
    rate_ = std::max(min_rate_, rate_ / 2);
    // Stripe says we are over: spend no saved-up credit on top of that.
    const time_point t = now();
    if (!started_) {
        tat_ = t;
        started_ = true;
    }
    tat_ = std::max(tat_, t + tolerance());
}

void rate_limiter::on_success() {
    rate_ = std::min(budget_, rate_ + budget_ / 100);
}

}  // namespace reconciler::stripe::detail
