#include "app/report_render.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reconciler {

namespace json = boost::json;

namespace detail {

// ---------------------------------------------------------------------------
// Tolerant access. report.json is read, not trusted: every field may be
// missing, null or of the wrong type, and each accessor then yields "nothing"
// instead of throwing, so an old or damaged report still renders.

const json::value* field(const json::object* o, std::string_view key) {
    if (o == nullptr) return nullptr;
    auto it = o->find(key);
    return it == o->end() ? nullptr : &it->value();
}

const json::object* object_at(const json::object* o, std::string_view key) {
    const json::value* v = field(o, key);
    return v != nullptr ? v->if_object() : nullptr;
}

const json::array* array_at(const json::object* o, std::string_view key) {
    const json::value* v = field(o, key);
    return v != nullptr ? v->if_array() : nullptr;
}

std::string format_double(double d) {
    if (!std::isfinite(d)) return {};
    // Shortest round-trip form: 2.5 stays "2.5", 3.0 becomes "3".
    std::array<char, 64> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    if (ec != std::errc{}) return {};
    return std::string(buf.data(), end);
}

// Text of a scalar; "" for null/missing. Objects and arrays are shown as
// compact JSON rather than dropped, so nothing a newer writer adds is lost.
std::string text_of(const json::value* v) {
    if (v == nullptr) return {};
    switch (v->kind()) {
        case json::kind::string: return std::string(v->get_string());
        case json::kind::int64: return std::to_string(v->get_int64());
        case json::kind::uint64: return std::to_string(v->get_uint64());
        case json::kind::double_: return format_double(v->get_double());
        case json::kind::bool_: return v->get_bool() ? "true" : "false";
        case json::kind::null: return {};
        case json::kind::array:
        case json::kind::object: return json::serialize(*v);
    }
    return {};
}

std::string str_at(const json::object* o, std::string_view key) { return text_of(field(o, key)); }

// An integral count, whatever JSON number type carries it.
std::optional<std::int64_t> integral(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) {
        const double d = v->get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

std::optional<double> number(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
    return std::nullopt;
}

bool is_plain_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits_start) return false;
    if (i < s.size() && s[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == frac_start) return false;
    }
    return i == s.size();
}

// ---------------------------------------------------------------------------
// The report's numbers. Rule (shared with tests/e2e/chromium_report_test.sh
// and docs/report-schema.md): a total is report.json's value when it is there
// and integral, otherwise it is counted from findings[]; a breakdown object
// (by_kind, ...) that is present defines the rows, one that is absent is
// counted from findings[] entirely. So the page always agrees with the JSON,
// and a report written before a breakdown existed still gets one.

using breakdown = std::vector<std::pair<std::string, std::int64_t>>;

bool is_flagged(std::string_view disposition) { return disposition == "flagged" || disposition == "failed"; }

std::map<std::string, std::int64_t> count_findings(const json::array* findings, std::string_view key,
                                                   bool flagged_only) {
    std::map<std::string, std::int64_t> counts;
    if (findings == nullptr) return counts;
    for (const auto& item : *findings) {
        const json::object* f = item.if_object();
        if (f == nullptr) continue;
        if (flagged_only && !is_flagged(str_at(f, "disposition"))) continue;
        std::string k = str_at(f, key);
        if (!k.empty()) ++counts[std::move(k)];
    }
    return counts;
}

breakdown make_breakdown(const json::object* given, const std::map<std::string, std::int64_t>& derived) {
    breakdown rows;
    if (given != nullptr) {
        for (const auto& kv : *given) {
            const std::string k(kv.key());
            auto it = derived.find(k);
            rows.emplace_back(k, integral(&kv.value()).value_or(it == derived.end() ? 0 : it->second));
        }
    } else {
        rows.assign(derived.begin(), derived.end());
    }
    // Largest first: the chart and the tables read top-down by weight.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return rows;
}

struct totals_model {
    std::int64_t findings = 0;
    std::int64_t applied = 0;
    std::int64_t flagged = 0;
    breakdown by_kind;
    breakdown by_disposition;
    breakdown by_team;
    breakdown flagged_by_team;
};

totals_model make_totals(const json::object& report) {
    const json::object* totals = object_at(&report, "totals");
    const json::array* findings = array_at(&report, "findings");
    totals_model t;
    std::int64_t n = 0, applied = 0, flagged = 0;
    if (findings != nullptr) {
        for (const auto& item : *findings) {
            ++n;
            const std::string d = str_at(item.if_object(), "disposition");
            if (d == "applied") ++applied;
            if (is_flagged(d)) ++flagged;
        }
    }
    t.findings = integral(field(totals, "findings")).value_or(n);
    t.applied = integral(field(totals, "applied")).value_or(applied);
    t.flagged = integral(field(totals, "flagged")).value_or(flagged);
    t.by_kind = make_breakdown(object_at(totals, "by_kind"), count_findings(findings, "kind", false));
    t.by_disposition =
        make_breakdown(object_at(totals, "by_disposition"), count_findings(findings, "disposition", false));
    t.by_team = make_breakdown(object_at(totals, "by_team"), count_findings(findings, "team", false));
    t.flagged_by_team = make_breakdown(object_at(totals, "flagged_by_team"), count_findings(findings, "team", true));
    return t;
}

