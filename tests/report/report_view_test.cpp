// The report view reads any report.json: every field may be missing, null or
// of the wrong type, and each renderer still renders it as far as it goes.
#include "report/csv.hpp"
#include "report/html.hpp"
#include "report/markdown.hpp"
#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
using namespace report_samples;

BOOST_AUTO_TEST_SUITE(report_view)

BOOST_AUTO_TEST_CASE(missing_and_null_fields_render_without_throwing) {
    const std::vector<std::string> reports{
        "{}",
        R"({"run": null, "totals": null, "findings": null, "escalations": null, "corrections": null})",
        R"({"run": {"id": null, "window": null, "notes": null, "cursors": null}, "totals": {"by_kind": null,
            "findings": "many", "by_team": {"x": null}}, "findings": [null, 3, "x", {}, {"correction": null},
            {"kind": 5, "user_id": {"nested": [1]}, "correction": {"credits": null}, "disposition": "applied"}],
            "escalations": [null, {}, {"age_days": "old", "status": "open"}, {"status": "open", "age_days": 1e300}],
            "corrections": [null, {}, {"kind": "set_tier", "ledger_key": null}]})",
        R"({"run": {"id": 18446744073709551615, "duration_seconds": 1.5, "window": {"start": 1, "end": true},
            "status": "failed", "error": "boom"}, "totals": {"findings": 2.0, "applied": -1}})",
        R"({"run": {"window": {"start": 2}}, "findings": [{"kind": "k", "team": "t", "disposition": "flagged"}]})",
    };
    for (const auto& text : reports) {
        BOOST_TEST_CONTEXT(text) {
            const json::object r = json::parse(text).as_object();
            std::string html, csv, md;
            BOOST_CHECK_NO_THROW(html = reconciler::render_html(r));
            BOOST_CHECK_NO_THROW(csv = reconciler::render_findings_csv(r));
            BOOST_CHECK_NO_THROW(md = reconciler::render_summary_md(r));
            BOOST_TEST(html.find("</html>") != std::string::npos);
            BOOST_TEST(csv.rfind("kind,", 0) == 0u);
            BOOST_TEST(md.find("reconciler run --config FILE --since") != std::string::npos);
            check_offline(html);
        }
    }
    // Integral doubles count; other junk falls back to counting findings[].
    const auto r = json::parse(reports[3]).as_object();
    const auto total = hooks(reconciler::render_html(r), "data-total");
    BOOST_TEST(total.at("findings") == "2");
    BOOST_TEST(total.at("applied") == "-1");
    const auto r2 = json::parse(reports[2]).as_object();
    BOOST_TEST(hooks(reconciler::render_html(r2), "data-total").at("findings") == "6");
}

BOOST_AUTO_TEST_SUITE_END()
