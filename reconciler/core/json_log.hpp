// Structured logging on stderr, one line an event. Human summaries go to
// stdout elsewhere; this is the machine trail.
//
// Formats (set_format): JSON, one object a line (journald keeps each line as
// one entry; log indexes parse it), with "ts" (RFC 3339 UTC), "level" and
// "event" and the caller's fields; or text for a person at a terminal:
// `12:03:04 info run_started run_id=7 window_start=2026-...` (UTC time,
// fields as key=value, a value quoted only when it needs to be). The process
// picks one at startup (cli: --log-format, $RECONCILER_LOG_FORMAT, else text
// when stderr is a terminal).
//
// Under systemd (stderr_is_journal()) every line starts with the sd-daemon
// priority prefix "<N>" (3 error, 4 warn, 6 info, 7 debug): journald strips
// it and files the line at that priority, so `journalctl -p err` finds
// run_failed.
//
// A live status line (the progress line on stdout) is shown through
// show_status(): a log line written while it is up clears it first and draws
// it again after, so on one terminal neither garbles the other.
//
// Secrets registered with add_secret() are replaced by "[redacted]" in every
// line, as a last line of defence: code must not log them in the first place.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace reconciler::log {

enum class level { debug, info, warn, error };
enum class format { json, text };

void set_min_level(level l);
void set_format(format f);
// "json" or "text"; nullopt for anything else.
std::optional<format> parse_format(std::string_view name);
// Prefix every line with "<N>", its syslog priority (sd-daemon(3)).
void set_priority_prefix(bool on);
// systemd's documented test (systemd.exec(5), $JOURNAL_STREAM): the variable
// holds "DEVICE:INODE" of the journal stream, and stderr is that stream.
bool stderr_is_journal();
// Text when stderr is a terminal, else JSON.
format default_format();
// From now on every line written to `os` (std::cerr's plain messages: usage
// and setup errors, a command's failure) starts with the priority prefix of
// `l`, so journald files them at that priority too. For the process's
// lifetime; `os` must outlive every write. The prefixing buffer is left to
// `os` (std::cerr's is never freed); a caller that is done with it restores
// the previous buffer and deletes what `os.rdbuf(previous)` returns.
void prefix_lines(std::ostream& os, level l);

// Redirects output (tests); an empty function restores stderr / stdout.
void set_sink(std::function<void(std::string_view line)> sink);  // log lines, without the newline
void set_status_sink(std::function<void(std::string_view bytes)> sink);  // what show_status writes
void add_secret(std::string secret);

// Draws (or redraws) the status line: "\r\033[K" + text on stdout, no newline.
void show_status(std::string_view text);
// Clears the status line if one is shown.
void clear_status();

void write(level l, std::string_view event, boost::json::object fields = {});
inline void debug(std::string_view event, boost::json::object fields = {}) { write(level::debug, event, std::move(fields)); }
inline void info(std::string_view event, boost::json::object fields = {}) { write(level::info, event, std::move(fields)); }
inline void warn(std::string_view event, boost::json::object fields = {}) { write(level::warn, event, std::move(fields)); }
inline void error(std::string_view event, boost::json::object fields = {}) { write(level::error, event, std::move(fields)); }

// One line as write() would emit it (without a newline or redaction), at
// time `ts`: the formats' contract, for tests.
std::string format_line(format f, bool priority_prefix, level l, std::int64_t ts, std::string_view event,
                        const boost::json::object& fields);

// Scrubs registered secrets from arbitrary text (error messages, reports).
std::string redact(std::string text);

}  // namespace reconciler::log