// ---------------------------------------------------------------------------
// Corrections and escalations, from the top-level arrays when the report has
// them, otherwise from findings[] (applied findings; flagged/failed findings),
// so that every report, old or new, says what was fixed and what was escalated.

struct correction_row {
    std::string id;
    std::string kind;
    std::string ledger_key;
    std::string user_email;
    std::string credits;
    std::string tier_from;
    std::string tier_to;
    std::string correlation_id;
    std::string status;
    bool record_payment = false;
};

// One corrections[] item.
correction_row correction_row_of(const json::object* c) {
    return {str_at(c, "id"),         str_at(c, "kind"),    str_at(c, "ledger_key"), str_at(c, "user_email"),
            str_at(c, "credits"),    str_at(c, "tier_from"), str_at(c, "tier_to"), str_at(c, "correlation_id"),
            str_at(c, "status"),
            field(c, "record_payment") != nullptr && field(c, "record_payment")->is_bool() &&
                field(c, "record_payment")->get_bool()};
}

std::vector<correction_row> make_corrections(const json::object& report) {
    std::vector<correction_row> rows;
    if (const json::array* given = array_at(&report, "corrections")) {
        for (const auto& item : *given) {
            const json::object* c = item.if_object();
            if (c == nullptr) continue;
            rows.push_back(correction_row_of(c));
        }
        return rows;
    }
    if (const json::array* findings = array_at(&report, "findings")) {
        for (const auto& item : *findings) {
            const json::object* f = item.if_object();
            if (f == nullptr || str_at(f, "disposition") != "applied") continue;
            const json::object* c = object_at(f, "correction");
            if (c == nullptr) continue;
            const json::value* rp = field(c, "record_payment");
            rows.push_back({str_at(f, "correction_id"), str_at(c, "kind"), str_at(c, "ledger_key"),
                            str_at(f, "user_email"), str_at(c, "credits"), str_at(c, "tier_from"), str_at(c, "tier_to"),
                            str_at(f, "correlation_id"), "applied", rp != nullptr && rp->is_bool() && rp->get_bool()});
        }
    }
    return rows;
}

struct escalation_row {
    std::string id;
    std::string team;
    std::string kind;
    std::string subject;
    std::string user_email;  // only for rows made from findings
    std::string first_seen;
    std::string last_seen;
    std::string occurrences;
    std::string status;
    std::optional<double> age_days;
};

// One escalations[] item.
escalation_row escalation_row_of(const json::object* e) {
    return {str_at(e, "id"),         str_at(e, "team"),      str_at(e, "kind"),        str_at(e, "subject"), {},
            str_at(e, "first_seen"), str_at(e, "last_seen"), str_at(e, "occurrences"), str_at(e, "status"),
            number(field(e, "age_days"))};
}

// The rows in the order the pages list them (report_streams::escalations).
std::vector<escalation_row> make_escalations(const json::object& report) {
    std::vector<escalation_row> rows;
    if (const json::array* given = array_at(&report, "escalations")) {
        for (const auto& item : *given) {
            const json::object* e = item.if_object();
            if (e == nullptr) continue;
            rows.push_back(escalation_row_of(e));
        }
    } else if (const json::array* findings = array_at(&report, "findings")) {
        for (const auto& item : *findings) {
            const json::object* f = item.if_object();
            if (f == nullptr || !is_flagged(str_at(f, "disposition"))) continue;
            std::string subject = str_at(f, "subject_type");
            const std::string id = str_at(f, "subject_id");
            if (!id.empty()) subject += subject.empty() ? id : " " + id;
            rows.push_back({{}, str_at(f, "team"), str_at(f, "kind"), std::move(subject), str_at(f, "user_email"),
                            {}, {}, {}, str_at(f, "disposition"), std::nullopt});
        }
    }
    // Open first, oldest first: what needs attention leads.
    auto rank = [](const std::string& s) {
        if (s == "open" || s == "flagged" || s == "failed") return 0;
        if (s == "watching") return 1;
        if (s == "resolved") return 3;
        return 2;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const escalation_row& a, const escalation_row& b) {
        if (rank(a.status) != rank(b.status)) return rank(a.status) < rank(b.status);
        return a.age_days.value_or(-1) > b.age_days.value_or(-1);
    });
    return rows;
}

// The rows of a listing one at a time; may be called more than once.
template <class Row>
using row_source = std::function<void(const std::function<void(const Row&)>&)>;

// The corrections and escalations the pages list: streamed (report_streams),
// or made from the report's arrays and held here.
struct listings {
    std::vector<correction_row> held_corrections;
    std::vector<escalation_row> held_escalations;
    row_source<correction_row> corrections;
    row_source<escalation_row> escalations;  // in listing order
    bool escalation_records = false;         // escalation records, not flagged findings
};

