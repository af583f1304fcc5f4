// write_report(): a run's corrections stream from corrections.jsonl and its
// open escalations from the database, and the files read exactly as when the
// whole report was in memory: report.json's corrections[] in the order they
// were applied, and report.html / summary.md / findings.csv equal to the
// pure renderers' pages of the finished report.json (whose escalations the
// renderers sort: open first, oldest first).
#include "report/report.hpp"
#include "report/csv.hpp"
#include "report/html.hpp"
#include "report/markdown.hpp"
#include "core/timeutil.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace reconciler;

namespace {

const unix_seconds finished = parse_rfc3339("2026-11-24T12:00:00Z");

struct temp_dir {
    fs::path path;
    temp_dir() {
        path = fs::temp_directory_path() / ("recon-report-" + std::to_string(std::random_device{}()));
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A finding of the run; applied ones get a ledger row id and a correlation id.
finding_outcome outcome(int i, correction_kind kind, store::disposition d) {
    finding_outcome o;
    o.f.kind = kind == correction_kind::set_tier         ? finding_kind::tier_mismatch
               : kind == correction_kind::revoke_credits ? finding_kind::refund_or_dispute
                                                         : finding_kind::credits_not_granted;
    o.f.subject_type = kind == correction_kind::set_tier ? "subscription" : "invoice";
    o.f.subject_id = (kind == correction_kind::set_tier ? "sub_" : "in_") + std::to_string(i);
    o.f.customer_id = "cus_" + std::to_string(i);
    o.f.user_id = i;
    o.f.user_email = "user" + std::to_string(i) + "@example.com";
    o.f.owner = team::billing_engineering;
    o.f.summary = "finding " + std::to_string(i);
    o.f.evidence = {{"n", i}};
    proposed_correction c;
    c.kind = kind;
    c.ledger_key = o.f.subject_id;
    c.user_id = i;
    c.credits = 100 * i;
    c.unrecovered = i % 3;
    c.tier_from = "free";
    c.tier_to = "pro";
    if (i % 2 == 0) c.record_payment = local_payment{o.f.subject_id, o.f.customer_id, i, 2000, "usd", "paid", "x"};
    o.f.correction = c;
    o.disposition = d;
    if (d == store::disposition::applied) {
        o.correction_id = 1000 + i;
        o.correlation_id = "corr-" + std::to_string(i);
    } else {
        o.note = "not applied";
    }
    return o;
}

// Its report.json corrections[] item, keys in the order report.json has them.
json::object correction_item(const finding_outcome& o, const run_result& r) {
    const auto& c = *o.f.correction;
    json::object item{{"kind", to_string(c.kind)}, {"ledger_key", c.ledger_key}};
    if (c.kind == correction_kind::grant_credits) {
        item["credits"] = c.credits;
        item["record_payment"] = c.record_payment.has_value();
    } else if (c.kind == correction_kind::revoke_credits) {
        item["credits"] = c.credits;
        item["unrecovered"] = c.unrecovered;
    } else {
        item["tier_from"] = c.tier_from;
        item["tier_to"] = c.tier_to;
    }
    item["id"] = o.correction_id;
    item["user_email"] = o.f.user_email;
    item["correlation_id"] = o.correlation_id;
    item["finding"] = to_string(o.f.kind);
    item["subject_id"] = o.f.subject_id;
    item["status"] = "applied";
    // Each line says which run and window it is of (a warehouse loads many runs' files).
    item["run_id"] = r.run_id;
    item["window_start"] = format_rfc3339(r.window_start);
    item["window_end"] = format_rfc3339(r.window_end);
    return item;
}

// The escalations in the database: (subject, team, status, first_seen), raised in this order.
struct escalation_spec {
    std::string subject, team, status, first_seen;
};
const std::vector<escalation_spec> escalations{
    {"esc-01", "billing_engineering", "open", "2026-11-20T13:00:00Z"},      // 3 days
    {"esc-02", "billing_engineering", "open", "2026-11-21T11:00:00Z"},      // 3 days, seen later
    {"esc-03", "devops", "open", "2026-10-01T00:00:00Z"},                   // 54 days
    {"esc-04", "billing_engineering", "watching", "2026-09-01T00:00:00Z"},  // oldest, but watching
    {"esc-05", "devops", "open", "not a time"},                             // age 0
    {"esc-06", "backend_engineering", "open", "2026-11-24T11:00:00Z"},      // 0 days
    {"esc-07", "backend_engineering", "open", "2026-11-20T13:00:00Z"},      // as esc-01, a later id
    {"esc-08", "devops", "watching", "2026-11-23T00:00:00Z"},               // 1 day
    {"esc-09", "billing_engineering", "open", "2026-11-25T18:00:00Z"},      // in the future: -1
    {"esc-10", "backend_engineering", "resolved", "2026-11-01T00:00:00Z"},  // not listed
    {"esc-11", "backend_engineering", "open", "2026-11-10T00:00:00Z"},      // 14 days
    {"esc-12", "data_platform", "open", "2026-10-24T11:00:00Z"},            // 31 days
    {"esc-13", "devops", "open", "2026-10-25T12:00:00Z"},                   // 30 days
    {"esc-14", "billing_engineering", "watching", "2026-11-24T11:59:59Z"},  // 0 days
    {"esc-15", "backend_engineering", "open", "2026-11-01T00:00:00Z"},      // 23 days
    {"esc-16", "data_platform", "open", "2026-11-02T00:00:00Z"},            // 22 days
    {"esc-17", "backend_engineering", "open", "2026-11-03T00:00:00Z"},      // 21 days
    {"esc-18", "devops", "open", "2026-11-04T00:00:00Z"},                   // 20 days
    {"esc-19", "backend_engineering", "open", "2026-11-05T00:00:00Z"},      // 19 days
    {"esc-20", "data_platform", "open", "2026-11-06T00:00:00Z"},            // 18 days
};
// Open first, then watching; oldest first (whole days); then first seen, then raised first.
const std::vector<std::string> listed{"esc-03", "esc-12", "esc-13", "esc-15", "esc-16", "esc-17", "esc-18",
                                      "esc-19", "esc-20", "esc-11", "esc-01", "esc-07", "esc-02", "esc-06",
                                      "esc-05", "esc-09", "esc-04", "esc-08", "esc-14"};

std::unique_ptr<store::store> escalation_db(const fs::path& path, std::int64_t& run_id) {
    store::create_app_schema(path);
    auto db = store::open_sqlite_store({path, std::chrono::milliseconds(5000), false});
    db->migrate();
    run_id = db->begin_run({finished - 86400, finished, false, "hash", "2025-03-31.basil"});
    for (const auto& e : escalations)
        db->raise({e.team, "amount_mismatch", e.subject, R"({"invoice":"in_x"})", 0}, run_id,
                  e.status == "watching" ? 2 : 1);
    SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
    SQLite::Statement up(raw, "UPDATE recon_escalations SET status = ?, first_seen = ? WHERE subject = ?");
    for (const auto& e : escalations) {
        up.reset();
        up.bind(1, e.status);
        up.bind(2, e.first_seen);
        up.bind(3, e.subject);
        BOOST_REQUIRE(up.exec() == 1);
    }
    return db;
}

run_result finished_run(const fs::path& out, std::int64_t run_id) {
    run_result r;
    r.run_id = run_id;
    r.succeeded = true;
    r.window_start = finished - 86400;
    r.window_end = finished;
    r.started_at = finished - 60;
    r.finished_at = finished;
    r.config_hash = "hash";
    r.api_version = "2025-03-31.basil";
    r.report_dir = prepare_report_dir(out, run_id, r.started_at);
    return r;
}

// The text between two markers of a page.
std::string section(const std::string& html, const std::string& from, const std::string& to) {
    const auto a = html.find(from);
    const auto b = html.find(to, a);
    BOOST_REQUIRE(a != std::string::npos);
    BOOST_REQUIRE(b != std::string::npos);
    return html.substr(a, b - a);
}

// What follows each `prefix` in the text, up to the next '<'.
std::vector<std::string> after_each(const std::string& text, const std::string& prefix) {
    std::vector<std::string> out;
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
        const auto start = at + prefix.size();
        out.push_back(text.substr(start, text.find('<', start) - start));
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(streamed_corrections_and_escalations_read_as_the_whole_report) {
    temp_dir dir;
    std::int64_t run_id = 0;
    auto db = escalation_db(dir.path / "app.db", run_id);
    run_result r = finished_run(dir.path / "out", run_id);

    // Two parts of the window, applied corrections of every kind among other findings.
    json::array expected;
    {
        report_writer writer(r.report_dir);
        int i = 0;
        for (int part = 0; part < 2; ++part) {
            for (int k = 0; k < 12; ++k, ++i) {
                const auto kind = static_cast<correction_kind>(i % 3);
                const auto d = i % 5 == 4 ? store::disposition::flagged
                               : i % 7 == 6 ? store::disposition::already_applied
                                            : store::disposition::applied;
                r.outcomes.push_back(outcome(i, kind, d));
                if (d == store::disposition::applied) expected.push_back(correction_item(r.outcomes.back(), r));
            }
            writer.findings(r);
            BOOST_TEST(r.outcomes.empty());
        }
        writer.request_id("req_1");  // pages, as they arrive
        writer.request_id("req_2");
        writer.request_ids_done();
        BOOST_TEST(read(r.report_dir / "request_ids.txt") == "req_1\nreq_2\n");  // on disk before the writer goes
    }
    BOOST_REQUIRE(expected.size() > 15u);  // more than summary.md lists
    r.open_escalations = db->count_open_escalations();
    write_report(r, db.get());

    // report.json: corrections[] byte for byte as applied, in that order; corrections.jsonl beside it.
    const std::string text = read(r.report_dir / "report.json");
    const json::object report = json::parse(text).as_object();
    BOOST_TEST(json::serialize(report.at("corrections")) == json::serialize(expected));
    BOOST_TEST(text.find(",\"corrections\":" + json::serialize(expected) + ",\"escalations\":[") !=
               std::string::npos);
    std::string lines;
    for (const auto& c : expected) lines += json::serialize(c) + "\n";
    BOOST_TEST(read(r.report_dir / "corrections.jsonl") == lines);
    BOOST_TEST(report.at("findings").as_array().size() == 24u);
    BOOST_TEST(report.at("escalations").as_array().size() == listed.size());

    // The pages equal those of the whole report, which the renderers sort themselves.
    const std::string html = read(r.report_dir / "report.html");
    BOOST_TEST(html == render_html(report));
    BOOST_TEST(read(r.report_dir / "summary.md") == render_summary_md(report));
    BOOST_TEST(read(r.report_dir / "findings.csv") == render_findings_csv(report));

    // What a reader sees: the corrections as applied, the escalations open first, oldest first.
    const std::string corrections = section(html, "<h2 id=\"corrections\">", "<h2 id=\"escalations\">");
    BOOST_TEST(corrections.find("Corrections (" + std::to_string(expected.size()) + ")") != std::string::npos);
    std::vector<std::string> ids;
    for (const auto& c : expected) ids.push_back(std::to_string(c.at("id").as_int64()));
    BOOST_TEST(after_each(corrections, "data-status=\"applied\"><td class=\"num\">") == ids,
               boost::test_tools::per_element());
    const std::string listing = section(html, "<h2 id=\"escalations\">", "<h2 id=\"findings\">");
    BOOST_TEST(listing.find("Escalations (19)") != std::string::npos);
    std::vector<std::string> subjects;
    for (const auto& s : after_each(listing, "<code>"))
        if (s.rfind("esc-", 0) == 0) subjects.push_back(s);
    BOOST_TEST(subjects == listed, boost::test_tools::per_element());
    std::map<std::string, std::string> buckets;
    for (const auto& b : {"0-1d", "1-7d", "7-30d", "30d+"}) {
        const auto found = after_each(listing, std::string("data-age-bucket=\"") + b + "\">");
        BOOST_REQUIRE(found.size() == 1u);
        buckets[b] = found[0];
    }
    const std::map<std::string, std::string> open_by_age{{"0-1d", "3"}, {"1-7d", "3"}, {"7-30d", "8"}, {"30d+", "2"}};
    BOOST_TEST((buckets == open_by_age));
    const std::string md = read(r.report_dir / "summary.md");
    BOOST_TEST(md.find("**Fixed (" + std::to_string(expected.size()) + ")**") != std::string::npos);
    BOOST_TEST(md.find("**Escalated (19)**") != std::string::npos);
    BOOST_TEST(md.find("- … and 4 more (report.html)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_run_without_corrections_or_escalations) {
    temp_dir dir;
    run_result r = finished_run(dir.path / "out", 7);
    {
        report_writer writer(r.report_dir);
        r.outcomes.push_back(outcome(1, correction_kind::set_tier, store::disposition::flagged));
        writer.findings(r);
    }
    write_report(r, nullptr);  // a dry or failed run lists no escalations
    const std::string text = read(r.report_dir / "report.json");
    BOOST_TEST(text.find(",\"corrections\":[],\"escalations\":[],\"findings\":[{") != std::string::npos);
    BOOST_TEST(read(r.report_dir / "corrections.jsonl").empty());
    const json::object report = json::parse(text).as_object();
    const std::string html = read(r.report_dir / "report.html");
    BOOST_TEST(html == render_html(report));
    BOOST_TEST(html.find("No corrections were applied.") != std::string::npos);
    BOOST_TEST(html.find("Nothing escalated.") != std::string::npos);
    BOOST_TEST(read(r.report_dir / "summary.md") == render_summary_md(report));
}

BOOST_AUTO_TEST_SUITE_END()
