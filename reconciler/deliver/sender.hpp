// Delivering an escalation to a team's pager or channel (issue 20): the
// contract between the outbox (store, pipeline) and the senders (this room).
//
// Contract:
//  - One send() is one attempt, with its own deadline. Network and HTTP
//    failures are values (`attempt`), never exceptions; retrying, backoff and
//    giving up belong to the caller (the outbox), so a slow receiver never
//    blocks corrections or fails a run.
//  - An endpoint's secret (PagerDuty routing key, webhook HMAC secret) and a
//    Slack webhook URL (its path is the credential) never appear in an
//    attempt's error, a log line or a report: errors name the route.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace reconciler::deliver {

enum class channel { pagerduty, slack, webhook };
enum class action { trigger, resolve };

// Where one route delivers; built from config (`escalations.routes`) with the
// secrets already read.
struct endpoint {
    channel kind = channel::webhook;
    std::string name;    // for messages: "<team>/<channel>", e.g. "data_platform/pagerduty"
    std::string url;     // https; http only to a loopback host (config checks both)
    std::string secret;  // pagerduty: routing key; webhook: HMAC secret; slack: empty
};

// What one delivery says about one escalation.
struct escalation_event {
    action what = action::trigger;
    std::int64_t escalation_id = 0;
    std::string dedup_key;  // store::escalation_key(): "kind:subject", stable across runs
    std::string team, kind, subject, status;
    std::string severity;       // PagerDuty's: critical | error | warning | info
    std::string summary;        // one line for a human
    std::string evidence;       // the escalation's evidence, JSON text
    std::string dashboard_url;  // the subject's Stripe Dashboard page, may be empty
    std::string first_seen;     // RFC 3339
    std::int64_t run_id = 0;
    // The outbox row's id, the same for every attempt of one delivery: the
    // generic webhook's X-Reconciler-Event-Id (idempotency for the receiver).
    // Empty: derived from escalation_id, action and first_seen.
    std::string delivery_id;
};

enum class outcome {
    sent,    // 2xx
    retry,   // no answer, timeout, 408, 429, 5xx: try again later
    failed,  // the receiver refused it for good (other 4xx): kept, counted, not retried
};

struct attempt {
    outcome result = outcome::retry;
    int http_status = 0;  // 0: no response (resolve, connect, TLS, deadline)
    std::string error;    // empty when sent; names the route and what failed
    std::chrono::seconds retry_after{0};  // the receiver's Retry-After, when it gave one
};

class sender {
public:
    virtual ~sender() = default;
    virtual boost::asio::awaitable<attempt> send(const endpoint& to, const escalation_event& e) = 0;
};

struct https_sender_options {
    std::string ca_file;  // empty: the system store (the same TLS rules as the Stripe client)
    std::chrono::milliseconds deadline{10'000};  // per attempt: connect + TLS + request + response
};

// The real sender: HTTPS POST (http to loopback) with the payload each
// channel expects (PagerDuty Events API v2, Slack incoming webhook, the
// generic webhook's JSON signed with HMAC-SHA256; payloads.hpp), classified
// by classify.hpp. The TLS context is made at the first https send; a CA
// file that cannot be loaded is an outcome::retry naming the setting.
std::unique_ptr<sender> make_https_sender(boost::asio::any_io_executor ex, const https_sender_options& options);

}  // namespace reconciler::deliver