// Filled in place: the sources refer to `l` and `streams`, which outlive them.
void make_listings(listings& l, const json::object& report, const report_streams& streams) {
    if (streams.corrections) {
        l.corrections = [&streams](const std::function<void(const correction_row&)>& visit) {
            streams.corrections([&](const json::object* c) {
                if (c != nullptr) visit(correction_row_of(c));
            });
        };
    } else {
        l.held_corrections = make_corrections(report);
        l.corrections = [&l](const std::function<void(const correction_row&)>& visit) {
            for (const auto& c : l.held_corrections) visit(c);
        };
    }
    if (streams.escalations) {
        l.escalation_records = true;
        l.escalations = [&streams](const std::function<void(const escalation_row&)>& visit) {
            streams.escalations([&](const json::object* e) {
                if (e != nullptr) visit(escalation_row_of(e));
            });
        };
    } else {
        l.escalation_records = array_at(&report, "escalations") != nullptr;
        l.held_escalations = make_escalations(report);
        l.escalations = [&l](const std::function<void(const escalation_row&)>& visit) {
            for (const auto& e : l.held_escalations) visit(e);
        };
    }
}

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

std::string format_age(std::optional<double> age_days) {
    if (!age_days) return {};
    const double d = std::floor(*age_days * 10) / 10;  // one decimal is plenty
    return format_double(d) + " d";
}

// ---------------------------------------------------------------------------
// What a correction changed, in words; fmt decides how data is marked up.

struct change_format {
    std::function<std::string(std::string_view)> code;  // an identifier
    std::function<std::string(std::string_view)> num;   // a count
};

std::string describe_change(const correction_row& c, const change_format& fmt) {
    const std::string credits = c.credits.empty() ? "?" : c.credits;
    if (c.kind == "grant_credits") {
        std::string s = "granted " + fmt.num(credits) + " AI credits for invoice " + fmt.code(c.ledger_key);
        if (c.record_payment) s += " and recorded the missing payment";
        return s;
    }
    if (c.kind == "revoke_credits")
        return "revoked " + fmt.num(credits) + " AI credits for refunded/disputed charge " + fmt.code(c.ledger_key);
    if (c.kind == "set_tier") {
        // The ledger key is "<subscription>#<event>": the subscription is what a reader knows.
        const std::string_view key = c.ledger_key;
        const std::string_view sub = key.substr(0, key.find('#'));
        return "plan " + fmt.code(c.tier_from.empty() ? "?" : c.tier_from) + " → " +
               fmt.code(c.tier_to.empty() ? "?" : c.tier_to) + " (subscription " + fmt.code(sub) + ")";
    }
    return fmt.code(c.kind.empty() ? "correction" : c.kind) + " (ledger key " + fmt.code(c.ledger_key) + ")";
}

// ---------------------------------------------------------------------------
// HTML

// Escapes for text and attribute values alike. Beyond the five specials:
// control characters (invalid in HTML) become U+FFFD, and the ':' of "://"
// becomes a character reference, so that the page's source never contains a
// URL (the offline check is a plain search) while the reader still sees it.
std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            case ':':
                if (s.substr(i + 1, 2) == "//")
                    out += "&#58;";
                else
                    out += c;
                break;
            default: {
                const auto u = static_cast<unsigned char>(c);
                if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f)
                    out += "\xEF\xBF\xBD";
                else
                    out += c;
            }
        }
    }
    return out;
}

std::string code_html(std::string_view s) {
    if (s.empty()) return "<span class=\"muted\">—</span>";
    return "<code>" + html_escape(s) + "</code>";
}

std::string text_or_dash(std::string_view s) {
    return s.empty() ? std::string("<span class=\"muted\">—</span>") : html_escape(s);
}

// Class names come from a fixed set, never from the data.
std::string_view disposition_class(std::string_view d) {
    if (d == "applied" || d == "replayed" || d == "resolved" || d == "succeeded") return "good";
    if (d == "already_applied" || d == "superseded" || d == "watching" || d == "dry_run") return "neutral";
    if (d == "flagged" || d == "open") return "warn";
    if (d == "failed" || d == "reverted") return "bad";
    return "neutral";
}

std::string badge(std::string_view text) {
    if (text.empty()) return {};
    return "<span class=\"badge " + std::string(disposition_class(text)) + "\">" + html_escape(text) + "</span>";
}

