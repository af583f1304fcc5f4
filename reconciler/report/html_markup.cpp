#include "report/html_markup.hpp"

#include "report/json_read.hpp"

#include <algorithm>
#include <cmath>

namespace reconciler::detail {

namespace json = boost::json;

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
    if (s.empty()) return std::string(html_dash);
    return "<code>" + html_escape(s) + "</code>";
}

std::string text_or_dash(std::string_view s) { return s.empty() ? std::string(html_dash) : html_escape(s); }

namespace {

// Class names come from a fixed set, never from the data.
std::string_view disposition_class(std::string_view d) {
    if (d == "applied" || d == "replayed" || d == "resolved" || d == "succeeded" || d == "verified" ||
        d == "all clear")
        return "good";
    if (d == "not verified" || d == "running") return "bad";
    if (d == "already_applied" || d == "superseded" || d == "watching" || d == "dry_run") return "neutral";
    if (d == "flagged" || d == "open") return "warn";
    if (d == "failed" || d == "reverted") return "bad";
    return "neutral";
}

}  // namespace

std::string badge(std::string_view text) {
    if (text.empty()) return {};
    return "<span class=\"badge " + std::string(disposition_class(text)) + "\">" + html_escape(text) + "</span>";
}

std::string badge_or_dash(std::string_view text) { return text.empty() ? std::string(html_dash) : badge(text); }

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

std::string manifest_value_html(const json::value* v) {
    if (v == nullptr || v->is_null()) return std::string(html_dash);
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

}  // namespace reconciler::detail
