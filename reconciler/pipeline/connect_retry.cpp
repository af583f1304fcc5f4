#include "pipeline/connect_retry.hpp"

#include "core/json_log.hpp"
#include "store/errors.hpp"

#include <cstdio>

namespace reconciler {

namespace {

// 1.5s, 60s: as the config would say it (`whole`: 2s rather than 2.0s).
std::string seconds_text(std::chrono::milliseconds d, bool whole = false) {
    char buf[32];
    if (whole && d.count() % 1000 == 0)
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(d.count() / 1000));
    else std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace

std::chrono::milliseconds connect_backoff::next() {
    const auto base = base_;
    base_ = std::min(base_ * 2, std::chrono::milliseconds(8000));
    return std::chrono::milliseconds(std::uniform_int_distribution<long long>(base.count() * 3 / 4,
                                                                              base.count() * 5 / 4)(rng_));
}

std::chrono::milliseconds connect_retry::after(const store::postgres::server_unavailable& e) {
    ++attempts_;
    const auto tried = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_);
    if (retry_for_.count() == 0)
        throw store::schema_error(std::string(e.what()) + " (not retried: database.connect_retry_for is 0s)");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retry_for_) - tried;
    if (left.count() <= 0)
        throw store::schema_error(std::string(e.what()) + " (gave up after trying for " + seconds_text(tried) + ", " +
                                  std::to_string(attempts_) + " attempts: database.connect_retry_for is " +
                                  seconds_text(retry_for_, true) + ")");
    const auto wait = std::min(backoff_.next(), left);
    log::warn("database_connect_retry", {{"database", e.database()},
                                         {"reason", e.reason()},
                                         {"attempt", attempts_},
                                         {"retry_in", seconds_text(wait)},
                                         {"retrying_for", seconds_text(retry_for_, true)}});
    return wait;
}

std::string connect_retry::stopped(const store::postgres::server_unavailable& e) {
    return "stopped by a signal while waiting for PostgreSQL " + e.database() + " to answer (" + e.reason() + ")";
}

}  // namespace reconciler