// Horizontal bars, one per kind; plain SVG shapes need no script or font.
std::string kind_chart_svg(const breakdown& rows) {
    constexpr int row_h = 24, label_w = 230, bar_w = 250, width = label_w + bar_w + 60;
    std::int64_t max = 0;
    for (const auto& r : rows) max = std::max(max, r.second);
    const int height = static_cast<int>(rows.size()) * row_h + 8;
    std::string s = "<svg class=\"chart\" role=\"img\" aria-label=\"Findings by kind\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(height) + "\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\">\n<title>Findings by kind</title>\n";
    int y = 4;
    for (const auto& [kind, n] : rows) {
        // Long labels are cut (at a UTF-8 boundary) to fit; the <title> keeps the full text.
        std::string label = kind;
        if (label.size() > 36) {
            std::size_t cut = 34;
            while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
            label = label.substr(0, cut) + "…";
        }
        const int w = (max <= 0 || n <= 0) ? 0
                                           : std::max(2, static_cast<int>(std::lround(static_cast<double>(bar_w) *
                                                                                      static_cast<double>(n) /
                                                                                      static_cast<double>(max))));
        s += "<g><title>" + html_escape(kind) + ": " + std::to_string(n) + "</title>";
        s += "<text x=\"" + std::to_string(label_w - 8) + "\" y=\"" + std::to_string(y + 16) +
             "\" text-anchor=\"end\">" + html_escape(label) + "</text>";
        s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 4) + "\" width=\"" +
             std::to_string(w) + "\" height=\"16\" rx=\"2\"></rect>";
        s += "<text x=\"" + std::to_string(label_w + w + 6) + "\" y=\"" + std::to_string(y + 16) + "\">" +
             std::to_string(n) + "</text></g>\n";
        y += row_h;
    }
    s += "</svg>\n";
    return s;
}

// The manifest shows any scalar, list or object it is given.
std::string manifest_value_html(const json::value* v) {
    if (v == nullptr || v->is_null()) return "<span class=\"muted\">—</span>";
    if (const json::array* a = v->if_array()) {
        if (a->empty()) return "<span class=\"muted\">none</span>";
        std::string s = "<ul class=\"plain\">";
        for (const auto& item : *a) s += "<li>" + html_escape(text_of(&item)) + "</li>";
        return s + "</ul>";
    }
    if (const json::object* o = v->if_object()) {
        if (o->empty()) return "<span class=\"muted\">none</span>";
        std::string s = "<table class=\"inner\">";
        for (const auto& kv : *o)
            s += "<tr><th>" + html_escape(kv.key()) + "</th><td><code>" + html_escape(text_of(&kv.value())) +
                 "</code></td></tr>";
        return s + "</table>";
    }
    return text_or_dash(text_of(v));
}

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

// A report's own findings[] as a finding_source.
finding_source findings_of(const json::array* findings) {
    return [findings](const finding_visitor& visit) {
        if (findings == nullptr) return;
        for (const auto& item : *findings) visit(item.if_object());
    };
}

}  // namespace detail

