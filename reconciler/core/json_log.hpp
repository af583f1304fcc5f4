// Structured logging: one JSON object per line on stderr (journald keeps
// each line as one entry; log indexes parse it). Human summaries go to stdout
// elsewhere; this is the machine trail.
//
// Every line has "ts" (RFC 3339 UTC), "level" and "event"; callers add fields.
// Secrets registered with add_secret() are replaced by "[redacted]" in every
// line, as a last line of defence: code must not log them in the first place.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace reconciler::log {

enum class level { debug, info, warn, error };

void set_min_level(level l);
// Redirects output (tests); an empty function restores stderr.
void set_sink(std::function<void(std::string_view line)> sink);
void add_secret(std::string secret);

void write(level l, std::string_view event, boost::json::object fields = {});
inline void info(std::string_view event, boost::json::object fields = {}) { write(level::info, event, std::move(fields)); }
inline void warn(std::string_view event, boost::json::object fields = {}) { write(level::warn, event, std::move(fields)); }
inline void error(std::string_view event, boost::json::object fields = {}) { write(level::error, event, std::move(fields)); }

// Scrubs registered secrets from arbitrary text (error messages, reports).
std::string redact(std::string text);

}  // namespace reconciler::log
