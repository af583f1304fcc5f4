// deliver/payloads.hpp: what PagerDuty, Slack and a team's webhook receive,
// on exact JSON.
#include "deliver/payloads.hpp"

#include "stripe/webhook_signature.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using namespace reconciler::deliver;

namespace {

escalation_event sample(action what = action::trigger) {
    escalation_event e;
    e.what = what;
    e.escalation_id = 42;
    e.dedup_key = "credits_not_decrementing:cus_123";
    e.team = "data_platform";
    e.kind = "credits_not_decrementing";
    e.subject = "cus_123";
    e.status = "open";
    e.severity = "error";
    e.summary = "credits stuck at 500 for 3 days";
    e.evidence = R"({"balance":500,"days":3})";
    e.dashboard_url = "https://dashboard.stripe.com/test/customers/cus_123";
    e.first_seen = "2026-12-01T10:00:00Z";
    e.run_id = 7;
    return e;
}

std::string header(const reconciler::stripe::header_list& h, const std::string& name) {
    for (const auto& [k, v] : h)
        if (k == name) return v;
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pagerduty)

BOOST_AUTO_TEST_CASE(trigger_is_an_events_v2_alert) {
    BOOST_TEST(pagerduty_payload("R0UTINGKEY", sample()) ==
               R"({"routing_key":"R0UTINGKEY","event_action":"trigger","dedup_key":"credits_not_decrementing:cus_123",)"
               R"("payload":{"summary":"credits stuck at 500 for 3 days","source":"stripe-reconciler","severity":"error",)"
               R"("component":"credits_not_decrementing","group":"data_platform","custom_details":{"evidence":)"
               R"({"balance":500,"days":3},"subject":"cus_123","escalation_id":42,"run_id":7}},)"
               R"("links":[{"href":"https://dashboard.stripe.com/test/customers/cus_123","text":"Stripe Dashboard"}]})");
}

BOOST_AUTO_TEST_CASE(resolve_carries_only_key_action_and_dedup_key) {
    BOOST_TEST(pagerduty_payload("R0UTINGKEY", sample(action::resolve)) ==
               R"({"routing_key":"R0UTINGKEY","event_action":"resolve","dedup_key":"credits_not_decrementing:cus_123"})");
}

BOOST_AUTO_TEST_CASE(dedup_key_is_stable_across_runs_and_bounded) {
    auto later = sample();
    later.run_id = 99;
    later.summary = "credits stuck at 500 for 9 days";
    const auto a = boost::json::parse(pagerduty_payload("k", sample())).as_object();
    const auto b = boost::json::parse(pagerduty_payload("k", later)).as_object();
    BOOST_TEST(a.at("dedup_key") == b.at("dedup_key"));
    BOOST_TEST(a.at("dedup_key") == boost::json::parse(pagerduty_payload("k", sample(action::resolve))).at("dedup_key"));

    const std::string long_key = "unknown_price:" + std::string(400, 'p');
    const std::string cut = pagerduty_dedup_key(long_key);
    BOOST_TEST(cut.size() == pagerduty_dedup_key_max);
    BOOST_TEST(cut == pagerduty_dedup_key(long_key));
    BOOST_TEST(cut != pagerduty_dedup_key(long_key + "q"));  // the hash keeps two long keys apart
    BOOST_TEST(pagerduty_dedup_key("short:key") == "short:key");
}

BOOST_AUTO_TEST_CASE(summary_is_bounded_without_splitting_a_character_and_links_are_optional) {
    auto e = sample();
    e.summary = std::string(1020, 'a') + "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";  // é x4 crosses 1024 bytes
    e.dashboard_url.clear();
    const auto body = boost::json::parse(pagerduty_payload("k", e)).as_object();
    const std::string summary(body.at("payload").at("summary").as_string());
    BOOST_TEST(summary.size() <= pagerduty_summary_max);
    BOOST_TEST(summary.ends_with("\xE2\x80\xA6"));
    BOOST_TEST(!body.contains("links"));
}

BOOST_AUTO_TEST_CASE(evidence_that_is_not_json_is_kept_as_text) {
    auto e = sample();
    e.evidence = "balance 500, not JSON";
    const auto body = boost::json::parse(pagerduty_payload("k", e));
    BOOST_TEST(body.at("payload").at("custom_details").at("evidence") ==
               boost::json::parse(R"({"text":"balance 500, not JSON"})"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(slack)

BOOST_AUTO_TEST_CASE(trigger_names_subject_team_kind_evidence_and_dashboard) {
    BOOST_TEST(slack_payload(sample()) ==
               R"({"text":"Escalation for data_platform: credits_not_decrementing for cus_123","blocks":[)"
               R"({"type":"section","text":{"type":"mrkdwn","text":"*credits_not_decrementing for cus_123*\nteam: )"
               "data_platform \xC2\xB7 kind: credits_not_decrementing \xC2\xB7 severity: error \xC2\xB7 escalation #42"
               R"("}},{"type":"section","text":{"type":"mrkdwn","text":"credits stuck at 500 for 3 days"}},)"
               R"({"type":"section","text":{"type":"mrkdwn","text":"*Evidence*\n```{\"balance\":500,\"days\":3}```"}},)"
               R"({"type":"context","elements":[{"type":"mrkdwn","text":)"
               R"("<https://dashboard.stripe.com/test/customers/cus_123|Stripe Dashboard>"}]}]})");
}

BOOST_AUTO_TEST_CASE(text_from_stripe_is_escaped_for_mrkdwn_and_evidence_bounded) {
    auto e = sample();
    e.subject = "<!channel> & co";
    e.evidence = R"({"note":")" + std::string(5000, 'x') + R"("})";
    const std::string body = slack_payload(e);
    BOOST_TEST(body.find("<!channel>") == std::string::npos);
    BOOST_TEST(body.find("&lt;!channel&gt; &amp; co") != std::string::npos);
    BOOST_TEST(body.size() < 3000);
    BOOST_TEST(slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c");
}

BOOST_AUTO_TEST_CASE(resolve_is_one_short_line) {
    BOOST_TEST(slack_payload(sample(action::resolve)) ==
               R"x({"text":"Resolved: credits_not_decrementing for cus_123 (data_platform, escalation #42)","blocks":[)x"
               R"x({"type":"section","text":{"type":"mrkdwn","text":":white_check_mark: Resolved: )x"
               R"x(credits_not_decrementing for cus_123 (data_platform, escalation #42)"}}]})x");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(generic_webhook)