void render_html(std::ostream& out, const json::object& report, const report_streams& streams) {
    using namespace detail;
    const json::array* report_findings = array_at(&report, "findings");
    const finding_source findings = streams.findings ? streams.findings : findings_of(report_findings);
    const std::size_t finding_count =
        streams.findings ? streams.finding_count : report_findings != nullptr ? report_findings->size() : 0;
    listings lists;
    make_listings(lists, report, streams);
    const json::object* run = object_at(&report, "run");
    const json::object* window = object_at(run, "window");
    const totals_model t = make_totals(report);
    const std::string run_id = str_at(run, "id");
    const std::string status = str_at(run, "status");
    const std::string mode = str_at(run, "mode");
    const std::string error = str_at(run, "error");

    std::string h;
    h.reserve(16384);
    // Long tables go out in pieces: the page is never whole in memory.
    const auto spill = [&] {
        if (h.size() < 65536) return;
        out << h;
        h.clear();
    };
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    // Defence in depth behind the escaping: even injected markup could neither
    // run script nor fetch anything.
    h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
    h += "<meta name=\"referrer\" content=\"no-referrer\">\n";
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<title>Stripe reconciliation run " + html_escape(run_id.empty() ? "?" : run_id) + " — " +
         html_escape(status.empty() ? "unknown" : status) + "</title>\n";
    h += "<style>";
    h += html_style;
    h += "</style>\n</head>\n<body>\n";

    // Header
    h += "<header>\n<h1>Stripe reconciliation run <span data-run=\"id\">" + html_escape(run_id.empty() ? "?" : run_id) +
         "</span> " + badge(status.empty() ? "unknown" : status);
    if (mode == "dry_run") h += " " + badge("dry_run");
    h += "</h1>\n<p class=\"lead\">Window " + text_or_dash(str_at(window, "start")) + " → " +
         text_or_dash(str_at(window, "end"));
    if (!mode.empty()) h += " · mode " + html_escape(mode);
    h += "</p>\n";
    if (!error.empty()) h += "<div class=\"callout\"><strong>Run error:</strong> " + html_escape(error) + "</div>\n";
    if (mode == "dry_run")
        h += "<p class=\"muted\">Dry run: nothing was changed in the app's database; every finding is "
             "reported as flagged.</p>\n";
    h += "</header>\n";

    // Manifest
    h += "<h2 id=\"manifest\">Run manifest</h2>\n<table class=\"kv\">\n";
    auto row = [&](std::string_view label, const std::string& value_html) {
        h += "<tr><th>";
        h += label;
        h += "</th><td>" + value_html + "</td></tr>\n";
    };
    row("Run id", text_or_dash(run_id));
    row("Status", status.empty() ? text_or_dash("") : badge(status));
    row("Mode", text_or_dash(mode));
    row("Window start", text_or_dash(str_at(window, "start")));
    row("Window end", text_or_dash(str_at(window, "end")));
    row("Started at", text_or_dash(str_at(run, "started_at")));
    row("Finished at", text_or_dash(str_at(run, "finished_at")));
    {
        const std::string d = str_at(run, "duration_seconds");
        row("Duration", d.empty() ? text_or_dash("") : html_escape(d) + " s");
    }
    row("Config hash", code_html(str_at(run, "config_hash")));
    row("Stripe API version", code_html(str_at(run, "stripe_api_version")));
    row("Cursors", manifest_value_html(field(run, "cursors")));
    row("Pages", text_or_dash(str_at(run, "pages")));
    row("Objects", text_or_dash(str_at(run, "objects")));
    row("Requests", text_or_dash(str_at(run, "requests")));
    row("Retries", text_or_dash(str_at(run, "retries")));
    row("Request ids file", code_html(str_at(run, "request_ids_file")));
    row("Notes", manifest_value_html(field(run, "notes")));
    row("Error", text_or_dash(error));
    row("Schema version", text_or_dash(str_at(&report, "schema_version")));
    h += "</table>\n";

    // Totals
    h += "<h2 id=\"totals\">Totals</h2>\n<div class=\"grid\">\n<table class=\"narrow totals\">\n<thead><tr><th>Total</th>"
         "<th class=\"num\">Count</th></tr></thead>\n<tbody>\n";
    h += "<tr><th>Findings</th><td class=\"num big\" data-total=\"findings\">" + std::to_string(t.findings) +
         "</td></tr>\n";
    h += "<tr><th>Applied</th><td class=\"num big\" data-total=\"applied\">" + std::to_string(t.applied) +
         "</td></tr>\n";
    h += "<tr><th>Flagged for a team</th><td class=\"num big\" data-total=\"flagged\">" + std::to_string(t.flagged) +
         "</td></tr>\n</tbody></table>\n";
    h += "<table class=\"narrow\">\n<thead><tr><th>Disposition</th><th class=\"num\">Findings</th></tr></thead>\n"
         "<tbody>\n";
    for (const auto& [d, n] : t.by_disposition)
        h += "<tr><td>" + badge(d) + "</td><td class=\"num\" data-disposition-total=\"" + html_escape(d) + "\">" +
             std::to_string(n) + "</td></tr>\n";
    if (t.by_disposition.empty()) h += "<tr><td colspan=\"2\" class=\"muted\">No findings.</td></tr>\n";
    h += "</tbody></table>\n</div>\n";

    // By kind
    h += "<h2 id=\"by-kind\">Findings by kind</h2>\n";
    if (t.by_kind.empty()) {
        h += "<p class=\"muted\">No findings.</p>\n";
    } else {
        h += "<div class=\"grid\">\n<table>\n<thead><tr><th>Kind</th><th class=\"num\">Findings</th></tr></thead>\n"
             "<tbody>\n";
        for (const auto& [kind, n] : t.by_kind)
            h += "<tr><td class=\"kind\"><code>" + html_escape(kind) + "</code></td><td class=\"num\" data-kind-total=\"" +
                 html_escape(kind) + "\">" + std::to_string(n) + "</td></tr>\n";
        h += "</tbody></table>\n<div>" + kind_chart_svg(t.by_kind) + "</div>\n</div>\n";
    }

    // By team
    h += "<h2 id=\"by-team\">Findings by team</h2>\n";
    {
        // Every team of either breakdown gets a row; a team missing from one shows 0 there.
        std::vector<std::string> teams;
        for (const auto& r : t.by_team) teams.push_back(r.first);
        for (const auto& r : t.flagged_by_team)
            if (std::find(teams.begin(), teams.end(), r.first) == teams.end()) teams.push_back(r.first);
        if (teams.empty()) {
            h += "<p class=\"muted\">No findings.</p>\n";
        } else {
            h += "<table class=\"narrow\">\n<thead><tr><th>Team</th><th class=\"num\">Findings</th>"
                 "<th class=\"num\">Flagged for the team</th></tr></thead>\n<tbody>\n";
            auto lookup = [](const breakdown& b, const std::string& k) -> std::optional<std::int64_t> {
                for (const auto& r : b)
                    if (r.first == k) return r.second;
                return std::nullopt;
            };
            for (const auto& team : teams) {
                const auto all = lookup(t.by_team, team);
                const auto flagged = lookup(t.flagged_by_team, team);
                h += "<tr><td>" + html_escape(team) + "</td>";
                h += all ? "<td class=\"num\" data-team-total=\"" + html_escape(team) + "\">" + std::to_string(*all) +
                               "</td>"
                         : std::string("<td class=\"num muted\">—</td>");
                h += flagged ? "<td class=\"num\" data-team-flagged=\"" + html_escape(team) + "\">" +
                                   std::to_string(*flagged) + "</td>"
                             : std::string("<td class=\"num muted\">0</td>");
                h += "</tr>\n";
            }
            h += "</tbody></table>\n";
        }
    }

    // Corrections
    std::size_t correction_count = 0;
    lists.corrections([&](const correction_row&) { ++correction_count; });
    h += "<h2 id=\"corrections\">Corrections (" + std::to_string(correction_count) + ")</h2>\n";
    if (correction_count == 0) {
        h += "<p class=\"muted\">No corrections" +
             std::string(mode == "dry_run" ? " (dry run)." : " were applied.") + "</p>\n";
    } else {
        const change_format fmt{code_html, [](std::string_view s) { return html_escape(s); }};
        h += "<table>\n<thead><tr><th>#</th><th>Kind</th><th>User</th><th>Change</th><th>Ledger key</th>"
             "<th>Correlation id</th><th>Status</th></tr></thead>\n<tbody>\n";
        lists.corrections([&](const correction_row& c) {
            h += "<tr><td class=\"num\">" + text_or_dash(c.id) + "</td><td class=\"kind\"><code>" + html_escape(c.kind) +
                 "</code></td><td>" + text_or_dash(c.user_email) + "</td><td>" + describe_change(c, fmt) +
                 "</td><td>" + code_html(c.ledger_key) + "</td><td>" + code_html(c.correlation_id) + "</td><td>" +
                 (c.status.empty() ? text_or_dash("") : badge(c.status)) + "</td></tr>\n";
            spill();
        });
        h += "</tbody></table>\n";
    }

    // Escalations
    // A first pass counts them (the heading and the age table lead), a second lists them.
    const bool have_records = lists.escalation_records;
    std::size_t escalation_count = 0;
    std::array<std::int64_t, age_buckets.size()> buckets{};
    lists.escalations([&](const escalation_row& e) {
        ++escalation_count;
        if (e.status == "open") ++buckets[age_bucket(e.age_days)];
    });
    h += "<h2 id=\"escalations\">Escalations (" + std::to_string(escalation_count) + ")</h2>\n";
    if (!have_records)
        h += "<p class=\"muted small\">This report carries no escalation records; listed are the findings "
             "flagged for a team in this run.</p>\n";
    if (have_records) {
        h += "<h3>Open escalations by age</h3>\n<table class=\"narrow\">\n<thead><tr><th>Age</th>"
             "<th class=\"num\">Open</th></tr></thead>\n<tbody>\n";
        for (std::size_t i = 0; i < age_buckets.size(); ++i) {
            if (i == 4 && buckets[i] == 0) continue;  // "unknown" only when it happens
            h += "<tr><td>" + std::string(age_bucket_labels[i]) + "</td><td class=\"num\" data-age-bucket=\"" +
                 html_escape(age_buckets[i]) + "\">" + std::to_string(buckets[i]) + "</td></tr>\n";
        }
        h += "</tbody></table>\n";
    }
    if (escalation_count == 0) {
        h += "<p class=\"muted\">Nothing escalated.</p>\n";
    } else if (have_records) {
        h += "<table>\n<thead><tr><th>Team</th><th>Kind</th><th>Subject</th><th>Status</th><th class=\"num\">Age</th>"
             "<th>First seen</th><th>Last seen</th><th class=\"num\">Seen</th></tr></thead>\n<tbody>\n";
        lists.escalations([&](const escalation_row& e) {
            h += "<tr><td>" + text_or_dash(e.team) + "</td><td class=\"kind\"><code>" + html_escape(e.kind) + "</code></td><td>" +
                 code_html(e.subject) + "</td><td>" + (e.status.empty() ? text_or_dash("") : badge(e.status)) +
                 "</td><td class=\"num\">" + text_or_dash(format_age(e.age_days)) + "</td><td>" +
                 text_or_dash(e.first_seen) + "</td><td>" + text_or_dash(e.last_seen) + "</td><td class=\"num\">" +
                 text_or_dash(e.occurrences) + "</td></tr>\n";
            spill();
        });
        h += "</tbody></table>\n";
    } else {
        h += "<table>\n<thead><tr><th>Team</th><th>Kind</th><th>Subject</th><th>User</th><th>Disposition</th>"
             "</tr></thead>\n<tbody>\n";
        lists.escalations([&](const escalation_row& e) {
            h += "<tr><td>" + text_or_dash(e.team) + "</td><td class=\"kind\"><code>" + html_escape(e.kind) + "</code></td><td>" +
                 code_html(e.subject) + "</td><td>" + text_or_dash(e.user_email) + "</td><td>" + badge(e.status) +
                 "</td></tr>\n";
            spill();
        });
        h += "</tbody></table>\n";
    }

    // All findings
    h += "<h2 id=\"findings\">All findings (" + std::to_string(finding_count) + ")</h2>\n";
    if (finding_count == 0) {
        h += "<p class=\"muted\">No findings.</p>\n";
    } else {
        h += "<table>\n<thead><tr><th>Kind</th><th>Subject</th><th>User</th><th>Team</th><th>Disposition</th>"
             "<th>Summary</th><th>Correlation id</th></tr></thead>\n<tbody>\n";
        // Row by row to `out`: a run's findings are never all in memory.
        out << h;
        h.clear();
        findings([&](const json::object* f) {
            h.clear();
            const std::string disposition = str_at(f, "disposition");
            const std::string user_id = str_at(f, "user_id");
            const std::string note = str_at(f, "note");
            h += "<tr><td class=\"kind\"><code>" + html_escape(str_at(f, "kind")) + "</code></td>";
            h += "<td><span class=\"muted small\">" + html_escape(str_at(f, "subject_type")) + "</span><br>" +
                 code_html(str_at(f, "subject_id")) + "</td>";
            h += "<td>" + text_or_dash(str_at(f, "user_email"));
            if (!user_id.empty()) h += " <span class=\"muted small\">#" + html_escape(user_id) + "</span>";
            h += "</td><td>" + text_or_dash(str_at(f, "team")) + "</td>";
            h += "<td>" + (disposition.empty() ? text_or_dash("") : badge(disposition)) + "</td>";
            h += "<td>" + html_escape(str_at(f, "summary"));
            if (!note.empty()) h += "<br><span class=\"muted small\">" + html_escape(note) + "</span>";
            h += "</td><td>" + code_html(str_at(f, "correlation_id")) + "</td></tr>\n";
            out << h;
        });
        h.clear();
        h += "</tbody></table>\n";
    }

    h += "<footer>Rendered by stripe-reconciler from report.json (schema version " +
         html_escape(str_at(&report, "schema_version").empty() ? "?" : str_at(&report, "schema_version")) +
         "). Evidence for each finding and the Stripe request ids are in report.json and " +
         html_escape(str_at(run, "request_ids_file").empty() ? "request_ids.txt" : str_at(run, "request_ids_file")) +
         ".</footer>\n</body>\n</html>\n";
    out << h;
}

