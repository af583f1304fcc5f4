// The human formats of report.json: numbers equal the JSON's, hostile data
// stays text, CSV is RFC 4180 and spreadsheet-safe, the ticket summary names
// correlation ids and the rerun command, and broken reports still render.
#include "app/report_render.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace json = boost::json;

namespace {

// Data from Stripe and users that tries to become markup, formulas or links.
const std::string hostile_email = "<script>alert('x')</script>\"@evil.example";
const std::string hostile_summary = "paid <img src=x onerror=alert(1)> & \"quoted\" 'single' https://evil.example/p";
const std::string hostile_note = "=HYPERLINK(\"http://evil.example\",\"click\")";

json::object sample_report() {
    return json::parse(R"({
  "schema_version": 1,
  "run": {
    "id": 42, "status": "succeeded", "error": "", "mode": "apply",
    "window": {"start": "2026-11-23T14:45:52Z", "end": "2026-11-24T14:45:52Z"},
    "started_at": "2026-11-24T14:45:52Z", "finished_at": "2026-11-24T14:45:54Z", "duration_seconds": 2,
    "config_hash": "ec40fdf9", "stripe_api_version": "2025-03-31.basil",
    "pages": 35, "objects": 76, "requests": 36, "retries": 1, "request_ids_file": "request_ids.txt",
    "notes": ["window starts beyond event retention"],
    "cursors": {"events": "2026-11-24T14:45:50Z", "invoices": "2026-11-24T14:40:00Z"},
    "future_field": {"ignored": true}
  },
  "totals": {
    "findings": 5, "applied": 2, "flagged": 3,
    "by_kind": {"credits_not_granted": 1, "tier_mismatch": 2, "amount_mismatch": 1, "missing_correlation_id": 1},
    "by_disposition": {"applied": 2, "flagged": 2, "failed": 1},
    "flagged_by_team": {"billing_engineering": 2, "devops": 1},
    "by_team": {"backend_engineering": 1, "billing_engineering": 3, "devops": 1}
  },
  "findings": [
    {"kind": "credits_not_granted", "subject_type": "invoice", "subject_id": "in_A1", "customer": "cus_1",
     "user_id": 40, "user_email": "user40@example.com", "team": "backend_engineering", "disposition": "applied",
     "summary": "paid invoice in_A1 granted no credits", "note": "", "correlation_id": "corr-grant-0001",
     "correction_id": 1, "evidence": {"invoice": "in_A1"},
     "correction": {"kind": "grant_credits", "ledger_key": "in_A1", "credits": 1000, "record_payment": true}},
    {"kind": "tier_mismatch", "subject_type": "subscription", "subject_id": "sub_B2", "customer": "cus_2",
     "user_id": 41, "user_email": "user41@example.com", "team": "billing_engineering", "disposition": "applied",
     "summary": "user41 is on plan pro: set team", "note": "", "correlation_id": "corr-tier-0002",
     "correction_id": 2, "evidence": {},
     "correction": {"kind": "set_tier", "ledger_key": "sub_B2#evt_9", "tier_from": "pro", "tier_to": "team"}},
    {"kind": "tier_mismatch", "subject_type": "subscription", "subject_id": "sub_C3", "customer": "cus_3",
     "user_id": null, "user_email": "", "team": "billing_engineering", "disposition": "failed",
     "summary": "conflict twice", "note": "-5 credits, again", "correlation_id": "", "correction_id": 0,
     "evidence": {}, "correction": {"kind": "set_tier", "ledger_key": "sub_C3#evt_1", "tier_from": "free",
     "tier_to": "pro"}},
    {"kind": "amount_mismatch", "subject_type": "invoice", "subject_id": "in_D4", "customer": "cus_4",
     "user_id": 43, "user_email": "", "team": "billing_engineering", "disposition": "flagged",
     "summary": "", "note": "", "correlation_id": "", "correction_id": 0, "evidence": {}, "correction": null},
    {"kind": "missing_correlation_id", "subject_type": "credit_event", "subject_id": "ce_5", "customer": "",
     "user_id": 44, "user_email": "", "team": "devops", "disposition": "flagged",
     "summary": "", "note": "", "correlation_id": "", "correction_id": 0, "evidence": {}, "correction": null}
  ],
  "escalations": [
    {"id": 7, "team": "billing_engineering", "kind": "amount_mismatch", "subject": "in_D4",
     "first_seen": "2026-11-01T00:00:00Z", "last_seen": "2026-11-24T14:45:54Z", "occurrences": 3,
     "status": "open", "age_days": 23.6, "evidence": {}},
    {"id": 8, "team": "devops", "kind": "missing_correlation_id", "subject": "ce_5",
     "first_seen": "2026-11-24T14:45:54Z", "last_seen": "2026-11-24T14:45:54Z", "occurrences": 1,
     "status": "open", "age_days": 0.2, "evidence": {}},
    {"id": 9, "team": "billing_engineering", "kind": "tier_mismatch", "subject": "sub_C3",
     "first_seen": "2026-09-01T00:00:00Z", "last_seen": "2026-11-24T14:45:54Z", "occurrences": 5,
     "status": "open", "age_days": 84, "evidence": {}},
    {"id": 3, "team": "data_platform", "kind": "balance_drift", "subject": "user:12",
     "first_seen": "2026-10-01T00:00:00Z", "last_seen": "2026-10-02T00:00:00Z", "occurrences": 2,
     "status": "resolved", "age_days": 54, "evidence": {}}
  ]
})")
        .as_object();
}

