// The generic webhook: the escalation as JSON, signed the way Stripe signs
// its own webhooks, so a receiver verifies it with code it may already have.
#include "deliver/payload_text.hpp"
#include "deliver/payloads.hpp"

#include "stripe/webhook_signature.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace reconciler::deliver {

namespace json = boost::json;

std::string webhook_payload(const escalation_event& e) {
    return json::serialize(json::object{{"event", std::string("escalation.") + to_string(e.what)},
                                        {"id", e.escalation_id},
                                        {"dedup_key", e.dedup_key},
                                        {"team", e.team},
                                        {"kind", e.kind},
                                        {"subject", e.subject},
                                        {"status", e.status},
                                        {"severity", e.severity},
                                        {"summary", e.summary},
                                        {"evidence", detail::evidence_value(e.evidence)},
                                        {"dashboard_url", e.dashboard_url},
                                        {"first_seen", e.first_seen},
                                        {"run_id", e.run_id}});
}

std::string webhook_event_id(const escalation_event& e) {
    if (!e.delivery_id.empty()) return "dlv_" + e.delivery_id;
    // Without the outbox's id: the same for every retry of one delivery (same
    // escalation, action, key and first_seen).
    return "esc_" + std::to_string(e.escalation_id) + "_" + to_string(e.what) + "_" +
           detail::sha256_hex(e.dedup_key + "\n" + e.first_seen).substr(0, 16);
}

stripe::header_list webhook_headers(std::string_view secret, std::int64_t t, std::string_view body,
                                    const escalation_event& e) {
    return {{"X-Reconciler-Signature", stripe::stripe_signature_header(secret, t, body)},
            {"X-Reconciler-Event-Id", webhook_event_id(e)}};
}

}  // namespace reconciler::deliver