std::string render_html(const json::object& report) {
    std::ostringstream out;
    render_html(out, report, report_streams{});
    return out.str();
}

// ---------------------------------------------------------------------------
// CSV

namespace detail {

// A spreadsheet evaluates a cell that starts with one of these as a formula
// (OWASP "CSV injection"); a leading ' makes it text.
bool starts_like_formula(std::string_view s) {
    return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
}

// numeric: a column of numbers, where "-5" is a value and not a formula.
std::string csv_field(const json::value* v, bool numeric) {
    std::string s = text_of(v);
    const bool is_number = v != nullptr && (v->is_number());
    if (starts_like_formula(s) && !(numeric && (is_number || is_plain_number(s)))) s.insert(0, 1, '\'');
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + '"';
}

}  // namespace detail

void render_findings_csv(std::ostream& csv, const finding_source& findings) {
    using namespace detail;
    static constexpr std::array<std::string_view, 15> header{
        "kind",       "subject_type",   "subject_id",      "customer", "user_id",   "user_email",
        "team",       "disposition",    "correlation_id",  "correction_kind", "credits", "tier_from",
        "tier_to",    "summary",        "note"};
    std::string out;
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (i > 0) out += ',';
        out += header[i];
    }
    out += "\r\n";
    csv << out;
    findings([&](const json::object* f) {
        if (f == nullptr) return;
        out.clear();
        const json::object* c = object_at(f, "correction");
        const std::array<std::string, 15> row{
            csv_field(field(f, "kind"), false),         csv_field(field(f, "subject_type"), false),
            csv_field(field(f, "subject_id"), false),   csv_field(field(f, "customer"), false),
            csv_field(field(f, "user_id"), true),       csv_field(field(f, "user_email"), false),
            csv_field(field(f, "team"), false),         csv_field(field(f, "disposition"), false),
            csv_field(field(f, "correlation_id"), false), csv_field(field(c, "kind"), false),
            csv_field(field(c, "credits"), true),       csv_field(field(c, "tier_from"), false),
            csv_field(field(c, "tier_to"), false),      csv_field(field(f, "summary"), false),
            csv_field(field(f, "note"), false)};
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i > 0) out += ',';
            out += row[i];
        }
        out += "\r\n";
        csv << out;
    });
}

