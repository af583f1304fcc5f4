// The words report.html and summary.md share, so that both say the same
// thing about a correction or an escalation; each page marks data up its own way.
#pragma once

#include "report/report_view.hpp"

#include <functional>
#include <optional>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace reconciler::detail {

// How a page marks up the data in a sentence.
struct change_format {
    std::function<std::string(std::string_view)> code;  // an identifier
    std::function<std::string(std::string_view)> num;   // a count
};

// What a correction changed, in words ("granted 500 AI credits for invoice …").
std::string describe_change(const correction_row& c, const change_format& fmt);

// run.deliveries in words: "3 sent, 1 failed, 2 pending (data_platform/pagerduty:
// 1 failed; ...)", the routes only for those with a failure or pending ones;
// "" when the run has no routes (run.deliveries null or absent).
std::string describe_deliveries(const boost::json::object* run, const change_format& fmt);

// An escalation's age, one decimal ("2.5 d"); "" when unknown.
std::string format_age(std::optional<double> age_days);

}  // namespace reconciler::detail
