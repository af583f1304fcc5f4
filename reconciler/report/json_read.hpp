// Tolerant access to a report.json. It is read, not trusted: every field may
// be missing, null or of the wrong type, and each accessor then yields
// "nothing" instead of throwing, so an old or damaged report still renders.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reconciler::detail {

const boost::json::value* field(const boost::json::object* o, std::string_view key);
const boost::json::object* object_at(const boost::json::object* o, std::string_view key);
const boost::json::array* array_at(const boost::json::object* o, std::string_view key);

// Text of a scalar; "" for null/missing. Objects and arrays are shown as
// compact JSON rather than dropped, so nothing a newer writer adds is lost.
std::string text_of(const boost::json::value* v);
std::string str_at(const boost::json::object* o, std::string_view key);
// True only for a JSON true.
bool flag_at(const boost::json::object* o, std::string_view key);

// An integral count, whatever JSON number type carries it.
std::optional<std::int64_t> integral(const boost::json::value* v);
std::optional<double> number(const boost::json::value* v);

// Shortest round-trip form: 2.5 stays "2.5", 3.0 becomes "3"; "" when not finite.
std::string format_double(double d);
// -?digits(.digits)?: a number as a reader would write it.
bool is_plain_number(std::string_view s);

}  // namespace reconciler::detail