std::string render_findings_csv(const json::object& report) {
    std::ostringstream out;
    render_findings_csv(out, detail::findings_of(detail::array_at(&report, "findings")));
    return out.str();
}

// ---------------------------------------------------------------------------
// Markdown

namespace detail {

// Every datum goes into a code span: a ticket's Markdown renderer then shows
// it literally (no links, images, HTML or emphasis from a hostile email or
// description). The fence is longer than any backtick run inside.
std::string md_code(std::string_view s) {
    std::string text;
    text.reserve(s.size());
    std::size_t run = 0, longest = 0;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';  // a newline would end the list item
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
        text += c;
    }
    if (text.find_first_not_of(' ') == std::string::npos) return "—";
    const std::string fence(longest + 1, '`');
    const bool pad = text.front() == '`' || text.back() == '`' || (text.front() == ' ' && text.back() == ' ');
    return pad ? fence + " " + text + " " + fence : fence + text + fence;
}

std::string md_num(std::string_view s) { return is_plain_number(s) ? std::string(s) : md_code(s); }

// A --since/--until value as one shell word.
std::string shell_word(std::string_view s) {
    const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
               c == '+' || c == '.' || c == '_';
    });
    if (safe) return std::string(s);
    std::string q = "'";
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

// Enough for a ticket; the rest is in report.html and findings.csv.
inline constexpr std::size_t md_max_items = 15;

}  // namespace detail

