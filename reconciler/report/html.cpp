#include "report/html.hpp"

#include "report/dashboard_links.hpp"
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"
#include "report/json_read.hpp"
#include "report/wording.hpp"

#include <algorithm>
#include <array>
#include <ostream>
#include <sstream>
#include <vector>

namespace reconciler {

namespace json = boost::json;

namespace detail {
namespace {

inline constexpr std::string_view html_style = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fff; margin: 2rem auto; max-width: 1280px; padding: 0 1.25rem; }
h1 { font-size: 1.55rem; margin: 0 0 .4rem; }
h2 { font-size: 1.15rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p.lead { margin: 0 0 1rem; color: #57606a; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .3rem .55rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de; }
table.kv th { width: 13rem; color: #57606a; font-weight: 500; }
table.inner { margin: 0; width: auto; }
table.inner th, table.inner td { padding: .05rem .8rem .05rem 0; border: 0; width: auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.narrow { width: auto; min-width: 22rem; }
table.totals th, table.totals td { vertical-align: middle; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em;
       overflow-wrap: anywhere; }
td.kind code { overflow-wrap: normal; white-space: nowrap; }
ul.plain { margin: 0; padding-left: 1.1rem; }
.muted { color: #6e7781; }
.small { font-size: .85em; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600;
         border: 1px solid; white-space: nowrap; }
.good { color: #1a7f37; border-color: #1a7f37; background: #dafbe1; }
.warn { color: #9a6700; border-color: #bf8700; background: #fff8c5; }
.bad { color: #cf222e; border-color: #cf222e; background: #ffebe9; }
.neutral { color: #57606a; border-color: #8c959f; background: #f6f8fa; }
.callout { border: 1px solid #cf222e; background: #ffebe9; padding: .6rem .8rem; border-radius: 6px; margin: 1rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 0 2rem; align-items: start; }
.big { font-size: 1.35rem; font-weight: 600; }
svg.chart { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg.chart rect { fill: #4f7cac; }
svg.chart text { fill: #1f2328; }
footer { margin-top: 2.5rem; color: #6e7781; font-size: .85em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5px; padding: 0; }
  h2 { break-after: avoid; }
  tr, svg.chart { break-inside: avoid; }
  thead { display: table-header-group; }
  .badge, .callout { background: none; }
}
)css";

// Age buckets for open escalations; the labels are also the data-age-bucket
// hooks the browser test reads.
inline constexpr std::array<std::string_view, 5> age_buckets{"0-1d", "1-7d", "7-30d", "30d+", "unknown"};
inline constexpr std::array<std::string_view, 5> age_bucket_labels{"&lt; 1 day", "1–7 days", "7–30 days",
                                                                   "&gt; 30 days", "age unknown"};

std::size_t age_bucket(std::optional<double> age_days) {
    if (!age_days) return 4;
    if (*age_days < 1) return 0;
    if (*age_days < 7) return 1;
    if (*age_days <= 30) return 2;
    return 3;
}

// The page being written: long tables go out in pieces, so the page is never
// whole in memory.
struct page {
    std::ostream& out;
    std::string h;
    void spill() {
        if (h.size() < 65536) return;
        flush();
    }
    void flush() {
        out << h;
        h.clear();
    }
};

std::string run_id_or_unknown(const report_view& v) { return html_escape(v.run_id.empty() ? "?" : v.run_id); }

void head_and_header(page& p, const report_view& v) {
    std::string& h = p.h;
    const std::string status = v.status.empty() ? "unknown" : v.status;
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    // Defence in depth behind the escaping: even injected markup could neither
    // run script nor fetch anything.
    // The one script (sorting, filtering) runs by its hash; links to the
    // Dashboard are navigations, which default-src does not govern.
    h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src " + table_script_csp_source() + "\">\n";
    h += "<meta name=\"referrer\" content=\"no-referrer\">\n";
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<title>Stripe reconciliation run " + run_id_or_unknown(v) + " — " + html_escape(status) + "</title>\n";
    h += "<style>";
    h += html_style;
    h += extra_style();
    h += "</style>\n</head>\n<body>\n";

    h += "<header>\n<h1>Stripe reconciliation run <span data-run=\"id\">" + run_id_or_unknown(v) + "</span> " +
         badge(status);
    if (v.mode == "dry_run") h += " " + badge("dry_run");
    h += "</h1>\n<p class=\"lead\">Window " + text_or_dash(v.window_start) + " → " + text_or_dash(v.window_end);
    if (!v.mode.empty()) h += " · mode " + html_escape(v.mode);
    h += "</p>\n";
    if (!v.error.empty()) h += "<div class=\"callout\"><strong>Run error:</strong> " + html_escape(v.error) + "</div>\n";
    if (v.mode == "dry_run")
        h += "<p class=\"muted\">Dry run: nothing was changed in the app's database; every finding is "
             "reported as flagged.</p>\n";
    h += "</header>\n";
}

void corrections(page& p, const report_view& v, const dashboard_context& links) {
    std::string& h = p.h;
    std::size_t count = 0;
    v.corrections([&](const correction_row&) { ++count; });
    h += "<h2 id=\"corrections\">Corrections (" + std::to_string(count) + ")</h2>\n";
    if (count == 0) {
        h += "<p class=\"muted\">No corrections" + std::string(v.mode == "dry_run" ? " (dry run)." : " were applied.") +
             "</p>\n";
        return;
    }
    const change_format fmt{[&](std::string_view s) { return linked_code_html(s, links); },
                            [](std::string_view s) { return html_escape(s); }};
    h += "<table id=\"corrections-table\" data-filters=\"kind user status\">\n<thead><tr>"
         "<th class=\"num\" data-key=\"id\">#</th><th data-key=\"kind\">Kind</th><th data-key=\"user\">User</th>"
         "<th data-key=\"change\">Change</th><th data-key=\"ledger_key\">Ledger key</th>"
         "<th data-key=\"correlation_id\">Correlation id</th><th data-key=\"status\">Status</th></tr></thead>\n<tbody>\n";
    v.corrections([&](const correction_row& c) {
        h += "<tr data-kind=\"" + html_escape(c.kind) + "\" data-user=\"" + html_escape(c.user_email) +
             "\" data-status=\"" + html_escape(c.status) + "\"><td class=\"num\">" + text_or_dash(c.id) +
             "</td><td class=\"kind\"><code>" + html_escape(c.kind) + "</code></td><td>" + text_or_dash(c.user_email) +
             "</td><td>" + describe_change(c, fmt) + "</td><td>" + linked_code_html(c.ledger_key, links) + "</td><td>" +
             code_html(c.correlation_id) + "</td><td>" + badge_or_dash(c.status) + "</td></tr>\n";
        p.spill();
    });
    h += "</tbody></table>\n";
}

// Only for escalation records: the open ones by age.
void escalation_ages(page& p, const std::array<std::int64_t, age_buckets.size()>& buckets) {
    std::string& h = p.h;
    h += "<h3>Open escalations by age</h3>\n<table class=\"narrow\">\n<thead><tr><th>Age</th>"
         "<th class=\"num\">Open</th></tr></thead>\n<tbody>\n";
    for (std::size_t i = 0; i < age_buckets.size(); ++i) {
        if (i == 4 && buckets[i] == 0) continue;  // "unknown" only when it happens
        h += "<tr><td>" + std::string(age_bucket_labels[i]) + "</td><td class=\"num\" data-age-bucket=\"" +
             html_escape(age_buckets[i]) + "\">" + std::to_string(buckets[i]) + "</td></tr>\n";
    }
    h += "</tbody></table>\n";
}

void escalations(page& p, const report_view& v, const dashboard_context& links) {
    std::string& h = p.h;
    // A first pass counts them (the heading and the age table lead), a second lists them.
    std::size_t count = 0;
    std::array<std::int64_t, age_buckets.size()> buckets{};
    v.escalations([&](const escalation_row& e) {
        ++count;
        if (e.status == "open") ++buckets[age_bucket(e.age_days)];
    });
    h += "<h2 id=\"escalations\">Escalations (" + std::to_string(count) + ")</h2>\n";
    if (!v.escalation_records)
        h += "<p class=\"muted small\">This report carries no escalation records; listed are the findings "
             "flagged for a team in this run.</p>\n";
    if (v.escalation_records) escalation_ages(p, buckets);
    if (count == 0) {
        h += "<p class=\"muted\">Nothing escalated.</p>\n";
        return;
    }
    h += "<table id=\"escalations-table\" data-filters=\"team kind status user\">\n<thead><tr>"
         "<th data-key=\"team\">Team</th><th data-key=\"kind\">Kind</th><th data-key=\"subject\">Subject</th>";
    if (v.escalation_records)
        h += "<th data-key=\"status\">Status</th><th class=\"num\" data-key=\"age\">Age</th>"
             "<th data-key=\"first_seen\">First seen</th><th data-key=\"last_seen\">Last seen</th>"
             "<th class=\"num\" data-key=\"occurrences\">Seen</th></tr></thead>\n<tbody>\n";
    else
        h += "<th data-key=\"user\">User</th><th data-key=\"status\">Disposition</th></tr></thead>\n<tbody>\n";
    std::size_t n = 0;
    v.escalations([&](const escalation_row& e) {
        h += "<tr id=\"" + html_escape(escalation_row_anchor(e, n++)) + "\" data-team=\"" + html_escape(e.team) +
             "\" data-kind=\"" + html_escape(e.kind) + "\" data-status=\"" + html_escape(e.status) +
             "\" data-user=\"" + html_escape(e.user_email) + "\"><td>" + text_or_dash(e.team) +
             "</td><td class=\"kind\"><code>" + html_escape(e.kind) + "</code></td><td>" +
             linked_code_html(e.subject, links) + "</td><td>";
        if (v.escalation_records)
            h += badge_or_dash(e.status) + "</td><td class=\"num\" data-sort=\"" +
                 (e.age_days ? format_double(*e.age_days) : std::string("-1")) + "\">" +
                 text_or_dash(format_age(e.age_days)) + "</td><td>" + text_or_dash(e.first_seen) + "</td><td>" +
                 text_or_dash(e.last_seen) + "</td><td class=\"num\">" + text_or_dash(e.occurrences) + "</td></tr>\n";
        else
            h += text_or_dash(e.user_email) + "</td><td>" + badge(e.status) + "</td></tr>\n";
        p.spill();
    });
    h += "</tbody></table>\n";
}

// Row by row to the stream: a run's findings are never all in memory.
void findings(page& p, const report_view& v, const dashboard_context& links) {
    std::string& h = p.h;
    h += "<h2 id=\"findings\">All findings (" + std::to_string(v.finding_count) + ")</h2>\n";
    if (v.finding_count == 0) {
        h += "<p class=\"muted\">No findings.</p>\n";
        return;
    }
    h += "<table id=\"findings-table\" data-filters=\"kind team disposition user\">\n<thead><tr>"
         "<th data-key=\"kind\">Kind</th><th data-key=\"subject\">Subject</th><th data-key=\"user\">User</th>"
         "<th data-key=\"team\">Team</th><th data-key=\"disposition\">Disposition</th>"
         "<th data-key=\"summary\">Summary</th><th data-key=\"correlation_id\">Correlation id</th></tr></thead>\n"
         "<tbody>\n";
    p.flush();
    std::size_t n = 0;
    v.findings([&](const json::object* f) {
        const std::string user_id = str_at(f, "user_id"), note = str_at(f, "note"), kind = str_at(f, "kind");
        const std::string email = str_at(f, "user_email"), team = str_at(f, "team");
        const std::string disposition = str_at(f, "disposition"), subject = str_at(f, "subject_id");
        const std::string customer = str_at(f, "customer");
        // An object's own livemode, when its evidence says, wins over the run's key mode.
        dashboard_context here = links;
        if (const json::value* live = field(object_at(f, "evidence"), "livemode"); live && live->is_bool())
            here.livemode = live->get_bool();
        h += "<tr id=\"finding-" + std::to_string(++n) + "\" data-kind=\"" + html_escape(kind) + "\" data-team=\"" +
             html_escape(team) + "\" data-disposition=\"" + html_escape(disposition) + "\" data-user=\"" +
             html_escape(email) + "\" data-subject=\"" + html_escape(subject) + "\"><td class=\"kind\"><code>" +
             html_escape(kind) + "</code></td>";
        h += "<td data-sort=\"" + html_escape(subject) + "\"><span class=\"muted small\">" +
             html_escape(str_at(f, "subject_type")) + "</span><br>" + linked_code_html(subject, here);
        if (!customer.empty() && customer != subject)
            h += "<br><span class=\"muted small\">customer</span> " + linked_code_html(customer, here);
        h += "</td><td>" + text_or_dash(email);
        if (!user_id.empty()) h += " <span class=\"muted small\">#" + html_escape(user_id) + "</span>";
        h += "</td><td>" + text_or_dash(team) + "</td>";
        h += "<td>" + badge_or_dash(disposition) + "</td>";
        h += "<td>" + linked_ids_html(str_at(f, "summary"), here);
        if (!note.empty()) h += "<br><span class=\"muted small\">" + linked_ids_html(note, here) + "</span>";
        h += "</td><td>" + code_html(str_at(f, "correlation_id")) + "</td></tr>\n";
        p.flush();
    });
    h += "</tbody></table>\n";
}

void footer(page& p, const report_view& v) {
    const std::string schema = str_at(&v.report, "schema_version");
    const std::string request_ids = str_at(v.run, "request_ids_file");
    p.h += "<script>";
    p.h += table_script();
    p.h += "</script>\n";
    p.h += "<footer>Rendered by stripe-reconciler from report.json (schema version " +
           html_escape(schema.empty() ? "?" : schema) +
           "). Evidence for each finding and the Stripe request ids are in report.json and " +
           html_escape(request_ids.empty() ? "request_ids.txt" : request_ids) + ".</footer>\n</body>\n</html>\n";
}

}  // namespace
}  // namespace detail

void render_html(std::ostream& out, const report_view& view, const std::vector<store::run_summary>& history) {
    using namespace detail;
    page p{out, {}};
    p.h.reserve(16384);
    const dashboard_context links = dashboard_of(view.run);
    head_and_header(p, view);
    action_summary_html(p.h, view);
    if (!history.empty()) {
        p.h += "<h2 id=\"trend\">Trend: " +
               (history.size() == 1 ? std::string("the first run") : "the last " + std::to_string(history.size()) + " runs") +
               " kept in the database</h2>\n" +
               trend_svg(history) + "<details><summary>The trend's numbers</summary>\n" + trend_table_html(history) +
               "</details>\n";
    }
    totals_html(p.h, view.totals);
    by_team_html(p.h, view.totals);
    corrections(p, view, links);
    escalations(p, view, links);
    manifest_html(p.h, view);
    findings(p, view, links);
    footer(p, view);
    p.flush();
}

std::string render_html(const json::object& report, const std::vector<store::run_summary>& history) {
    std::ostringstream out;
    const report_view view(report);
    render_html(out, view, history);
    return out.str();
}

}  // namespace reconciler
