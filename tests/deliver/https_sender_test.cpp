// deliver::make_https_sender against the local receiver over real TLS on
// loopback: what each channel receives, and how failures are classified.
#include "deliver_fixture.hpp"

#include "stripe/webhook_signature.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace deliver_test;
using reconciler::deliver::action;
using reconciler::deliver::outcome;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

void no_secret_in(const std::string& error) {
    BOOST_TEST_INFO("error: " << error);
    BOOST_TEST(error.find(routing_key) == std::string::npos);
    BOOST_TEST(error.find(hmac_secret) == std::string::npos);
    BOOST_TEST(error.find("SLACKSECRET") == std::string::npos);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(https_sender, fixture)

BOOST_AUTO_TEST_CASE(pagerduty_trigger_and_resolve_share_the_dedup_key) {
    test_receiver::receiver_options o;
    o.rules["/v2/enqueue"] = test_receiver::parse_rule("202");
    start(o);
    const auto sent = send(pagerduty(), event());
    BOOST_TEST((sent.result == outcome::sent));
    BOOST_TEST(sent.http_status == 202);
    BOOST_TEST(sent.error.empty());
    auto resolve = event(action::resolve);
    resolve.run_id = 4;
    BOOST_TEST((send(pagerduty(), resolve).result == outcome::sent));

    const auto seen = rx->requests();
    BOOST_REQUIRE_EQUAL(seen.size(), 2u);
    BOOST_TEST(seen[0].method == "POST");
    BOOST_TEST(seen[0].path == "/v2/enqueue");
    BOOST_TEST(seen[0].headers.at("content-type") == "application/json");
    const auto trigger = json::parse(seen[0].body).as_object();
    const auto resolved = json::parse(seen[1].body).as_object();
    BOOST_TEST(trigger.at("routing_key") == routing_key.c_str());
    BOOST_TEST(trigger.at("event_action") == "trigger");
    BOOST_TEST(trigger.at("payload").at("severity") == "warning");
    BOOST_TEST(trigger.at("payload").at("group") == "data_platform");
    BOOST_TEST(resolved.at("event_action") == "resolve");
    BOOST_TEST(resolved.size() == 3u);
    BOOST_TEST(trigger.at("dedup_key") == resolved.at("dedup_key"));
    BOOST_TEST(trigger.at("dedup_key") == "negative_or_stuck_balance:user_9");
}

BOOST_AUTO_TEST_CASE(slack_message_reaches_the_webhook_path) {
    start();
    const auto a = send(slack(), event());
    BOOST_TEST((a.result == outcome::sent));
    const auto seen = rx->requests();
    BOOST_REQUIRE_EQUAL(seen.size(), 1u);
    BOOST_TEST(seen[0].target == slack_path);
    const auto body = json::parse(seen[0].body).as_object();
    BOOST_TEST(body.at("text") == "Escalation for data_platform: negative_or_stuck_balance for user_9");
    BOOST_TEST(body.at("blocks").as_array().size() >= 2u);
}

BOOST_AUTO_TEST_CASE(webhook_signature_verifies_with_the_secret_only) {
    test_receiver::receiver_options o;
    o.webhook_secret = hmac_secret;  // the receiver checks it too, as a team's endpoint would
    start(o);
    BOOST_TEST((send(webhook(), event()).result == outcome::sent));
    const auto seen = rx->requests();
    BOOST_REQUIRE_EQUAL(seen.size(), 1u);
    BOOST_TEST(seen[0].signature == "valid");
    const std::string sig = seen[0].headers.at("x-reconciler-signature");
    const auto now = seen[0].at_ms / 1000;
    using reconciler::stripe::signature_check;
    BOOST_TEST((reconciler::stripe::verify_stripe_signature(sig, hmac_secret, seen[0].body, now) == signature_check::valid));
    BOOST_TEST((reconciler::stripe::verify_stripe_signature(sig, "whsec-other", seen[0].body, now) ==
                signature_check::mismatch));
    BOOST_TEST(seen[0].headers.at("x-reconciler-event-id").starts_with("esc_42_trigger_"));
    BOOST_TEST(json::parse(seen[0].body).at("event") == "escalation.trigger");
}

BOOST_AUTO_TEST_CASE(server_error_is_retried_then_sent) {
    test_receiver::receiver_options o;
    o.rules["/hook"] = test_receiver::parse_rule("500x1", 202);
    o.rules["/hook"].retry_after = "7";
    start(o);
    const auto first = send(webhook(), event());
    BOOST_TEST((first.result == outcome::retry));
    BOOST_TEST(first.http_status == 500);
    BOOST_TEST(first.retry_after.count() == 7);
    BOOST_TEST(first.error.starts_with("deliver data_platform/webhook: 500 from receiver"));
    const auto second = send(webhook(), event());
    BOOST_TEST((second.result == outcome::sent));
    const auto seen = rx->requests();
    BOOST_REQUIRE_EQUAL(seen.size(), 2u);
    BOOST_TEST(seen[0].headers.at("x-reconciler-event-id") == seen[1].headers.at("x-reconciler-event-id"));
}

BOOST_AUTO_TEST_CASE(a_receiver_that_hangs_is_a_retry_within_the_deadline) {
    test_receiver::receiver_options o;
    o.default_rule = test_receiver::parse_rule("hang");
    start(o);
    const auto t0 = std::chrono::steady_clock::now();
    const auto a = send(slack(), event(), milliseconds(400));
    const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST((a.result == outcome::retry));
    BOOST_TEST(a.http_status == 0);
    BOOST_TEST(took.count() >= 350);
    BOOST_TEST(took.count() < 400 + 300);
    BOOST_TEST(a.error == "deliver data_platform/slack: read response from 127.0.0.1:" + std::to_string(rx->port()) +
                              ": no answer within the 400 ms deadline");
    BOOST_TEST(rx->requests().size() == 1u);  // it was read: only the answer never came
}

BOOST_AUTO_TEST_CASE(a_refusal_is_final) {
    test_receiver::receiver_options o;
    o.default_rule = test_receiver::parse_rule("400");
    start(o);
    const auto a = send(pagerduty(), event());
    BOOST_TEST((a.result == outcome::failed));
    BOOST_TEST(a.http_status == 400);
    BOOST_TEST(a.error.starts_with("deliver data_platform/pagerduty: 400 from receiver"));
}

BOOST_AUTO_TEST_CASE(a_certificate_from_another_ca_is_a_tls_error_and_a_retry) {
    start();
    const std::string other_ca = (dir.path / "other-ca.pem").string();
    std::ofstream(other_ca) << sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}).ca_cert_pem;
    const auto a = send(webhook(), event(), milliseconds(3000), other_ca);
    BOOST_TEST((a.result == outcome::retry));
    BOOST_TEST(a.http_status == 0);
    BOOST_TEST_INFO(a.error);
    BOOST_TEST(a.error.starts_with("deliver data_platform/webhook: TLS handshake with 127.0.0.1:"));
    BOOST_TEST(a.error.find("certificate verify failed") != std::string::npos);
    BOOST_TEST(rx->requests().empty());
}