std::string render_summary_md(const json::object& report) { return render_summary_md(report, report_streams{}); }

std::string render_summary_md(const json::object& report, const report_streams& streams) {
    using namespace detail;
    listings lists;
    make_listings(lists, report, streams);
    const json::object* run = object_at(&report, "run");
    const json::object* window = object_at(run, "window");
    const totals_model t = make_totals(report);
    const std::string run_id = str_at(run, "id");
    const std::string status = str_at(run, "status");
    const std::string mode = str_at(run, "mode");
    const std::string error = str_at(run, "error");
    const std::string start = str_at(window, "start");
    const std::string end = str_at(window, "end");

    std::string m;
    m += "### Stripe reconciliation run " + md_num(run_id.empty() ? "?" : run_id) + ": " +
         md_code(status.empty() ? "unknown" : status) + (mode == "dry_run" ? " (dry run, nothing changed)" : "") +
         "\n\n";
    m += "- Window: " + md_code(start) + " → " + md_code(end) + "\n";
    m += "- Findings: " + std::to_string(t.findings) + " (applied " + std::to_string(t.applied) + ", flagged " +
         std::to_string(t.flagged) + ")\n";
    if (!error.empty()) m += "- Error: " + md_code(error) + "\n";
    if (const json::array* notes = array_at(run, "notes"))
        for (const auto& n : *notes) m += "- Note: " + md_code(text_of(&n)) + "\n";

    // What was fixed: how many, and the first few.
    std::vector<correction_row> fixed;
    std::size_t fixed_count = 0;
    lists.corrections([&](const correction_row& c) {
        if (!c.status.empty() && c.status != "applied") return;
        ++fixed_count;
        if (fixed.size() < md_max_items) fixed.push_back(c);
    });
    m += "\n**Fixed (" + std::to_string(fixed_count) + ")**\n\n";
    if (fixed_count == 0) m += "- Nothing.\n";
    const change_format fmt{md_code, md_num};
    for (const auto& c : fixed) {
        m += "- " + md_code(c.user_email.empty() ? "(no user)" : c.user_email) + ": " + describe_change(c, fmt) +
             "; correlation ID " + md_code(c.correlation_id) + "\n";
    }
    if (fixed_count > md_max_items)
        m += "- … and " + std::to_string(fixed_count - md_max_items) + " more (report.html, findings.csv)\n";

    // What was escalated, to whom: each team's count and first few (no more
    // than md_max_items rows are shown in all).
    struct team_rows {
        std::size_t count = 0;
        std::vector<escalation_row> first;
    };
    std::map<std::string, team_rows> by_team;
    std::size_t resolved = 0, escalated = 0;
    lists.escalations([&](const escalation_row& e) {
        if (e.status == "resolved") {
            ++resolved;
            return;
        }
        ++escalated;
        team_rows& team = by_team[e.team.empty() ? "(no team)" : e.team];
        ++team.count;
        if (team.first.size() < md_max_items) team.first.push_back(e);
    });
    m += "\n**Escalated (" + std::to_string(escalated) + ")**\n\n";
    if (escalated == 0) m += "- Nothing.\n";
    std::size_t shown = 0;
    for (const auto& [team, rows] : by_team) {
        m += "- to " + md_code(team) + " (" + std::to_string(rows.count) + "):\n";
        for (const auto& e : rows.first) {
            if (shown == md_max_items) break;
            ++shown;
            m += "  - " + md_code(e.kind) + " " + md_code(e.subject);
            if (!e.user_email.empty()) m += " (" + md_code(e.user_email) + ")";
            std::vector<std::string> facts;
            if (!e.status.empty()) facts.push_back(md_code(e.status));
            if (e.age_days) facts.push_back(format_age(e.age_days) + " old");
            if (!e.occurrences.empty() && e.occurrences != "1") facts.push_back("seen " + md_num(e.occurrences) + "×");
            for (std::size_t i = 0; i < facts.size(); ++i) m += (i == 0 ? ": " : ", ") + facts[i];
            m += "\n";
        }
    }
    if (escalated > shown) m += "- … and " + std::to_string(escalated - shown) + " more (report.html)\n";
    if (resolved > 0) m += "- " + std::to_string(resolved) + " earlier escalation(s) now resolved\n";

    // How to look again. Reruns are idempotent (the corrections ledger).
    m += "\n**Reproduce** (reruns never apply a correction twice; add `--dry-run` to only look):\n\n";
    m += "```sh\nreconciler run --config FILE --since " + shell_word(start.empty() ? "START" : start) + " --until " +
         shell_word(end.empty() ? "END" : end) + "\n```\n";
    return m;
}

}  // namespace reconciler