BOOST_AUTO_TEST_CASE(body_is_the_escalation_as_json) {
    BOOST_TEST(webhook_payload(sample()) ==
               R"({"event":"escalation.trigger","id":42,"dedup_key":"credits_not_decrementing:cus_123",)"
               R"("team":"data_platform","kind":"credits_not_decrementing","subject":"cus_123","status":"open",)"
               R"("severity":"error","summary":"credits stuck at 500 for 3 days","evidence":{"balance":500,"days":3},)"
               R"("dashboard_url":"https://dashboard.stripe.com/test/customers/cus_123",)"
               R"("first_seen":"2026-12-01T10:00:00Z","run_id":7})");
}

BOOST_AUTO_TEST_CASE(signature_verifies_with_the_secret_only) {
    const auto e = sample();
    const std::string body = webhook_payload(e);
    const auto headers = webhook_headers("whsec_team_secret", 1'700'000'000, body, e);
    const std::string sig = header(headers, "X-Reconciler-Signature");
    BOOST_TEST(sig.starts_with("t=1700000000,v1="));
    using reconciler::stripe::signature_check;
    using reconciler::stripe::verify_stripe_signature;
    BOOST_TEST((verify_stripe_signature(sig, "whsec_team_secret", body, 1'700'000'010) == signature_check::valid));
    BOOST_TEST((verify_stripe_signature(sig, "whsec_other", body, 1'700'000'010) == signature_check::mismatch));
    BOOST_TEST((verify_stripe_signature(sig, "whsec_team_secret", body + " ", 1'700'000'010) ==
                signature_check::mismatch));
}

BOOST_AUTO_TEST_CASE(event_id_is_stable_per_delivery) {
    auto e = sample();
    const std::string derived = webhook_event_id(e);
    e.run_id = 8;  // a retry in the next run
    BOOST_TEST(webhook_event_id(e) == derived);
    BOOST_TEST(webhook_event_id(sample(action::resolve)) != derived);
    e.delivery_id = "1234";
    BOOST_TEST(webhook_event_id(e) == "dlv_1234");
    BOOST_TEST(header(webhook_headers("s", 1, "{}", e), "X-Reconciler-Event-Id") == "dlv_1234");
}

BOOST_AUTO_TEST_SUITE_END()
