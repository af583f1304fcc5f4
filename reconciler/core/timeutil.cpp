#include "core/timeutil.hpp"

#include "core/text.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>

namespace reconciler {
namespace {

using namespace std::chrono;

constexpr std::int64_t seconds_per_day = 86'400;

// RFC 3339 has four-digit years only.
constexpr unix_seconds min_rfc3339 = -62'167'219'200;  // 0000-01-01T00:00:00Z
constexpr unix_seconds max_rfc3339 = 253'402'300'799;  // 9999-12-31T23:59:59Z

// Stripe did not exist before 2010: an earlier unix timestamp on the command
// line is a typo or a duration that lost its unit ("72" for "72h").
constexpr unix_seconds min_plausible_unix = 1'262'304'000;  // 2010-01-01T00:00:00Z

// A century covers any window or timeout this tool deals with and keeps
// conversions to nanoseconds (int64: ~292 years) safe for callers.
constexpr std::int64_t max_duration_seconds = 36'500 * seconds_per_day;

constexpr std::string_view rfc3339_examples =
    "expected RFC 3339 such as \"2026-11-24T03:00:00Z\", \"2026-11-24T05:00:00.250+02:00\" "
    "or a date \"2026-11-24\"";
constexpr std::string_view duration_examples =
    "expected a whole number and a unit s, m, h, d or w, such as \"90s\", \"15m\", \"72h\", "
    "\"30d\", \"2w\" or \"1h30m\"";


bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_digit(c)) return false;
    }
    return true;
}

