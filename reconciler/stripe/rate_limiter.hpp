// The request-rate budget shared by every worker of a client.
//
// A GCRA (virtual-scheduling token bucket) that hands out send slots by
// reservation: reserve() books the next slot and says how long the caller
// must wait for it, so concurrent callers queue in call order without a
// lock or a wake-up protocol. Guarantee, for any interval of length L:
//     requests sent in it <= L * budget + burst
// which also bounds the long-run average by the budget. The rate adapts
// (AIMD) to Stripe's verdict: on a 429 it halves (down to min_rate) and the
// accumulated burst credit is dropped, so every worker slows down at once;
// each success adds budget/100 back, never above the budget.
//
// Not thread-safe: all callers run on one io_context thread. No I/O, no
// sleeping: the caller awaits the returned delay (tests inject a clock).
#pragma once

#include <chrono>
#include <functional>

namespace reconciler::stripe::detail {

class rate_limiter {
public:
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    // requests_per_second > 0; burst >= 1 (tokens available after idling);
    // clock empty: std::chrono::steady_clock::now.
    rate_limiter(double requests_per_second, double burst, clock_fn clock = {}, double min_rate = 1.0);

    // Books the next send slot; returns how long to wait before sending (zero: now).
    std::chrono::nanoseconds reserve();

    void on_rate_limited();  // multiplicative decrease
    void on_success();       // additive increase

    double current_rate() const noexcept { return rate_; }
    double budget() const noexcept { return budget_; }
    double burst() const noexcept { return burst_; }

private:
    using time_point = std::chrono::steady_clock::time_point;
    time_point now() const;
    std::chrono::nanoseconds interval() const;   // 1 / current rate
    std::chrono::nanoseconds tolerance() const;  // burst credit at the current rate

    double budget_;
    double burst_;
    double min_rate_;
    double rate_;
    clock_fn clock_;
    bool started_ = false;
    time_point tat_{};  // theoretical arrival time of the next request
};

}  // namespace reconciler::stripe::detail
