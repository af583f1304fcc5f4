// The run manifest: every run field, for audit; collapsed below the summary.
#include "report/html_markup.hpp"
#include "report/html_parts.hpp"
#include "report/json_read.hpp"

namespace reconciler::detail {

namespace json = boost::json;

void manifest_html(std::string& h, const report_view& v) {
    const json::object* run = v.run;
    // Below the action summary and closed: details for whoever audits the run.
    h += "<details class=\"manifest\" id=\"manifest\">\n<summary>Run manifest</summary>\n<table class=\"kv\">\n";
    auto row = [&](std::string_view label, const std::string& value_html) {
        h += "<tr><th>";
        h += label;
        h += "</th><td>" + value_html + "</td></tr>\n";
    };
    row("Run id", text_or_dash(v.run_id));
    row("Status", badge_or_dash(v.status));
    row("Mode", text_or_dash(v.mode));
    row("Window start", text_or_dash(v.window_start));
    row("Window end", text_or_dash(v.window_end));
    row("Started at", text_or_dash(str_at(run, "started_at")));
    row("Finished at", text_or_dash(str_at(run, "finished_at")));
    const std::string duration = str_at(run, "duration_seconds");
    row("Duration", duration.empty() ? text_or_dash("") : html_escape(duration) + " s");
    row("Config hash", code_html(str_at(run, "config_hash")));
    row("Stripe API version", code_html(str_at(run, "stripe_api_version")));
    const json::value* live = field(run, "livemode");
    row("Stripe mode", live != nullptr && live->is_bool() ? (live->get_bool() ? "live" : "test") : text_or_dash(""));
    row("Stripe account", code_html(str_at(run, "stripe_account")));
    row("Cursors", manifest_value_html(field(run, "cursors")));
    row("Pages", text_or_dash(str_at(run, "pages")));
    row("Objects", text_or_dash(str_at(run, "objects")));
    row("Requests", text_or_dash(str_at(run, "requests")));
    row("Retries", text_or_dash(str_at(run, "retries")));
    row("Request ids file", code_html(str_at(run, "request_ids_file")));
    row("Notes", manifest_value_html(field(run, "notes")));
    row("Error", text_or_dash(v.error));
    row("Schema version", text_or_dash(str_at(&v.report, "schema_version")));
    h += "</table>\n</details>\n";
}

}  // namespace reconciler::detail