// Digits to int64, nullopt on overflow. `s` must be all digits.
std::optional<std::int64_t> to_int64(std::string_view s) {
    std::int64_t v = 0;
    for (char c : s) {
        const int d = c - '0';
        if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

[[noreturn]] void bad_rfc3339(std::string_view input, std::string_view reason) {
    throw std::invalid_argument("invalid time " + quote(input) + ": " + std::string(reason) + " (" +
                                std::string(rfc3339_examples) + ")");
}

[[noreturn]] void bad_duration(std::string_view input, std::string_view reason) {
    throw std::invalid_argument("invalid duration " + quote(input) + ": " + std::string(reason) +
                                " (" + std::string(duration_examples) + ")");
}

// A cursor over an RFC 3339 string; every read names what it expected so the
// error says where the input went wrong.
class rfc3339_reader {
public:
    explicit rfc3339_reader(std::string_view s) : s_(s) {}

    bool at_end() const { return pos_ == s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    void skip() { ++pos_; }

    int digits(std::size_t n, std::string_view field) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (pos_ >= s_.size() || !is_digit(s_[pos_])) {
                bad_rfc3339(s_, "expected " + std::to_string(n) + " digits for the " +
                                    std::string(field));
            }
            v = v * 10 + (s_[pos_++] - '0');
        }
        return v;
    }

    void expect(char c, std::string_view after) {
        if (peek() != c) {
            bad_rfc3339(s_, "expected '" + std::string(1, c) + "' after the " + std::string(after));
        }
        ++pos_;
    }

    void range(int v, int lo, int hi, std::string_view field) const {
        if (v < lo || v > hi) {
            bad_rfc3339(s_, std::string(field) + " " + std::to_string(v) + " is out of range " +
                                std::to_string(lo) + ".." + std::to_string(hi));
        }
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string format_rfc3339(unix_seconds t) {
    if (t < min_rfc3339 || t > max_rfc3339) {
        throw std::out_of_range("cannot format unix time " + std::to_string(t) +
                                " as RFC 3339: outside years 0000..9999");
    }
    const sys_seconds tp{seconds{t}};
    const auto day = floor<days>(tp);
    const year_month_day ymd{day};
    const hh_mm_ss hms{tp - day};
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf.data();
}

unix_seconds parse_rfc3339(std::string_view s) {
    if (s.empty()) bad_rfc3339(s, "empty");
    rfc3339_reader r(s);
    const int y = r.digits(4, "year");
    r.expect('-', "year");
    const int mo = r.digits(2, "month");
    r.expect('-', "month");
    const int d = r.digits(2, "day");
    r.range(mo, 1, 12, "month");
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        bad_rfc3339(s, "day " + std::to_string(d) + " does not exist in " + std::to_string(y) + "-" +
                           (mo < 10 ? "0" : "") + std::to_string(mo));
    }
    const std::int64_t day_start = sys_days{ymd}.time_since_epoch().count() * seconds_per_day;
    if (r.at_end()) return day_start;

    // RFC 3339 allows 't' and, "for readability", a space instead of 'T'.
    if (r.peek() != 'T' && r.peek() != 't' && r.peek() != ' ') {
        bad_rfc3339(s, "expected 'T' and a time after the date");
    }
    r.skip();
    const int hh = r.digits(2, "hour");
    r.expect(':', "hour");
    const int mm = r.digits(2, "minute");
    r.expect(':', "minute");
    const int ss = r.digits(2, "second");
    r.range(hh, 0, 23, "hour");
    r.range(mm, 0, 59, "minute");
    r.range(ss, 0, 60, "second");  // 60: a leap second, folded into the next one as POSIX time does

    if (r.peek() == '.') {
        r.skip();
        // Stripe's times are whole seconds; a fraction is truncated, which is
        // the floor for times before 1970 too (the fraction is always positive).
        if (!is_digit(r.peek())) bad_rfc3339(s, "expected digits after the decimal point");
        while (is_digit(r.peek())) r.skip();
    }

    std::int64_t offset = 0;
    if (r.peek() == 'Z' || r.peek() == 'z') {
        r.skip();
    } else if (r.peek() == '+' || r.peek() == '-') {
        const int sign = r.peek() == '+' ? 1 : -1;
        r.skip();
        const int oh = r.digits(2, "offset hours");
        r.expect(':', "offset hours");
        const int om = r.digits(2, "offset minutes");
        r.range(oh, 0, 23, "offset hours");
        r.range(om, 0, 59, "offset minutes");
        offset = sign * (oh * 3600 + om * 60);
    } else if (r.at_end()) {
        bad_rfc3339(s, "missing time zone: add \"Z\" for UTC or an offset like \"+02:00\"");
    } else {
        bad_rfc3339(s, "expected \"Z\" or an offset like \"+02:00\" after the seconds");
    }
    if (!r.at_end()) bad_rfc3339(s, "unexpected text after the time zone");

    // Local time minus its offset is UTC.
    return day_start + hh * 3600 + mm * 60 + ss - offset;
}

std::chrono::seconds parse_duration(std::string_view s) {
    if (s.empty()) bad_duration(s, "empty");
    if (s.front() == '-') bad_duration(s, "negative durations are not allowed");
    if (s.front() == '+') bad_duration(s, "no sign allowed");

    struct unit {
        char symbol;
        std::int64_t seconds;
    };
    // Largest first: a combination must follow this order, each unit once.
    static constexpr std::array<unit, 5> units{{
        {'w', 7 * seconds_per_day},
        {'d', seconds_per_day},
        {'h', 3600},
        {'m', 60},
        {'s', 1},
    }};

    std::int64_t total = 0;
    std::size_t next_unit = 0;  // index into `units` of the smallest still allowed
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::size_t start = pos;
        while (pos < s.size() && is_digit(s[pos])) ++pos;
        if (pos == start) bad_duration(s, "expected a number");
        if (pos == s.size()) bad_duration(s, "missing unit after " + std::string(s.substr(start)));
        const auto n = to_int64(s.substr(start, pos - start));
        const char symbol = s[pos++];

        std::size_t u = 0;
        while (u < units.size() && units[u].symbol != symbol) ++u;
        if (u == units.size()) {
            if (symbol == '.' || symbol == ',') bad_duration(s, "whole numbers only (write \"90m\", not \"1.5h\")");
            std::string reason = "unknown unit " + quote(std::string_view(&symbol, 1));
            if (symbol == 'S' || symbol == 'M' || symbol == 'H' || symbol == 'D' || symbol == 'W') {
                reason += " (units are lowercase)";
            }
            bad_duration(s, reason);
        }
        if (u < next_unit) bad_duration(s, "units must go from largest to smallest, each at most once");
        next_unit = u + 1;

        if (!n || *n > max_duration_seconds / units[u].seconds) {
            bad_duration(s, "longer than the maximum of 100 years (36500d)");
        }
        total += *n * units[u].seconds;
        if (total > max_duration_seconds) bad_duration(s, "longer than the maximum of 100 years (36500d)");
    }
    if (total == 0) bad_duration(s, "must be greater than zero");
    return std::chrono::seconds{total};
}

unix_seconds parse_time_arg(std::string_view s, unix_seconds now) {
    if (s == "now") return now;

    if (all_digits(s)) {
        const auto v = to_int64(s);
        if (!v || *v > max_rfc3339) {
            const std::string hint = s.size() >= 13 ? " (milliseconds? give seconds)" : "";
            throw std::invalid_argument("invalid time " + quote(s) +
                                        ": unix timestamp is after year 9999" + hint);
        }
        if (*v < min_plausible_unix) {
            throw std::invalid_argument(
                "invalid time " + quote(s) + ": unix timestamp " + std::to_string(*v) + " is " +
                format_rfc3339(*v) +
                ", before 2010 and not a plausible Stripe time (for a duration add a unit, "
                "e.g. \"72h\"; for a date write \"2026-11-24\")");
        }
        return *v;
    }

    // "2026-..." is a date; anything else starting with a digit is a duration.
    // Each parser then gives the error specific to the form the user meant.
    if (s.size() >= 5 && is_digit(s[0]) && s[4] == '-') return parse_rfc3339(s);
    if (!s.empty() && is_digit(s[0])) {
        const auto d = parse_duration(s);
        if (now - d.count() < 0) {
            throw std::invalid_argument("invalid time " + quote(s) +
                                        ": that long before now is before 1970");
        }
        return now - d.count();
    }
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        throw std::invalid_argument("invalid time " + quote(s) +
                                    ": no sign allowed; a duration already means that long before "
                                    "now (write \"72h\", not \"-72h\")");
    }
    throw std::invalid_argument(
        "invalid time " + quote(s) +
        ": expected \"now\", an RFC 3339 time such as \"2026-11-24T03:00:00Z\", a date such as "
        "\"2026-11-24\", a duration before now such as \"72h\" or \"1h30m\", or a unix timestamp "
        "in seconds such as \"1795489200\"");
}

unix_seconds now_unix() {
    return floor<seconds>(system_clock::now()).time_since_epoch().count();
}

}  // namespace reconciler
