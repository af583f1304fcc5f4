// What each channel is sent: pure functions from an escalation_event to the
// request body (and, for the generic webhook, its signature headers).
// No I/O, no clock: the caller passes the signing time. Tested on exact JSON.
//
// Contract:
//  - pagerduty_payload(): PagerDuty Events API v2 (POST /v2/enqueue).
//    trigger: {routing_key, event_action, dedup_key, payload: {summary
//    (<= 1024 characters), source "stripe-reconciler", severity, component:
//    kind, group: team, custom_details: {evidence (an object when the text is
//    JSON), subject, escalation_id, run_id}}, links: [{href, text}] when a
//    dashboard_url is given}. resolve: {routing_key, event_action, dedup_key}
//    only. dedup_key is the event's (<= 255 characters: a longer one is cut
//    and ends in the SHA-256 of the whole, so it stays stable and distinct).
//  - slack_payload(): an incoming webhook message {text (the fallback),
//    blocks}; every text from the escalation is escaped for mrkdwn (& < >)
//    and the evidence summary is bounded; a resolve is one short line.
//  - webhook_payload(): the escalation as JSON {event, id, dedup_key, team,
//    kind, subject, status, severity, summary, evidence (object), dashboard_url,
//    first_seen, run_id}; webhook_headers() signs exactly those bytes:
//    X-Reconciler-Signature: t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//    (Stripe's scheme, stripe/webhook_signature.hpp) and X-Reconciler-Event-Id.
#pragma once

#include "deliver/sender.hpp"
#include "stripe/https_post.hpp"  // header_list

#include <cstdint>
#include <string>
#include <string_view>

namespace reconciler::deliver {

inline constexpr std::size_t pagerduty_summary_max = 1024;
inline constexpr std::size_t pagerduty_dedup_key_max = 255;
inline constexpr std::size_t slack_evidence_max = 1500;

const char* to_string(action a) noexcept;  // "trigger" | "resolve"
const char* to_string(channel c) noexcept;  // "pagerduty" | "slack" | "webhook"

std::string pagerduty_payload(const std::string& routing_key, const escalation_event& e);
std::string pagerduty_dedup_key(const std::string& dedup_key);

std::string slack_payload(const escalation_event& e);
std::string slack_escape(std::string_view text);  // & < > for mrkdwn

std::string webhook_payload(const escalation_event& e);
std::string webhook_event_id(const escalation_event& e);
stripe::header_list webhook_headers(std::string_view secret, std::int64_t t, std::string_view body,
                                    const escalation_event& e);

}  // namespace reconciler::deliver
