// Time helpers: RFC 3339 in and out, durations ("72h", "1h30m"), and the
// --since/--until argument forms. Pure functions apart from now_unix().
//
// Everything is UTC and whole seconds, like Stripe's own timestamps. Parse
// errors throw std::invalid_argument whose message quotes the input and shows
// an example of what is accepted, so callers can pass it on unchanged (a CLI
// prefixes the option name, the config loader the key).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/model.hpp"  // unix_seconds

namespace reconciler {

// "2026-11-24T03:00:00Z". Throws std::out_of_range outside years 0000..9999,
// which RFC 3339 cannot express (only a corrupt value gets there).
std::string format_rfc3339(unix_seconds t);

// Accepts "2026-11-24T03:00:00Z", fractional seconds ("...03:00:00.250Z",
// truncated to the whole second), numeric offsets ("...05:00:00+02:00"), and
// a bare date "2026-11-24" (midnight UTC). A date-time without "Z" or an
// offset is refused: local time would depend on the machine's TZ.
unix_seconds parse_rfc3339(std::string_view s);

// A positive duration: "90s", "15m", "72h", "30d", "2w", or units combined
// from largest to smallest ("1h30m", "1d12h"). At most 100 years, so that
// callers can convert to milliseconds or nanoseconds without overflow.
std::chrono::seconds parse_duration(std::string_view s);

// The --since/--until forms: "now"; an RFC 3339 time or date; a duration,
// meaning that long before `now` ("72h"); or a unix timestamp in seconds,
// which must lie in 2010..9999 (an earlier one is almost always a typo or a
// duration without its unit, a much later one milliseconds).
unix_seconds parse_time_arg(std::string_view s, unix_seconds now);

unix_seconds now_unix();

}  // namespace reconciler
