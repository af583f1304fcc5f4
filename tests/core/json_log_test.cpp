// Log lines (core/json_log.hpp): the JSON and text formats, the journald
// priority prefix, $JOURNAL_STREAM detection and the status line.
#include "core/json_log.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <string>

namespace rlog = reconciler::log;

namespace {

// Captures what the log writes (lines and status bytes, in order) and puts
// the defaults back afterwards.
struct captured {
    std::string all;
    captured() {
        rlog::set_sink([this](std::string_view line) { all += std::string(line) + "\n"; });
        rlog::set_status_sink([this](std::string_view bytes) { all += bytes; });
    }
    ~captured() {
        rlog::clear_status();
        rlog::set_sink({});
        rlog::set_status_sink({});
        rlog::set_format(rlog::format::json);
        rlog::set_priority_prefix(false);
    }
};

constexpr std::int64_t ts = 1764900184;  // 2025-12-05T02:03:04Z

// Text lines with their "HH:MM:SS" replaced by "T" (the clock is now).
std::string without_clock(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool clock = i + 8 <= s.size() && s[i + 2] == ':' && s[i + 5] == ':' &&
                           std::isdigit(static_cast<unsigned char>(s[i])) && (i == 0 || s[i - 1] == '\n' || s[i - 1] == 'K');
        if (clock) {
            out += 'T';
            i += 7;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_log)

BOOST_AUTO_TEST_CASE(json_lines_carry_ts_level_event_and_fields) {
    const auto line = rlog::format_line(rlog::format::json, false, rlog::level::info, ts, "run_started",
                                       {{"run_id", 7}, {"window_start", "2025-12-04T00:00:00Z"}});
    const auto v = boost::json::parse(line).as_object();
    BOOST_TEST(v.at("ts").as_string() == "2025-12-05T02:03:04Z");
    BOOST_TEST(v.at("level").as_string() == "info");
    BOOST_TEST(v.at("event").as_string() == "run_started");
    BOOST_TEST(v.at("run_id").as_int64() == 7);
}

// What a person at a terminal reads: time, level, event, key=value; a value
// that would read back wrong (space, quote, '=', empty) is quoted.
BOOST_AUTO_TEST_CASE(text_lines_are_for_people) {
    const auto line = rlog::format_line(rlog::format::text, false, rlog::level::warn, ts, "request_retry",
                                       {{"path", "/v1/events"},
                                        {"status", 429},
                                        {"reason", "429 rate_limit (req_1)"},
                                        {"empty", ""},
                                        {"ok", true}});
    BOOST_TEST(line == "02:03:04 warn request_retry path=/v1/events status=429 reason=\"429 rate_limit (req_1)\" "
                       "empty=\"\" ok=true");
}

// sd-daemon(3): <3> err, <4> warning, <6> info, <7> debug, before the line
// in either format; `journalctl -p err` then finds run_failed.
BOOST_AUTO_TEST_CASE(priority_prefix_is_the_syslog_priority) {
    using rlog::level;
    BOOST_TEST(rlog::format_line(rlog::format::json, true, level::error, ts, "run_failed", {}).rfind("<3>{", 0) == 0u);
    BOOST_TEST(rlog::format_line(rlog::format::json, true, level::warn, ts, "x", {}).rfind("<4>{", 0) == 0u);
    BOOST_TEST(rlog::format_line(rlog::format::json, true, level::info, ts, "x", {}).rfind("<6>{", 0) == 0u);
    BOOST_TEST(rlog::format_line(rlog::format::json, true, level::debug, ts, "x", {}).rfind("<7>{", 0) == 0u);
    BOOST_TEST(rlog::format_line(rlog::format::text, true, level::error, ts, "run_failed", {}) == "<3>02:03:04 error run_failed");
    BOOST_TEST(rlog::format_line(rlog::format::json, false, level::error, ts, "x", {})[0] == '{');

    captured c;
    rlog::set_priority_prefix(true);
    rlog::error("run_failed", {{"error", "boom"}});
    BOOST_TEST(c.all.rfind("<3>{", 0) == 0u, c.all);
}

// systemd sets JOURNAL_STREAM=DEVICE:INODE of the stream it connected to
// stderr; only when stderr is that very stream is the prefix wanted (a
// child whose stderr was redirected inherits the variable).
BOOST_AUTO_TEST_CASE(journal_stream_is_matched_against_stderr) {
    struct stat st {};
    BOOST_REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const char* saved = std::getenv("JOURNAL_STREAM");
    const std::string before = saved ? saved : "";
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    BOOST_TEST(rlog::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
    BOOST_TEST(!rlog::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    BOOST_TEST(!rlog::stderr_is_journal());
    ::unsetenv("JOURNAL_STREAM");
    BOOST_TEST(!rlog::stderr_is_journal());
    if (saved) ::setenv("JOURNAL_STREAM", before.c_str(), 1);
}

// The progress line on one terminal with the log: a log line clears it,
// is written whole on its own line, and the progress line is drawn again
// below it; once cleared, log lines are written as they are.
BOOST_AUTO_TEST_CASE(log_lines_step_around_the_status_line) {
    captured c;
    rlog::set_format(rlog::format::text);
    rlog::show_status("  fetching invoices: 3 pages");
    rlog::info("slice_checkpoint", {{"run_id", 1}});
    rlog::clear_status();
    rlog::info("run_finished", {{"run_id", 1}});
    const std::string clear = "\r\033[K", status = "  fetching invoices: 3 pages";
    const std::string seen = without_clock(c.all);
    BOOST_TEST(seen == clear + status                                // drawn
                           + clear + "T info slice_checkpoint run_id=1\n"  // cleared for the line
                           + status                                 // drawn again below it
                           + clear                                  // clear_status()
                           + "T info run_finished run_id=1\n");
}

BOOST_AUTO_TEST_CASE(secrets_are_redacted_in_both_formats) {
    captured c;
    rlog::add_secret("sk_test_core_log_secret_123");
    rlog::warn("x", {{"detail", "key sk_test_core_log_secret_123 leaked"}});
    rlog::set_format(rlog::format::text);
    rlog::warn("x", {{"detail", "key sk_test_core_log_secret_123 leaked"}});
    rlog::show_status("sk_test_core_log_secret_123");
    BOOST_TEST(c.all.find("sk_test_core_log_secret_123") == std::string::npos, c.all);
    BOOST_TEST(c.all.find("[redacted]") != std::string::npos);
}

// The plain error lines (std::cerr) under the journal: each line its prefix.
BOOST_AUTO_TEST_CASE(plain_lines_get_the_prefix_too) {
    std::ostringstream os;
    std::ostream& stream = os;  // ostringstream::rdbuf() hides the setter
    std::streambuf* const plain = stream.rdbuf();
    rlog::prefix_lines(os, rlog::level::error);
    os << "reconciler: config x.yaml:3: bad\n" << "second" << " line\n";
    BOOST_TEST(os.str() == "<3>reconciler: config x.yaml:3: bad\n<3>second line\n");
    delete stream.rdbuf(plain);  // prefix_lines leaves its buffer to the stream (std::cerr's lives to exit)
}

BOOST_AUTO_TEST_CASE(format_names) {
    BOOST_TEST((rlog::parse_format("json") == rlog::format::json));
    BOOST_TEST((rlog::parse_format("text") == rlog::format::text));
    BOOST_TEST(!rlog::parse_format("JSON").has_value());
    BOOST_TEST(!rlog::parse_format("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
