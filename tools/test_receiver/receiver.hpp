// A local HTTPS receiver for the escalation senders' tests (unit, in
// process) and for e2e tests and the demo (`delivery-receiver`, a real
// process): it stands in for PagerDuty, Slack or a team's webhook.
//
// Contract:
//  - The constructor returns once the socket listens (port() is valid); it
//    throws std::runtime_error naming the step (TLS setup, listen).
//  - Every request is recorded (method, target, headers, body, the answer
//    given: a status, or 0 for "hang") in memory (requests()) and, when
//    log_file is set, as one JSON line appended and flushed per request:
//    {"at_ms", "method", "path", "headers": {lowercase name: value},
//     "body", "answer", "signature"?}. "signature" is the verdict of
//    X-Reconciler-Signature against the raw body when webhook_secret is set.
//  - The answer is chosen by the rule of the request's path (no query),
//    else the default rule: `status` (body {"status":"success"}), or
//    `fail_status` with Retry-After (when given) for the first `fail_first`
//    requests to that path, or `hang`: the request is read and recorded and
//    never answered (the connection stays open until the client gives up or
//    the receiver stops).
//  - One thread runs the connections; stop() (or the destructor) closes
//    every connection, hung ones too, and joins it.
#pragma once

#include "stripe_sim/tls_identity.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace reconciler::test_receiver {

struct rule {
    unsigned status = 200;
    unsigned fail_first = 0;  // the first N requests to the path get fail_status
    unsigned fail_status = 500;
    std::string retry_after;  // sent with each failure when non-empty
    bool hang = false;
};

// "202", "500x3" (500 for the first 3, then `after`), "hang"; throws
// std::invalid_argument naming the text.
rule parse_rule(const std::string& text, unsigned after = 200);

struct receiver_options {
    std::string bind_address = "127.0.0.1";
    unsigned short port = 0;  // 0: an ephemeral port
    bool tls = true;
    sim::tls_identity identity;  // required when tls
    rule default_rule;
    std::map<std::string, rule> rules;  // by exact path, e.g. "/pagerduty"
    std::string log_file;               // JSON lines; "" : memory only
    std::string webhook_secret;         // non-empty: verify X-Reconciler-Signature
};

struct recorded_request {
    std::int64_t at_ms = 0;  // unix time, milliseconds
    std::string method, target, path;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    unsigned answer = 0;    // 0: hung
    std::string signature;  // "" (not checked), "valid", "mismatch", ...
};

class receiver {
public:
    explicit receiver(receiver_options options);
    ~receiver();
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;

    unsigned short port() const;
    std::vector<recorded_request> requests() const;
    // Waits until at least n requests were recorded; false on timeout.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// One record as the log's JSON line (without the newline).
std::string to_json_line(const recorded_request& r);

}  // namespace reconciler::test_receiver