// A report where data carries every hostile pattern.
json::object hostile_report() {
    json::object r = sample_report();
    auto& findings = r["findings"].as_array();
    auto& f = findings[3].as_object();
    f["user_email"] = hostile_email;
    f["summary"] = hostile_summary;
    f["note"] = hostile_note;
    f["subject_id"] = "in_<b>bold</b>";
    f["team"] = "billing_engineering\"><script>x</script>";
    findings[0].as_object()["user_email"] = "+1 @user <i>";
    r["totals"].as_object()["by_kind"].as_object()["kind<script>\"&'"] = 0;
    r["totals"].as_object()["by_team"].as_object()["billing_engineering\"><script>x</script>"] = 1;
    r["run"].as_object()["error"] = "upstream said </td><script src=\"https://evil.example/x.js\"></script>";
    r["run"].as_object()["notes"].as_array().push_back(json::string("see HTTP://EVIL.example and `code` ![i](x)"));
    r["escalations"].as_array()[0].as_object()["subject"] = "in_D4 ``` [link](javascript:alert(1))";
    return r;
}

std::map<std::string, std::string> hooks(const std::string& html, const std::string& attr) {
    std::map<std::string, std::string> out;
    const std::regex re(attr + "=\"([^\"]*)\">([^<]*)<");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it) {
        BOOST_TEST_INFO("duplicate hook " << attr << "=" << (*it)[1]);
        BOOST_CHECK(out.emplace((*it)[1], (*it)[2]).second);
    }
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void check_offline_and_scriptless(const std::string& out) {
    const std::string l = lower(out);
    BOOST_TEST(l.find("<script") == std::string::npos);
    BOOST_TEST(l.find("http://") == std::string::npos);
    BOOST_TEST(l.find("https://") == std::string::npos);
}

std::vector<std::string> csv_records(const std::string& csv);

}  // namespace

BOOST_AUTO_TEST_SUITE(report_render)

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
    // Nothing the page would load: no src/href/url()/@import at all.
    for (const char* s : {"src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object"}) {
        BOOST_TEST_INFO("found " << s);
        BOOST_TEST(lower(html).find(s) == std::string::npos);
    }
    check_offline_and_scriptless(html);
}

BOOST_AUTO_TEST_CASE(html_escapes_hostile_strings) {
    const std::string html = reconciler::render_html(hostile_report());
    check_offline_and_scriptless(html);
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
                                           "text", "rect", "footer"};
    for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
        BOOST_TEST_INFO("unexpected tag " << (*it)[2]);
        BOOST_TEST((std::find(allowed.begin(), allowed.end(), (*it)[2].str()) != allowed.end()));
    }
}

BOOST_AUTO_TEST_CASE(csv_is_rfc4180_and_spreadsheet_safe) {
    const std::string csv = reconciler::render_findings_csv(hostile_report());
    BOOST_TEST(csv.rfind("kind,subject_type,subject_id,customer,user_id,user_email,team,disposition,correlation_id,"
                         "correction_kind,credits,tier_from,tier_to,summary,note\r\n",
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
               "grant_credits,-250,,,'-2+3,'=1+1");
    // A text value in a numeric column is still guarded.
    f["correction"].as_object()["credits"] = "=cmd|' /C calc'!A0";
    BOOST_TEST(reconciler::render_findings_csv(r).find(",'=cmd|' /C calc'!A0,") != std::string::npos);
}

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
            check_offline_and_scriptless(html);
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
