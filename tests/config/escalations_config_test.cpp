// escalations.routes and escalations.delivery (issue 20): each team's routes,
// their endpoints' URL rules and secret sources, and the outbox's limits.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config_test_support.hpp"

using namespace reconciler;

namespace {

using config_test::check_error;
using config_test::error_of;
using config_test::required_sections;

}  // namespace

BOOST_AUTO_TEST_SUITE(escalations_config)

BOOST_AUTO_TEST_CASE(no_section_means_no_routes_and_the_defaults) {
    const config c = parse_config(required_sections, "demo.yaml");
    BOOST_TEST(!c.escalations.any());
    BOOST_TEST(c.escalations.max_attempts == 8);
    BOOST_TEST(c.escalations.deadline.count() == 10);
    BOOST_TEST(c.escalations.budget.count() == 60);
    BOOST_TEST(c.escalations.ca_file.empty());
}

BOOST_AUTO_TEST_CASE(routes_per_team_with_their_secret_sources) {
    const config c = parse_config("escalations:\n"
                                  "  routes:\n"
                                  "    data_platform:\n"
                                  "      - { type: pagerduty, routing_key: { env: PD_KEY } }\n"
                                  "      - { type: slack, url: { file: /etc/sr/slack.url } }\n"
                                  "    devops:\n"
                                  "      - type: webhook\n"
                                  "        url: https://hooks.example.com/recon\n"
                                  "        secret: { credential: hook_secret }\n"
                                  "    billing_engineering:\n"
                                  "      - { type: pagerduty, routing_key: { env: PD2 }, url: 'http://127.0.0.1:9/v2/enqueue' }\n"
                                  "  delivery: { max_attempts: 3, deadline_seconds: 4, budget_seconds: 5, ca_file: /etc/sr/ca.pem }\n" +
                                      required_sections,
                                  "demo.yaml");
    const auto& r = c.escalations.routes;
    BOOST_TEST(r.size() == 3u);
    const auto& dp = r.at("data_platform");
    BOOST_TEST(dp.size() == 2u);
    BOOST_TEST(dp[0].name == "data_platform/pagerduty");
    BOOST_TEST(dp[0].url == "https://events.pagerduty.com/v2/enqueue");
    BOOST_TEST(dp[0].secret.env == "PD_KEY");
    BOOST_TEST(dp[1].name == "data_platform/slack");
    BOOST_TEST(dp[1].url.empty());
    BOOST_TEST(dp[1].secret.file == "/etc/sr/slack.url");
    const auto& hook = r.at("devops").at(0);
    BOOST_TEST(hook.name == "devops/webhook");
    BOOST_TEST(hook.url == "https://hooks.example.com/recon");
    BOOST_TEST(hook.secret.credential == "hook_secret");
    BOOST_TEST(r.at("billing_engineering").at(0).url == "http://127.0.0.1:9/v2/enqueue");
    BOOST_TEST(c.escalations.max_attempts == 3);
    BOOST_TEST(c.escalations.deadline.count() == 4);
    BOOST_TEST(c.escalations.budget.count() == 5);
    BOOST_TEST(c.escalations.ca_file == "/etc/sr/ca.pem");
}

BOOST_AUTO_TEST_CASE(unknown_team_or_type_names_the_key) {
    check_error("escalations:\n  routes:\n    data_platfrom:\n      - { type: slack, url: { env: S } }\n" +
                    required_sections,
                {"demo.yaml:4", "escalations.routes.data_platfrom: unknown team", "did you mean data_platform?"});
    check_error("escalations:\n  routes:\n    devops:\n      - { type: email, url: { env: S } }\n" + required_sections,
                {"escalations.routes.devops[0].type: expected pagerduty, slack or webhook", "email"});
    check_error("escalations:\n  routes:\n    devops:\n      - { url: { env: S } }\n" + required_sections,
                {"escalations.routes.devops[0]: missing required key type"});
    check_error("escalations:\n  routes:\n    devops:\n      - { type: pagerduty }\n" + required_sections,
                {"escalations.routes.devops[0]: missing required key routing_key"});
    check_error("escalations:\n  routes:\n    devops:\n      - { type: slack, url: { env: A } }\n"
                "      - { type: slack, url: { env: B } }\n" + required_sections,
                {"escalations.routes.devops[1]: a second slack route for devops"});
    check_error("escalations:\n  delivery: { max_attempts: 0 }\n" + required_sections,
                {"escalations.delivery.max_attempts"});
    check_error("escalations:\n  rotues: {}\n" + required_sections, {"did you mean escalations.routes?"});
}

BOOST_AUTO_TEST_CASE(endpoints_are_https_or_loopback_http) {
    check_error("escalations:\n  routes:\n    devops:\n"
                "      - { type: webhook, url: 'http://hooks.example.com/x', secret: { env: S } }\n" + required_sections,
                {"escalations.routes.devops[0].url: plain http:// is allowed only to a loopback host"});
    check_error("escalations:\n  routes:\n    devops:\n"
                "      - { type: pagerduty, routing_key: { env: K }, url: 'ftp://x/' }\n" + required_sections,
                {"escalations.routes.devops[0].url:"});
    check_error("escalations:\n  routes:\n    devops:\n"
                "      - { type: webhook, url: 'https://u:pw@hooks.example.com/x', secret: { env: S } }\n" +
                    required_sections,
                {"user info"});
    BOOST_TEST(!delivery_url_problem("https://hooks.slack.com/services/T/B/X").has_value());
    BOOST_TEST(!delivery_url_problem("http://[::1]:8080/hook").has_value());
    BOOST_TEST(delivery_url_problem("http://10.0.0.1/hook").has_value());
}

BOOST_AUTO_TEST_CASE(a_secret_in_the_file_is_refused_and_never_echoed) {
    const std::string msg = error_of("escalations:\n  routes:\n    devops:\n"
                                     "      - { type: slack, url: 'https://hooks.slack.com/services/T0/B0/SECRETPATH' }\n" +
                                     required_sections);
    BOOST_TEST(msg.find("escalations.routes.devops[0].url") != std::string::npos, msg);
    BOOST_TEST(msg.find("SECRETPATH") == std::string::npos, msg);
}

BOOST_AUTO_TEST_SUITE_END()
