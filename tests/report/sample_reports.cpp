#include "report/sample_reports.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <regex>

namespace json = boost::json;

namespace report_samples {

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
    "config_hash": "ec40fdf9", "stripe_api_version": "2025-03-31.basil", "livemode": false,
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
    r["run"].as_object()["stripe_account"] = "acct_1\"><script>x</script>";  // not an account id: no prefix
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

namespace {

std::string sha256_base64(const std::string& text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
    std::array<unsigned char, 128> b64{};
    const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(len));
    return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

}  // namespace

void check_offline(const std::string& html) {
    const std::string l = lower(html);
    for (const char* s : {"url(", "@import", "<link", "<img", "<iframe", "<object", "http://"}) {
        BOOST_TEST_INFO("found " << s);
        BOOST_TEST(l.find(s) == std::string::npos);
    }
    // No tag fetches (data is escaped: a raw '<' starts one of the renderer's tags).
    const std::regex fetching("<[a-z]+[^>]*\\s(src|srcset|action|formaction|poster|background|data)=");
    BOOST_TEST(!std::regex_search(l, fetching));
    // Every URL is a link's: in-page, or a Dashboard page.
    std::size_t urls = 0, pos = 0;
    while ((pos = l.find("https://", pos)) != std::string::npos) {
        ++urls;
        pos += 8;
    }
    const std::regex href("href=\"([^\"]*)\"");
    std::size_t dashboard = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), href); it != std::sregex_iterator(); ++it) {
        const std::string v = (*it)[1];
        BOOST_TEST_INFO("href " << v);
        BOOST_TEST((v.rfind("#", 0) == 0u || v.rfind("https://dashboard.stripe.com/", 0) == 0u));
        if (v.rfind("https://", 0) == 0) ++dashboard;
    }
    BOOST_TEST(urls == dashboard);
    // One script, inline, allowed by the CSP's hash of exactly its text.
    const std::size_t open = l.find("<script");
    BOOST_REQUIRE(open != std::string::npos);
    BOOST_TEST(l.find("<script", open + 1) == std::string::npos);
    BOOST_REQUIRE(html.compare(open, 8, "<script>") == 0);
    const std::size_t close = html.find("</script>", open);
    BOOST_REQUIRE(close != std::string::npos);
    const std::string script = html.substr(open + 8, close - open - 8);
    BOOST_TEST(html.find("script-src 'sha256-" + sha256_base64(script) + "'") != std::string::npos);
}

}  // namespace report_samples
