// report.html: numbers equal the JSON's, hostile data stays text, the page
// loads nothing.
#include "report/html.hpp"
#include "report/markdown.hpp"
#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace report_samples;

BOOST_AUTO_TEST_SUITE(html)

BOOST_AUTO_TEST_CASE(html_totals_equal_the_json) {
    const json::object r = sample_report();
    const std::string html = reconciler::render_html(r);
    const auto& totals = r.at("totals").as_object();

    const auto total = hooks(html, "data-total");
    BOOST_TEST(total.size() == 3u);
    for (const char* k : {"findings", "applied", "flagged"})
        BOOST_TEST(total.at(k) == std::to_string(totals.at(k).as_int64()));

    const auto kinds = hooks(html, "data-kind-total");
    BOOST_TEST(kinds.size() == totals.at("by_kind").as_object().size());
    for (const auto& kv : totals.at("by_kind").as_object())
        BOOST_TEST(kinds.at(std::string(kv.key())) == std::to_string(kv.value().as_int64()));

    const auto teams = hooks(html, "data-team-total");
    BOOST_TEST(teams.size() == totals.at("by_team").as_object().size());
    for (const auto& kv : totals.at("by_team").as_object())
        BOOST_TEST(teams.at(std::string(kv.key())) == std::to_string(kv.value().as_int64()));

    const auto flagged = hooks(html, "data-team-flagged");
    for (const auto& kv : totals.at("flagged_by_team").as_object())
        BOOST_TEST(flagged.at(std::string(kv.key())) == std::to_string(kv.value().as_int64()));

    const auto dispositions = hooks(html, "data-disposition-total");
    for (const auto& kv : totals.at("by_disposition").as_object())
        BOOST_TEST(dispositions.at(std::string(kv.key())) == std::to_string(kv.value().as_int64()));

    // Open escalations: 23.6 d and 84 d and 0.2 d; the resolved one is not counted.
    const auto ages = hooks(html, "data-age-bucket");
    BOOST_TEST(ages.at("0-1d") == "1");
    BOOST_TEST(ages.at("1-7d") == "0");
    BOOST_TEST(ages.at("7-30d") == "1");
    BOOST_TEST(ages.at("30d+") == "1");
}

BOOST_AUTO_TEST_CASE(html_counts_from_findings_when_totals_are_absent) {
    json::object r = sample_report();
    r.erase("totals");
    const std::string html = reconciler::render_html(r);
    const auto total = hooks(html, "data-total");
    BOOST_TEST(total.at("findings") == "5");
    BOOST_TEST(total.at("applied") == "2");
    BOOST_TEST(total.at("flagged") == "3");
    const auto kinds = hooks(html, "data-kind-total");
    BOOST_TEST(kinds.at("tier_mismatch") == "2");
    BOOST_TEST(kinds.at("credits_not_granted") == "1");
    const auto teams = hooks(html, "data-team-total");
    BOOST_TEST(teams.at("billing_engineering") == "3");
}

BOOST_AUTO_TEST_CASE(html_has_the_sections_and_is_self_contained) {
    const std::string html = reconciler::render_html(sample_report());
    BOOST_TEST(html.rfind("<!DOCTYPE html>", 0) == 0u);
    BOOST_TEST(html.find("<title>Stripe reconciliation run 42 — succeeded</title>") != std::string::npos);
    BOOST_TEST(html.find("<svg") != std::string::npos);
    BOOST_TEST(html.find("Content-Security-Policy") != std::string::npos);
    for (const char* s : {"ec40fdf9", "2025-03-31.basil", "2026-11-23T14:45:52Z", "2026-11-24T14:45:52Z",
                          "request_ids.txt", "window starts beyond event retention", "corr-grant-0001",
                          "corr-tier-0002", "user41@example.com", "in_A1", "sub_B2", "2026-11-24T14:40:00Z"}) {
        BOOST_TEST_INFO("missing " << s);
        BOOST_TEST(html.find(s) != std::string::npos);
    }
    // Nothing the page would load; links only to the Dashboard.
    check_offline(html);
    // What needs a person comes first; the manifest below, collapsed.
    const auto actions = html.find("<section class=\"actions\" id=\"actions\">");
    const auto manifest = html.find("<details class=\"manifest\" id=\"manifest\">\n<summary>Run manifest</summary>");
    BOOST_TEST(actions != std::string::npos);
    BOOST_TEST(manifest != std::string::npos);
    BOOST_TEST(actions < html.find("<h2 id=\"totals\">"));
    BOOST_TEST(html.find("<h2 id=\"totals\">") < manifest);
    BOOST_TEST(html.find("data-action=\"window\"") < html.find("<h2 id=\"totals\">"));
}

