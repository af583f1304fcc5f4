// The run's first Stripe request: is the key one Stripe accepts, with read
// access to events? Asked before the run writes anything (no lock file, no
// run row, no report directory), so that a key problem is a setup error
// (exit 2) as the README's exit codes say, not a failed run.
#pragma once

#include "config/config.hpp"
#include "stripe/transport.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace reconciler::pipeline {

// GET /v1/events?limit=1 with `key`, no retry. A 401 (the key refused) or a
// 403 (no read access to events) throws config_error naming the key's source
// (stripe.key: env, file or credential; never the key) and Stripe's message,
// which names the permission. Any other failure is left to the run's own
// requests, which retry it and report it.
boost::asio::awaitable<void> check_key(stripe::transport& transport, const config& cfg, const std::string& key);

}  // namespace reconciler::pipeline
