// findings.csv: RFC 4180 and spreadsheet-safe.
#include "report/csv.hpp"
#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
using namespace report_samples;

namespace {

std::vector<std::string> csv_records(const std::string& csv);

}  // namespace

BOOST_AUTO_TEST_SUITE(csv)

BOOST_AUTO_TEST_CASE(csv_is_rfc4180_and_spreadsheet_safe) {
    const std::string csv = reconciler::render_findings_csv(hostile_report());
    BOOST_TEST(csv.rfind("kind,subject_type,subject_id,customer,user_id,user_email,team,disposition,correlation_id,"
                         "correction_kind,credits,tier_from,tier_to,summary,note,run_id,window_start,window_end\r\n",
                         0) == 0u);
    // Every line ends CRLF: no bare LF or CR outside quoted fields here.
    BOOST_TEST(csv.size() >= 2u);
    BOOST_TEST(csv.substr(csv.size() - 2) == "\r\n");
    const auto records = csv_records(csv);
    BOOST_TEST(records.size() == 6u);  // header + 5 findings

    // Quotes doubled and fields with comma/quote quoted.
    BOOST_TEST(csv.find("\"'<script>alert('x')</script>\"\"@evil.example\"") == std::string::npos);
    BOOST_TEST(csv.find(",\"<script>alert('x')</script>\"\"@evil.example\",") != std::string::npos);
    BOOST_TEST(csv.find("\"paid <img src=x onerror=alert(1)> & \"\"quoted\"\" 'single' https://evil.example/p\"") !=
               std::string::npos);
    // Formula injection neutralised, in quoted and unquoted fields.
    BOOST_TEST(csv.find(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"") != std::string::npos);
    BOOST_TEST(csv.find(",'+1 @user <i>,") != std::string::npos);
    BOOST_TEST(csv.find(",\"'-5 credits, again\"") != std::string::npos);
    // A number is a number.
    BOOST_TEST(csv.find(",grant_credits,1000,") != std::string::npos);
    // null user_id is an empty field.
    BOOST_TEST(csv.find("subscription,sub_C3,cus_3,,,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(csv_guards_each_formula_prefix_but_not_negative_numbers) {
    json::object r = sample_report();
    auto& f = r["findings"].as_array()[0].as_object();
    f["correction"].as_object()["credits"] = -250;  // a revoke can be negative: a value, not a formula
    f["user_id"] = "-7";
    f["customer"] = "@SUM(A1)";
    f["team"] = "\tx";
    f["subject_type"] = "\rCR";
    f["summary"] = "-2+3";
    f["note"] = "=1+1";
    const std::string csv = reconciler::render_findings_csv(r);
    const auto records = csv_records(csv);
    BOOST_TEST(records[1] ==
               "credits_not_granted,\"'\rCR\",in_A1,'@SUM(A1),-7,user40@example.com,'\tx,applied,corr-grant-0001,"
               "grant_credits,-250,,,'-2+3,'=1+1,42,2026-11-23T14:45:52Z,2026-11-24T14:45:52Z");
    // A text value in a numeric column is still guarded.
    f["correction"].as_object()["credits"] = "=cmd|' /C calc'!A0";
    BOOST_TEST(reconciler::render_findings_csv(r).find(",'=cmd|' /C calc'!A0,") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Splits RFC 4180 text into records (raw text of each, without the CRLF),
// checking that every record ends with CRLF and quotes balance.
std::vector<std::string> csv_records(const std::string& csv) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < csv.size(); ++i) {
        const char c = csv[i];
        if (c == '"') quoted = !quoted;
        if (!quoted && c == '\r') {
            BOOST_REQUIRE(i + 1 < csv.size());
            BOOST_REQUIRE(csv[i + 1] == '\n');
            out.push_back(cur);
            cur.clear();
            ++i;
            continue;
        }
        BOOST_REQUIRE(quoted || c != '\n');
        cur += c;
    }
    BOOST_REQUIRE(!quoted);
    BOOST_REQUIRE(cur.empty());
    return out;
}

}  // namespace
