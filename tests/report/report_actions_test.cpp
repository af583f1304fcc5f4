// What issue 22 asked of the report: the action summary first, links to the
// Stripe Dashboard, the trend and the runs index, and data files that carry
// their run (run_id, window) with one time format.
#include "core/timeutil.hpp"
#include "report/csv.hpp"
#include "report/dashboard_links.hpp"
#include "report/html.hpp"
#include "report/html_parts.hpp"
#include "report/report_items.hpp"
#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>

namespace json = boost::json;
using namespace reconciler;
using namespace report_samples;

namespace {

std::string between(const std::string& s, const std::string& from, const std::string& to) {
    const auto a = s.find(from);
    if (a == std::string::npos) return {};
    const auto b = s.find(to, a + from.size());
    return s.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

store::run_summary run_of(std::int64_t id, std::int64_t granted, std::int64_t tiers, std::string status) {
    store::run_summary r;
    r.id = id;
    r.status = std::move(status);
    r.mode = "apply";
    r.started_at = "2026-11-2" + std::to_string(id) + "T00:00:00Z";
    r.window_start = 1000 * id;
    r.window_end = 1000 * id + 1000;
    r.by_kind["credits_not_granted"] = {granted, granted};
    r.by_kind["tier_mismatch"] = {tiers, 0};
    r.findings = granted + tiers;
    r.corrections_applied = granted;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report_actions)

// The sample run started 14:45:52; escalation 8 was first seen after it
// (new), 7 and 9 before (still open, both billing engineering, 9 the oldest).
BOOST_AUTO_TEST_CASE(the_top_says_what_needs_whom) {
    const std::string html = render_html(sample_report());
    const std::string top = between(html, "<section class=\"actions\"", "</section>");
    BOOST_REQUIRE(!top.empty());
    const auto fresh = hooks(top, "data-team-new");
    const auto open = hooks(top, "data-team-open");
    BOOST_TEST(fresh.at("devops") == "1");
    BOOST_TEST(open.at("devops") == "0");
    BOOST_TEST(fresh.at("billing_engineering") == "0");
    BOOST_TEST(open.at("billing_engineering") == "2");
    BOOST_TEST(fresh.count("data_platform") == 0u);  // its only escalation is resolved
    BOOST_TEST(hooks(top, "data-action-count").at("new") == "1");
    BOOST_TEST(hooks(top, "data-action-count").at("still_open") == "2");
    BOOST_TEST(hooks(top, "data-action-count").at("applied") == "2");
    // The oldest open one's age links to its row, which exists below.
    BOOST_TEST(top.find("<a href=\"#esc-9\">84 d</a>") != std::string::npos);
    BOOST_TEST(html.find("<tr id=\"esc-9\"") != std::string::npos);
    BOOST_TEST(top.find("verified</span> The run verified its whole window") != std::string::npos);
}

// A run's report says which escalations it first raised ("new"): that, not
// the first_seen time (a second's resolution), decides new vs still open.
BOOST_AUTO_TEST_CASE(new_is_what_the_run_raised) {
    json::object r = sample_report();
    auto& escalations = r["escalations"].as_array();
    escalations[1].as_object()["new"] = false;  // devops, first seen after the start, but raised earlier
    escalations[2].as_object()["new"] = true;   // billing, 84 days old, raised again by this run
    const std::string top = between(render_html(r), "<section class=\"actions\"", "</section>");
    BOOST_TEST(hooks(top, "data-team-new").at("devops") == "0");
    BOOST_TEST(hooks(top, "data-team-open").at("devops") == "1");
    BOOST_TEST(hooks(top, "data-team-new").at("billing_engineering") == "1");
    BOOST_TEST(hooks(top, "data-team-open").at("billing_engineering") == "1");
}

BOOST_AUTO_TEST_CASE(a_failed_run_says_its_window_was_not_verified) {
    json::object r = sample_report();
    r["run"].as_object()["status"] = "failed";
    r["run"].as_object()["notes"].as_array().push_back(
        json::string("unverified: 2026-11-24T00:00:00Z .. 2026-11-24T14:45:52Z (rerun the rest)"));
    const std::string top = between(render_html(r), "<section class=\"actions\"", "</section>");
    BOOST_TEST(top.find("not verified</span> The run did not verify its whole window") != std::string::npos);
    BOOST_TEST(top.find("unverified: 2026-11-24T00:00:00Z") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dashboard_urls_by_mode_and_account) {
    using namespace reconciler::detail;
    const dashboard_context test{false, ""}, live{true, ""}, connect{false, "acct_1Abc"}, unknown{};
    BOOST_TEST(dashboard_url("cus_9X", test) == "https://dashboard.stripe.com/test/customers/cus_9X");
    BOOST_TEST(dashboard_url("cus_9X", live) == "https://dashboard.stripe.com/customers/cus_9X");
    BOOST_TEST(dashboard_url("ch_3Q", connect) == "https://dashboard.stripe.com/acct_1Abc/test/payments/ch_3Q");
    BOOST_TEST(dashboard_url("sub_1", live) == "https://dashboard.stripe.com/subscriptions/sub_1");
    BOOST_TEST(dashboard_url("in_1", live) == "https://dashboard.stripe.com/invoices/in_1");
    BOOST_TEST(dashboard_url("dp_1", live) == "https://dashboard.stripe.com/disputes/dp_1");
    BOOST_TEST(dashboard_url("evt_1", live) == "https://dashboard.stripe.com/events/evt_1");
    BOOST_TEST(dashboard_url("price_1", live) == "https://dashboard.stripe.com/prices/price_1");
    BOOST_TEST(dashboard_url("cus_9X", unknown).empty());  // an old report: no guessed links
    BOOST_TEST(dashboard_url("user:12", live).empty());
    BOOST_TEST(dashboard_url("in_<b>", live).empty());
    // The run's account is used only when it is an account id.
    const json::object bad{{"livemode", true}, {"stripe_account", "acct_1\"><b>"}};
    BOOST_TEST(dashboard_of(&bad).account.empty());
    const json::object good{{"livemode", false}, {"stripe_account", "acct_1Abc"}};
    BOOST_TEST(dashboard_of(&good).account == "acct_1Abc");
    BOOST_TEST(*dashboard_of(&good).livemode == false);
    // Ids inside text link; the rest stays escaped text.
    BOOST_TEST(linked_ids_html("sub_B2#evt_9 <x>", live) ==
               "<a class=\"stripe\" href=\"https://dashboard.stripe.com/subscriptions/sub_B2\" rel=\"noreferrer\" "
               "target=\"_blank\">sub_B2</a>#<a class=\"stripe\" href=\"https://dashboard.stripe.com/events/evt_9\" "
               "rel=\"noreferrer\" target=\"_blank\">evt_9</a> &lt;x&gt;");
    BOOST_TEST(linked_ids_html("within_x plain_in_1", live) == "within_x plain_in_1");
}

BOOST_AUTO_TEST_CASE(the_page_links_its_stripe_ids) {
    const std::string html = render_html(sample_report());  // livemode false
    for (const char* url : {"https://dashboard.stripe.com/test/invoices/in_A1", "https://dashboard.stripe.com/test/customers/cus_1",
                            "https://dashboard.stripe.com/test/subscriptions/sub_B2",
                            "https://dashboard.stripe.com/test/events/evt_9"}) {
        BOOST_TEST_INFO("no link " << url);
        BOOST_TEST(html.find(std::string("href=\"") + url + "\"") != std::string::npos);
    }
    json::object r = sample_report();
    r["run"].as_object().erase("livemode");
    BOOST_TEST(render_html(r).find("dashboard.stripe.com") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(trend_and_index_show_each_run) {
    const std::vector<store::run_summary> runs{run_of(1, 5, 2, "succeeded"), run_of(2, 0, 1, "failed"),
                                               run_of(3, 3, 0, "succeeded")};
    const std::string html = render_html(sample_report(), runs);
    const std::string trend = between(html, "<h2 id=\"trend\">", "<h2 id=\"totals\">");
    BOOST_TEST(trend.find("Trend: the last 3 runs kept in the database") != std::string::npos);
    BOOST_TEST(trend.find("data-trend-run=\"1\" data-findings=\"7\" data-corrections=\"5\"") != std::string::npos);
    BOOST_TEST(trend.find("data-trend-run=\"2\" data-findings=\"1\" data-corrections=\"0\"") != std::string::npos);
    BOOST_TEST(trend.find("data-trend-run=\"3\" data-findings=\"3\" data-corrections=\"3\"") != std::string::npos);
    BOOST_TEST(trend.find("data-trend-run=\"1\"") < trend.find("data-trend-run=\"3\""));  // oldest left
    BOOST_TEST(render_html(sample_report()).find("id=\"trend\"") == std::string::npos);

    std::ostringstream out;
    detail::render_runs_index(out, runs, {true, false, true});
    const std::string index = out.str();
    BOOST_TEST(index.find("data-run-findings=\"2\">1<") != std::string::npos);
    BOOST_TEST(index.find("data-run-corrections=\"1\">5<") != std::string::npos);
    BOOST_TEST(index.find("<a href=\"run-3/report.html\">3</a>") != std::string::npos);
    BOOST_TEST(index.find("run-2/report.html") == std::string::npos);  // no report to link
    BOOST_TEST(index.find("data-run=\"3\"") < index.find("data-run=\"1\""));  // newest first
    BOOST_TEST(index.find("default-src 'none'") != std::string::npos);
    BOOST_TEST(index.find("<script") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(csv_rows_carry_their_run) {
    const std::string csv = render_findings_csv(sample_report());
    const std::string header = csv.substr(0, csv.find("\r\n"));
    BOOST_TEST(header.size() > 36u);
    BOOST_TEST(header.substr(header.size() - 36) == ",note,run_id,window_start,window_end");
    // From the report's run when a finding does not say; the finding's own when it does.
    BOOST_TEST(csv.find(",42,2026-11-23T14:45:52Z,2026-11-24T14:45:52Z\r\n") != std::string::npos);
    json::object r = sample_report();
    r["findings"].as_array()[0].as_object()["run_id"] = 7;
    BOOST_TEST(render_findings_csv(r).find(",7,2026-11-23T14:45:52Z,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(items_carry_run_and_rfc3339_times) {
    finding_outcome o;
    o.f.kind = finding_kind::missed_webhook;
    o.f.subject_type = "event";
    o.f.subject_id = "evt_1";
    o.f.evidence = json::object{{"event", "evt_1"},
                                {"created", 1764000000},
                                {"paid_at", nullptr},
                                {"amount_paid", 1764000000},
                                {"nested", json::array{json::object{{"at", 0}, {"as_of", 86400}}}}};
    std::optional<json::object> applied;
    const json::object item =
        detail::finding_item(o, applied, detail::run_stamp{9, 1764000000 - 86400, 1764000000});
    BOOST_TEST(item.at("run_id").as_int64() == 9);
    BOOST_TEST(item.at("window_start").as_string() == "2025-11-23T16:00:00Z");
    BOOST_TEST(item.at("window_end").as_string() == "2025-11-24T16:00:00Z");
    const json::object& ev = item.at("evidence").as_object();
    BOOST_TEST(ev.at("created").as_string() == "2025-11-24T16:00:00Z");
    BOOST_TEST(ev.at("paid_at").is_null());
    BOOST_TEST(ev.at("amount_paid").as_int64() == 1764000000);  // not a time: left alone
    BOOST_TEST(ev.at("nested").as_array()[0].as_object().at("as_of").as_string() == "1970-01-02T00:00:00Z");

    o.f.correction = proposed_correction{};
    o.f.correction->kind = correction_kind::grant_credits;
    o.f.correction->ledger_key = "in_1";
    o.disposition = store::disposition::applied;
    detail::finding_item(o, applied, detail::run_stamp{9, 0, 86400});
    BOOST_REQUIRE(applied.has_value());
    BOOST_TEST(applied->at("run_id").as_int64() == 9);
    BOOST_TEST(applied->at("window_end").as_string() == "1970-01-02T00:00:00Z");
}

BOOST_AUTO_TEST_SUITE_END()