BOOST_AUTO_TEST_CASE(plain_http_only_to_loopback_and_bad_urls_not_echoed) {
    const auto far = send({reconciler::deliver::channel::slack, "ops/slack", "http://example.com" + slack_path, ""}, event());
    BOOST_TEST((far.result == outcome::failed));
    BOOST_TEST(far.error == "deliver ops/slack: endpoint URL is http:// to a host that is not loopback (https required)");
    const auto bad = send({reconciler::deliver::channel::slack, "ops/slack", "https://exa mple.com" + slack_path, ""}, event());
    BOOST_TEST((bad.result == outcome::failed));
    BOOST_TEST(bad.error.starts_with("deliver ops/slack: endpoint URL is not usable: "));
    no_secret_in(bad.error);

    test_receiver::receiver_options o;
    o.tls = false;
    start(o);
    const auto plain = send({reconciler::deliver::channel::webhook, "ops/webhook",
                             "http://127.0.0.1:" + std::to_string(rx->port()) + "/hook", hmac_secret}, event());
    BOOST_TEST((plain.result == outcome::sent));
}

BOOST_AUTO_TEST_CASE(no_secret_in_any_error) {
    test_receiver::receiver_options o;
    o.rules["/v2/enqueue"] = test_receiver::parse_rule("500");
    o.rules[slack_path] = test_receiver::parse_rule("404");
    o.rules["/hook"] = test_receiver::parse_rule("hang");
    start(o);
    const std::string other_ca = (dir.path / "other-ca.pem").string();
    std::ofstream(other_ca) << sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}).ca_cert_pem;
    std::vector<std::string> errors;
    for (const auto& to : {pagerduty(), slack(), webhook()}) {
        for (auto what : {action::trigger, action::resolve}) {
            errors.push_back(send(to, event(what), milliseconds(250)).error);
            errors.push_back(send(to, event(what), milliseconds(250), other_ca).error);
        }
    }
    const unsigned short port = rx->port();
    rx->stop();  // nobody listens there now: connection refused
    for (auto to : {pagerduty(), slack(), webhook()}) {
        to.url = "https://127.0.0.1:" + std::to_string(port) + to.url.substr(to.url.find('/', 8));
        errors.push_back(send(to, event()).error);
    }
    for (const auto& e : errors) {
        BOOST_TEST(!e.empty());
        no_secret_in(e);
    }
}

BOOST_AUTO_TEST_SUITE_END()
