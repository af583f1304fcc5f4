// The run's delivery step (issue 20): the outbox's due rows sent to each
// team's routes through a deliver::sender, at the end of a run (after its
// escalations are raised and resolved, before the report) and once per
// daemon cycle.
//
// Contract:
//  - Never throws for a delivery: a receiver's refusal, a timeout or a store
//    error while marking is logged (route, status, error: never a secret)
//    and counted. Corrections are committed before this step runs.
//  - Bounded: no attempt starts after `budget`; one in flight may finish
//    (each has the sender's own deadline). A retry (no answer, 408, 429,
//    5xx) backs off exponentially with jitter, at least Retry-After, capped;
//    retried again within the step while the budget allows, else left
//    pending with its next attempt time for the next run. After
//    max_attempts (over runs), or a refusal for good, the row is failed.
//  - Secrets: read once by read_delivery_routes and registered with
//    log::add_secret; a Slack URL is checked (https, or loopback http)
//    without being echoed.
#pragma once

#include "config/config.hpp"
#include "deliver/sender.hpp"
#include "report/run_result.hpp"
#include "store/outbox.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reconciler::pipeline {

// The routes of `escalations.routes` with their secrets read.
struct delivery_routes {
    std::map<std::string, deliver::endpoint> endpoints;               // by route name
    std::map<std::string, std::vector<std::string>> team_routes;      // team -> route names
    bool empty() const noexcept { return endpoints.empty(); }
};

// Reads every route's secret (config_error naming the key when one is
// missing, or a Slack URL that is not https). No routes: empty.
delivery_routes read_delivery_routes(const escalations_config& cfg);

struct delivery_options {
    std::int64_t run_id = 0;
    int max_attempts = 8;
    // Attempts of one delivery within one step: a receiver down for one run
    // (a deploy, a short outage) spends only these of its max_attempts, so
    // the next runs still deliver once it is back.
    int attempts_per_step = 3;
    std::chrono::milliseconds budget{60'000};     // the whole step
    std::chrono::milliseconds backoff_base{1'000};
    std::chrono::milliseconds backoff_cap{60'000};  // a Retry-After may ask for more (up to an hour)
    int batch = 200;                               // rows read at a time
    // The run's key mode and connected account, for Dashboard links.
    std::optional<bool> livemode;
    std::string stripe_account;
};

struct route_tally {
    std::int64_t sent = 0, failed = 0, retried = 0;
};

// What one step did.
struct delivery_tally {
    std::int64_t sent = 0;
    std::int64_t failed = 0;   // given up on in this step
    std::int64_t retried = 0;  // attempts that will be tried again
    std::int64_t left_pending = 0;  // retried and left for the next run
    std::map<std::string, route_tally> by_route;
};

boost::asio::awaitable<delivery_tally> deliver_due(store::outbox& db, deliver::sender& sender,
                                                   const delivery_routes& routes, const delivery_options& opts);

// The run's (and each daemon cycle's) step: the HTTPS sender made here (the
// one place), deliver_due within escalations.delivery.budget_seconds (60 s),
// then the outbox's counts into `result`. Never throws.
boost::asio::awaitable<void> deliver_for_run(store::outbox& db, const escalations_config& cfg,
                                             const delivery_routes& routes, run_result& result);

// PagerDuty's severity for an escalation kind: critical | error | warning | info.
const char* severity_of(const std::string& kind) noexcept;

// The event one outbox row sends.
deliver::escalation_event event_of(const store::outbox_delivery& row, const delivery_options& opts);

}  // namespace reconciler::pipeline
