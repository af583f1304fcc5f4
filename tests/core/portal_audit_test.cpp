// The Billing Portal audit (core/portal_audit.hpp): the runbook's fourth row.
#include "core/portal_audit.hpp"

#include <boost/test/unit_test.hpp>

using namespace reconciler;

namespace {

diff_policy policy() {
    diff_policy p;
    p.prices = {{"price_pro", {"pro", 1000}}, {"price_team", {"team", 5000}}, {"price_gift", {"", 0, true}}};
    return p;
}

billing_portal_configuration config(std::string id, bool is_default, std::vector<std::string> prices) {
    return billing_portal_configuration{std::move(id), true, is_default, true, std::move(prices)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(portal_audit)

BOOST_AUTO_TEST_CASE(a_well_configured_default_portal_is_no_finding) {
    portal_audit_input in;
    in.configurations = {config("bpc_old", false, {"price_gone"}), config("bpc_1", true, {"price_pro", "price_gift"})};
    BOOST_TEST(audit_billing_portal(in, policy()).empty());
    in.configurations[1].subscription_update_enabled = false;  // offers nothing to switch to
    in.configurations[1].offered_prices = {"price_unknown"};
    BOOST_TEST(audit_billing_portal(in, policy()).empty());
}

BOOST_AUTO_TEST_CASE(archived_and_unmapped_offered_prices_go_to_their_teams) {
    portal_audit_input in;
    in.configurations = {config("bpc_1", true, {"price_pro", "price_2023", "price_yearly", "price_2023"})};
    in.archived_prices = {"price_2023"};
    in.request_id = "req_1";
    in.at = 1700000000;
    const auto out = audit_billing_portal(in, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST((out[0].kind == finding_kind::billing_portal_misconfigured));
    BOOST_TEST(out[0].subject_id == "bpc_1#archived_prices");
    BOOST_TEST((out[0].owner == team::stripe_support));
    BOOST_TEST(out[0].evidence.at("prices").as_array().size() == 1u);
    BOOST_TEST(!out[0].evidence.at("ask").as_string().empty());
    BOOST_TEST(out[1].subject_id == "bpc_1#unmapped_prices");
    BOOST_TEST((out[1].owner == team::billing_engineering));
    const auto& unmapped = out[1].evidence.at("prices").as_array();
    BOOST_REQUIRE_EQUAL(unmapped.size(), 2u);  // archived and unmapped, listed in both
    BOOST_TEST(unmapped[0].as_string() == "price_2023");
    BOOST_TEST(unmapped[1].as_string() == "price_yearly");
    BOOST_TEST(!out[1].correction);
    BOOST_TEST(out[1].at == 1700000000);
}

BOOST_AUTO_TEST_CASE(no_active_default_configuration_is_a_finding_for_stripe_support) {
    portal_audit_input in;
    in.configurations = {config("bpc_1", false, {"price_pro"})};
    auto out = audit_billing_portal(in, policy());
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].subject_id == "no_default_configuration");
    BOOST_TEST((out[0].owner == team::stripe_support));
    BOOST_TEST(out[0].evidence.at("active_configurations").as_array().size() == 1u);
    in.configurations.clear();
    BOOST_TEST(audit_billing_portal(in, policy()).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