BOOST_AUTO_TEST_CASE(html_escapes_hostile_strings) {
    const std::string html = reconciler::render_html(hostile_report());
    check_offline(html);
    BOOST_TEST(html.find("<img") == std::string::npos);
    BOOST_TEST(html.find("<b>") == std::string::npos);
    BOOST_TEST(html.find("<i>") == std::string::npos);
    BOOST_TEST(html.find("</td><script") == std::string::npos);
    BOOST_TEST(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;@evil.example") != std::string::npos);
    BOOST_TEST(html.find("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39; https&#58;//") !=
               std::string::npos);
    BOOST_TEST(html.find("in_&lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
    // Attribute values are escaped too: the hook's key cannot close its quote.
    BOOST_TEST(html.find("data-kind-total=\"kind&lt;script&gt;&quot;&amp;&#39;\"") != std::string::npos);
    BOOST_TEST(html.find("data-team-total=\"billing_engineering&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"") !=
               std::string::npos);
    // Every raw '<' in the output starts a tag this renderer writes.
    const std::regex tag("<(/?)([a-zA-Z!][a-zA-Z0-9]*)");
    const std::vector<std::string> allowed{"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header",
                                           "h1", "h2", "h3", "p", "span", "div", "strong", "table", "thead",
                                           "tbody", "tr", "th", "td", "code", "ul", "li", "br", "svg", "g",
                                           "text", "rect", "footer", "a", "section", "details", "summary",
                                           "script", "line"};
    for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
        BOOST_TEST_INFO("unexpected tag " << (*it)[2]);
        BOOST_TEST((std::find(allowed.begin(), allowed.end(), (*it)[2].str()) != allowed.end()));
    }
}

// Writes a sample report directory for tests/e2e/chromium_report_test.sh when
// REPORT_RENDER_SAMPLE_DIR is set (ctest fixture); otherwise only renders.
BOOST_AUTO_TEST_CASE(browser_sample) {
    const json::object r = hostile_report();
    const std::string html = reconciler::render_html(r);
    BOOST_TEST(html.find("</html>") != std::string::npos);
    const char* dir = std::getenv("REPORT_RENDER_SAMPLE_DIR");
    if (dir == nullptr || *dir == '\0') return;
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    std::ofstream(fs::path(dir) / "report.json", std::ios::binary | std::ios::trunc) << json::serialize(r) << '\n';
    std::ofstream(fs::path(dir) / "report.html", std::ios::binary | std::ios::trunc) << html;
    BOOST_TEST(fs::file_size(fs::path(dir) / "report.html") == html.size());
}

// run.deliveries in "What needs you" and summary.md; none without routes.
BOOST_AUTO_TEST_CASE(deliveries_are_shown_where_someone_looks) {
    json::object r = sample_report();
    BOOST_TEST(reconciler::render_html(r).find("data-action=\"deliveries\"") == std::string::npos);
    r["run"].as_object()["deliveries"] = json::parse(
        R"({"sent": 4, "failed": 1, "pending": 2, "by_route": {"data_platform/pagerduty": {"sent": 4, "failed": 0,
            "pending": 0}, "devops/webhook": {"sent": 0, "failed": 1, "pending": 2}}})");
    const std::string html = reconciler::render_html(r);
    const auto at = html.find("data-action=\"deliveries\"");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const std::string line = html.substr(at, html.find("</p>", at) - at);
    BOOST_TEST(line.find("<strong>4</strong> sent, <strong>1</strong> failed, <strong>2</strong> pending") !=
                   std::string::npos, line);
    BOOST_TEST(line.find("<code>devops/webhook</code>: <strong>1</strong> failed, <strong>2</strong> pending") !=
                   std::string::npos, line);
    BOOST_TEST(line.find("data_platform/pagerduty") == std::string::npos, line);  // nothing wrong there
    BOOST_TEST(html.find("id=\"actions\"") < at);
    const std::string md = reconciler::render_summary_md(r);
    BOOST_TEST(md.find("- Deliveries to the teams' routes: 4 sent, 1 failed, 2 pending (`devops/webhook`: 1 failed, 2 pending)") !=
                   std::string::npos, md);
}

BOOST_AUTO_TEST_SUITE_END()
