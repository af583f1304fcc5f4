// `reconciler replay EVENT_ID --forward-to URL`: runbook §4 ("re-run the
// most recent webhook events") without the Stripe CLI.
//
// Contract:
//  - Refused before anything is fetched or sent (std::invalid_argument /
//    config_error, exit 2): an event id that is not [A-Za-z0-9_]+, a URL
//    forward_url rejects (plain http:// to a non-loopback host, ...), a
//    missing Stripe key or webhook secret, a database without the
//    reconciler's schema.
//  - The event is fetched with GET /v1/events/EVENT_ID through the Stripe
//    client (configured key, rate limit, retries); a failure there throws
//    stripe::stripe_error (exit 1) and records nothing: the app was not tried.
//  - The event object is serialized once; those exact bytes are signed
//    (Stripe-Signature: t=<now>,v1=<HMAC-SHA256 with webhook.secret>) and
//    POSTed once with Content-Type: application/json and
//    User-Agent: stripe-reconciler/0.1 (replay).
//  - An answer other than 2xx, or no answer, is a failed attempt: it is
//    recorded as escalation input (team billing_engineering, kind
//    webhook_replay_failed, subject EVENT_ID, watch_until 2), so the second
//    failure opens the escalation ("if the event fails twice, escalate").
//    A success changes no escalation.
//  - One `webhook_replayed` JSON log line per attempt (event id and type, the
//    URL without its query string, status, attempt number). The Stripe key
//    and the webhook secret are registered for redaction and never printed.
#pragma once

#include "config/config.hpp"
#include "store/store.hpp"
#include "stripe/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>

#include <cstdint>
#include <optional>
#include <string>

namespace reconciler {

struct replay_options {
    std::string event_id;
    std::string forward_to;
    std::string ca_file;  // for the app's endpoint; empty: the system CA store
};

struct replay_result {
    std::string event_id;
    std::string event_type;
    std::string stripe_request_id;
    std::string url_for_log;        // without the query string
    bool delivered = false;         // the app answered
    unsigned status = 0;            // its HTTP status when delivered
    std::string body_head;          // the first 500 bytes of its answer, redacted
    std::string error;              // why there was no (complete) answer
    int attempt = 1;                // this replay's number in the current run of failures
    std::optional<store::escalation> escalation;  // raised by a failure

    bool succeeded() const { return delivered && status >= 200 && status < 300; }
};

// See the contract above.
replay_result replay_event(const config& cfg, const replay_options& opts);

// Steps 1-3 of the contract with the caller's client and store (`run` uses
// it for the `replay` correction policy). Throws std::runtime_error when the
// event cannot be fetched (nothing sent, nothing recorded).
boost::asio::awaitable<replay_result> replay_one(stripe::client& client, store::store& db,
                                                 const std::string& webhook_secret, const replay_options& opts,
                                                 std::chrono::milliseconds timeout);

// The human summary printed on stdout.
std::string format_replay(const replay_result& r);

}  // namespace reconciler
