// summary.md: names correlation ids and the rerun command, keeps hostile data inert.
#include "report/markdown.hpp"
#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace json = boost::json;
using namespace report_samples;

BOOST_AUTO_TEST_SUITE(markdown)

BOOST_AUTO_TEST_CASE(summary_names_fixes_escalations_and_the_rerun_command) {
    const std::string md = reconciler::render_summary_md(sample_report());
    BOOST_TEST_MESSAGE(md);
    for (const char* s :
         {"run 42", "`succeeded`", "`2026-11-23T14:45:52Z`", "`2026-11-24T14:45:52Z`", "`corr-grant-0001`",
          "`corr-tier-0002`", "`user40@example.com`", "granted 1000 AI credits for invoice `in_A1`",
          "recorded the missing payment", "plan `pro` → `team` (subscription `sub_B2`)", "`billing_engineering` (2)",
          "`devops` (1)", "`amount_mismatch` `in_D4`", "seen 3×", "1 earlier escalation(s) now resolved",
          "reconciler run --config FILE --since 2026-11-23T14:45:52Z --until 2026-11-24T14:45:52Z\n"}) {
        BOOST_TEST_INFO("missing " << s);
        BOOST_TEST(md.find(s) != std::string::npos);
    }
    BOOST_TEST(md.find("balance_drift") == std::string::npos);  // resolved: not escalated now
    BOOST_TEST(md.size() < 2500u);                              // short enough for a ticket
}

BOOST_AUTO_TEST_CASE(summary_without_records_uses_findings) {
    json::object r = sample_report();
    r.erase("escalations");
    const std::string md = reconciler::render_summary_md(r);
    BOOST_TEST(md.find("**Escalated (3)**") != std::string::npos);
    BOOST_TEST(md.find("`tier_mismatch` `subscription sub_C3`: `failed`") != std::string::npos);
    BOOST_TEST(md.find("`corr-grant-0001`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_keeps_hostile_data_inert) {
    json::object r = hostile_report();
    r.erase("escalations");
    const std::string md = reconciler::render_summary_md(r);
    // Data only ever appears inside code spans, whose fence outlasts any backtick run in it.
    BOOST_TEST(md.find("`+1 @user <i>`") != std::string::npos);
    BOOST_TEST(md.find("`<script>alert('x')</script>\"@evil.example`") != std::string::npos);
    BOOST_TEST(md.find("``see HTTP://EVIL.example and `code` ![i](x)``") != std::string::npos);
    // A window value that is not a plain timestamp is one quoted shell word.
    r["run"].as_object()["window"].as_object()["start"] = "2026-11-01; rm -rf / 'x'\n";
    const std::string md2 = reconciler::render_summary_md(r);
    BOOST_TEST(md2.find("--since '2026-11-01; rm -rf / '\\''x'\\''' --until 2026-11-24T14:45:52Z\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
