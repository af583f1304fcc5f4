// PagerDuty Events API v2: one alert per escalation, keyed by its stable
// dedup_key, so a trigger repeated after a crash updates the same alert and
// the resolve closes it.
#include "deliver/payload_text.hpp"
#include "deliver/payloads.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace reconciler::deliver {

namespace json = boost::json;

std::string pagerduty_dedup_key(const std::string& dedup_key) {
    if (dedup_key.size() <= pagerduty_dedup_key_max) return dedup_key;
    // PagerDuty refuses longer keys; a hash of the whole keeps it stable and distinct.
    const std::string hash = detail::sha256_hex(dedup_key);
    return dedup_key.substr(0, pagerduty_dedup_key_max - hash.size() - 1) + "#" + hash;
}

std::string pagerduty_payload(const std::string& routing_key, const escalation_event& e) {
    json::object body{{"routing_key", routing_key},
                      {"event_action", to_string(e.what)},
                      {"dedup_key", pagerduty_dedup_key(e.dedup_key)}};
    if (e.what == action::resolve) return json::serialize(body);

    json::object details{{"evidence", detail::evidence_value(e.evidence)},
                         {"subject", e.subject},
                         {"escalation_id", e.escalation_id},
                         {"run_id", e.run_id}};
    json::object payload{{"summary", detail::bounded(e.summary.empty() ? e.kind + " " + e.subject : e.summary,
                                                     pagerduty_summary_max)},
                         {"source", "stripe-reconciler"},
                         {"severity", e.severity.empty() ? "error" : e.severity},
                         {"component", e.kind},
                         {"group", e.team},
                         {"custom_details", std::move(details)}};
    body.emplace("payload", std::move(payload));
    if (!e.dashboard_url.empty())
        body.emplace("links", json::array{json::object{{"href", e.dashboard_url}, {"text", "Stripe Dashboard"}}});
    return json::serialize(body);
}

}  // namespace reconciler::deliver
