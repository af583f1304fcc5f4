// The simulator's HTTPS server: Stripe's read API on loopback, backed by a
// dataset, with reproducible fault injection for the client's resilience
// tests and benchmarks.
//
// Contract:
//  - The constructor returns once the socket is listening (port() is valid);
//    it throws std::runtime_error naming the step (TLS setup, bind, listen).
//  - Requests are served on one internal thread running coroutines, so many
//    concurrent keep-alive connections are fine. Nothing is written to stdout;
//    unexpected errors go to stderr, client disconnects are silent.
//  - Order of checks per request: Authorization (401), method (405, only
//    GET), then for /v1/ paths the rate limiter (429), injected faults,
//    forbidden resources (403), and the dataset's answer. Faults apply only
//    to authenticated /v1/ requests.
//  - Optional webhook receiver (server_options::webhook_secret non-empty):
//    `POST /webhook` (any query string) is answered before the checks above,
//    as the app's endpoint would: no Authorization, no faults, no rate
//    limit. It verifies Stripe-Signature against the raw body with
//    verify_stripe_signature (tolerance 300 s) and answers 200
//    {"received":true} or 400 {"error":"signature <verdict>"}; every
//    delivery is kept in server_stats::webhooks. With the secret empty,
//    POST /webhook is a 405 like every other POST.
//  - Every response carries Request-Id (req_ + 14 alphanumerics),
//    Content-Type: application/json, and Stripe-Version echoed when sent.
//  - The dataset answers at the request's Stripe-Version, or at
//    server_options::default_api_version (the account's default) when the
//    request sends none; an unsupported value is a 400 (see dataset.hpp).
//  - Fault decisions come from an RNG seeded with faults.seed: the same
//    sequence of requests meets the same faults.
//  - The destructor (or stop()) stops accepting, drops open connections and
//    joins the thread. stop() is idempotent and callable from any thread
//    except the server's own.
#pragma once

#include "stripe_sim/dataset.hpp"
#include "stripe_sim/tls_identity.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::sim {

struct fault_options {
    std::uint64_t seed = 1;
    std::chrono::milliseconds latency{0};  // added before every response
    double rate_429 = 0;        // fraction of requests answered 429 rate_limit; half of them carry Retry-After: 1, half none
    double rate_5xx = 0;        // 500/502/503 with api_error envelope; some with Stripe-Should-Retry: true
    double rate_reset = 0;      // close the connection without responding (TCP RST)
    double rate_truncated = 0;  // send headers with the full Content-Length, then only half the body, then close
    double rate_malformed = 0;  // 200 with a body that is not valid JSON
    double rate_stall = 0;      // wait `stall` before responding (past the client's deadline)
    std::chrono::milliseconds stall{60'000};
    double rate_slow_body = 0;  // send the body in small chunks with small delays (still complete)
};

struct server_options {
    std::string bind_address = "127.0.0.1";
    unsigned short port = 0;  // 0: an ephemeral port
    bool tls = true;          // false: plain HTTP (tests of the client's http refusal)
    tls_identity identity;    // required when tls
    std::string api_key;      // required bearer key (non-empty)
    std::shared_ptr<const dataset> data;  // required, finalized
    fault_options faults;
    double rate_limit_per_second = 0;  // 0: unlimited; else a token bucket (burst = one second's worth), excess answered 429 like Stripe
    std::string webhook_secret;        // non-empty: serve POST /webhook as a signature-checking receiver (see above)
    // Resources (dataset::resource_names(): "disputes", "prices",
    // "billing_portal/configurations", ...) the key may not read, like a
    // restricted key without that permission: their list and retrieve (however
    // the URL is percent-encoded) answer 403 invalid_request_error naming
    // dataset::read_permission(). An unknown name makes the constructor throw
    // std::invalid_argument.
    std::vector<std::string> forbidden_resources;
    // The version requests without Stripe-Version get, like an account's
    // default API version; one of dataset::supported_api_versions().
    std::string default_api_version = "2025-03-31.basil";
    // Test only: a rewriting proxy in front of "Stripe" (issue 19's hostile
    // objects). Given each 2xx GET's target and body, returns the body to
    // send; called on the server's threads, so it must be thread-safe. Empty:
    // bodies as the dataset renders them. No command-line flag sets it.
    std::function<std::string(std::string_view target, std::string body)> rewrite_body;
};

// One request to the webhook receiver.
struct webhook_delivery {
    std::string event_id;    // the body's "id" ("" when the body is not a JSON object with one)
    std::string event_type;  // the body's "type"
    std::string verdict;     // to_string(signature_check): valid, malformed, no_v1, mismatch, too_old
    unsigned status = 0;     // 200 or 400
    std::string user_agent;
    std::string content_type;
    std::string target;      // the request target as received (path and query)
};

struct server_stats {
    std::uint64_t requests = 0;         // every request read
    std::uint64_t ok = 0;               // 2xx answered with a complete, valid body
    std::uint64_t rate_limited = 0;     // 429s, from the limiter or injected
    std::uint64_t faults_injected = 0;  // every injected fault, 429s included
    std::uint64_t unauthorized = 0;     // 401s
    std::vector<webhook_delivery> webhooks;  // webhook receiver deliveries, oldest first (also counted in requests)
};

class server {
public:
    explicit server(server_options opts);  // listening when the constructor returns
    ~server();                             // stops and joins
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    unsigned short port() const;
    void stop();
    server_stats stats() const;  // thread-safe

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace reconciler::sim
