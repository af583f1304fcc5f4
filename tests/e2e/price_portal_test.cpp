// End to end: prices the price map does not know, and the Billing Portal
// audit (the runbook's fourth row), with the real binary against the
// simulator. The seeded unknown prices and portal misconfigurations are in
// the ground truth that test_e2e's main case compares whole; these cases
// check what a billing engineer would: the counts, ignore, a key without
// portal access, an account without a default configuration.
#include "e2e/e2e_support.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace e2e;

namespace {

std::map<finding_key, json::object> truth_findings(const json::object& truth) {
    std::map<finding_key, json::object> out;
    for (const auto& f : truth.at("findings").as_array())
        out.emplace(finding_key{std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string())},
                    f.as_object());
    return out;
}

std::map<finding_key, json::object> of_kind(const std::map<finding_key, json::object>& all, const std::string& kind) {
    std::map<finding_key, json::object> out;
    for (const auto& [k, v] : all)
        if (k.first == kind) out.emplace(k, v);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prices_and_portal)

BOOST_AUTO_TEST_CASE(unknown_prices_are_one_finding_each_with_their_counts_and_ignore_silences_them) {
    e2e_env env;
    const auto truth = of_kind(truth_findings(env.truth), "unknown_price");
    BOOST_REQUIRE_GE(truth.size(), 2u);
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    auto report = env.latest_report();
    const auto found = of_kind(report_findings(report), "unknown_price");
    BOOST_TEST(key_diff(keys_of(truth), keys_of(found)).empty(), key_diff(keys_of(truth), keys_of(found)));
    for (const auto& [k, t] : truth) {
        BOOST_TEST_INFO(k.second);
        const auto& e = found.at(k).at("evidence").as_object();
        for (const char* n : {"customers", "invoices", "subscriptions"})
            BOOST_TEST(e.at(n).as_int64() == t.at("evidence").at(n).as_int64(), n);
        BOOST_TEST(found.at(k).at("team").as_string() == "billing_engineering");
        BOOST_TEST(found.at(k).at("disposition").as_string() == "flagged");
        // One escalation per price, not per customer.
        BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_escalations WHERE kind = 'unknown_price' AND subject = '" +
                             k.second + "'") == 1);
    }
    // The unknown prices lead the run's notes (and so the summary).
    const auto& notes = report.at("run").at("notes").as_array();
    BOOST_REQUIRE(!notes.empty());
    BOOST_TEST(std::string(notes.at(0).as_string()).rfind("unknown price ", 0) == 0u);
    BOOST_TEST(r.out.find("unknown price " + truth.begin()->first.second) < r.out.find("findings"));
    // Nothing granted or re-tiered for their customers: no other finding than the truth's.
    BOOST_TEST(key_diff(truth_keys(env.truth), keys_of(report_findings(report))).empty());

    // Marked { ignore: true }: no finding, and still no grant or tier.
    std::string ignore;
    for (const auto& [k, t] : truth) ignore += "  " + k.second + ": { ignore: true }\n";
    env.edit_config("prices:\n", "prices:\n" + ignore);
    auto again = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << again.err);
    BOOST_REQUIRE_EQUAL(again.exit_code, 0);
    const auto after = report_findings(env.latest_report());
    BOOST_TEST(of_kind(after, "unknown_price").empty());
    BOOST_TEST(env.latest_report().at("totals").at("applied").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(each_seeded_portal_misconfiguration_is_reported_once_and_sessions_are_counted) {
    e2e_env env;
    const auto truth = of_kind(truth_findings(env.truth), "billing_portal_misconfigured");
    BOOST_REQUIRE_GE(truth.size(), 1u);
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    auto report = env.latest_report();
    const auto found = of_kind(report_findings(report), "billing_portal_misconfigured");
    BOOST_TEST(key_diff(keys_of(truth), keys_of(found)).empty(), key_diff(keys_of(truth), keys_of(found)));
    for (const auto& [k, t] : truth) {
        BOOST_TEST_INFO(k.second);
        BOOST_TEST(found.at(k).at("team").as_string() == t.at("team").as_string());
        BOOST_TEST(found.at(k).at("subject_type").as_string() == t.at("subject_type").as_string());
        // Stripe support is told what to ask for; billing engineering fixes the price map itself.
        BOOST_TEST(found.at(k).at("evidence").as_object().contains("ask") == (t.at("team").as_string() == "stripe_support"));
        if (t.at("evidence").as_object().contains("prices"))
            BOOST_TEST(found.at(k).at("evidence").at("prices") == t.at("evidence").at("prices"));
    }
    BOOST_TEST(report.at("run").at("portal_sessions").as_int64() == env.truth.at("portal_sessions").as_int64());
}

BOOST_AUTO_TEST_CASE(a_key_without_portal_access_gets_a_note_and_the_run_succeeds) {
    e2e_env env;
    auto so = env.server_opts;
    so.forbidden_resources = {"billing_portal/configurations"};
    env.restart_sim(so);
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    auto report = env.latest_report();
    BOOST_TEST(of_kind(report_findings(report), "billing_portal_misconfigured").empty());
    BOOST_TEST(json::serialize(report.at("run").at("notes")).find("billing portal not checked: the key lacks "
                                                                   "billing_portal read") != std::string::npos);
    BOOST_TEST(r.out.find("billing portal not checked") != std::string::npos);
    // Everything else is still found.
    std::set<finding_key> expected;
    for (const auto& k : truth_keys(env.truth))
        if (k.first != "billing_portal_misconfigured") expected.insert(k);
    BOOST_TEST(key_diff(expected, keys_of(report_findings(report))).empty());
}

BOOST_AUTO_TEST_CASE(an_account_without_a_default_portal_configuration_is_reported) {
    e2e_options o;
    o.portal_default_configuration = false;
    e2e_env env(o);
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    const auto found = of_kind(report_findings(env.latest_report()), "billing_portal_misconfigured");
    BOOST_REQUIRE_EQUAL(found.size(), 1u);
    BOOST_TEST(found.begin()->first.second == "no_default_configuration");
    BOOST_TEST(found.begin()->second.at("team").as_string() == "stripe_support");
}

BOOST_AUTO_TEST_SUITE_END()
