// Slack incoming webhook: one message per escalation event. Slack renders
// mrkdwn, so every text taken from Stripe or the app is escaped: a subject
// such as "<!channel>" must not ping a channel.
#include "deliver/payload_text.hpp"
#include "deliver/payloads.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace reconciler::deliver {

namespace json = boost::json;

std::string slack_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        default: out += c;
        }
    }
    return out;
}

namespace {

json::object mrkdwn_section(std::string text) {
    return json::object{{"type", "section"}, {"text", json::object{{"type", "mrkdwn"}, {"text", std::move(text)}}}};
}

// The evidence, compact, bounded before escaping (so an escape is never cut).
std::string evidence_summary(const escalation_event& e) {
    if (e.evidence.empty()) return "";
    const json::value v = detail::evidence_value(e.evidence);
    std::string text = v.is_object() && v.as_object().size() == 1 && v.as_object().contains("text")
                           ? std::string(v.as_object().at("text").as_string())
                           : json::serialize(v);
    return slack_escape(detail::bounded(text, slack_evidence_max));
}

}  // namespace

std::string slack_payload(const escalation_event& e) {
    const std::string what = slack_escape(e.kind) + " for " + slack_escape(e.subject);
    const std::string team = slack_escape(e.team);
    if (e.what == action::resolve) {
        const std::string line = "Resolved: " + what + " (" + team + ", escalation #" +
                                 std::to_string(e.escalation_id) + ")";
        return json::serialize(json::object{{"text", line}, {"blocks", json::array{mrkdwn_section(":white_check_mark: " + line)}}});
    }
    const std::string fallback = "Escalation for " + team + ": " + what;
    json::array blocks;
    blocks.push_back(mrkdwn_section("*" + what + "*\nteam: " + team + " · kind: " + slack_escape(e.kind) +
                                    " · severity: " + slack_escape(e.severity) + " · escalation #" +
                                    std::to_string(e.escalation_id)));
    if (!e.summary.empty()) blocks.push_back(mrkdwn_section(slack_escape(detail::bounded(e.summary, 1000))));
    if (const std::string evidence = evidence_summary(e); !evidence.empty())
        blocks.push_back(mrkdwn_section("*Evidence*\n```" + evidence + "```"));
    if (!e.dashboard_url.empty())
        blocks.push_back(json::object{
            {"type", "context"},
            {"elements", json::array{json::object{{"type", "mrkdwn"},
                                                  {"text", "<" + slack_escape(e.dashboard_url) + "|Stripe Dashboard>"}}}}});
    return json::serialize(json::object{{"text", fallback}, {"blocks", std::move(blocks)}});
}

}  // namespace reconciler::deliver
