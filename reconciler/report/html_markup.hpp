// The pieces report.html is made of: escaping, badges, the kind chart. Data
// only ever reaches the page through html_escape.
#pragma once

#include "report/report_view.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace reconciler::detail {

// Escapes for text and attribute values alike. Beyond the five specials:
// control characters (invalid in HTML) become U+FFFD, and the ':' of "://"
// becomes a character reference, so that the page's source never contains a
// URL (the offline check is a plain search) while the reader still sees it.
std::string html_escape(std::string_view s);

// The muted dash an empty cell shows.
inline constexpr std::string_view html_dash = "<span class=\"muted\">—</span>";

std::string code_html(std::string_view s);     // <code>s</code>, or the dash
std::string text_or_dash(std::string_view s);  // s escaped, or the dash
std::string badge(std::string_view text);      // a coloured status badge; "" for ""
std::string badge_or_dash(std::string_view text);

// Horizontal bars, one per kind; plain SVG shapes need no script or font.
std::string kind_chart_svg(const breakdown& rows);

// A manifest cell: any scalar, list or object.
std::string manifest_value_html(const boost::json::value* v);

}  // namespace reconciler::detail
