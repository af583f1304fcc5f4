#include <boost/test/unit_test.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/timeutil.hpp"

using namespace reconciler;
using namespace std::chrono_literals;

namespace {

// The message of the std::invalid_argument `f` throws; fails the test when
// it throws nothing.
template <typename F>
std::string invalid_argument_message(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    BOOST_FAIL("expected std::invalid_argument");
    return {};
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

constexpr unix_seconds t_2026_11_24_03 = 1'795'489'200;  // 2026-11-24T03:00:00Z

}  // namespace

BOOST_AUTO_TEST_SUITE(timeutil)

BOOST_AUTO_TEST_CASE(format_known_instants) {
    BOOST_TEST(format_rfc3339(0) == "1970-01-01T00:00:00Z");
    BOOST_TEST(format_rfc3339(t_2026_11_24_03) == "2026-11-24T03:00:00Z");
    BOOST_TEST(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
    BOOST_TEST(format_rfc3339(951'782'400) == "2000-02-29T00:00:00Z");
    BOOST_TEST(format_rfc3339(253'402'300'799) == "9999-12-31T23:59:59Z");
    BOOST_TEST(format_rfc3339(-62'167'219'200) == "0000-01-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(format_refuses_years_rfc3339_cannot_express) {
    BOOST_CHECK_THROW(format_rfc3339(253'402'300'800), std::out_of_range);
    BOOST_CHECK_THROW(format_rfc3339(-62'167'219'201), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(round_trips) {
    for (unix_seconds t : {unix_seconds{0}, unix_seconds{-1}, unix_seconds{1}, t_2026_11_24_03,
                           unix_seconds{951'868'799} /* 2000-02-29T23:59:59Z */,
                           unix_seconds{4'107'542'400} /* 2100-03-01 */, unix_seconds{253'402'300'799},
                           unix_seconds{-62'167'219'200}}) {
        BOOST_TEST(parse_rfc3339(format_rfc3339(t)) == t, "round trip of " << t);
    }
    // Every day over a few leap cycles, at an odd second of the day.
    for (unix_seconds t = 946'684'800 + 12'345; t < 1'262'304'000; t += 86'400) {
        BOOST_REQUIRE_EQUAL(parse_rfc3339(format_rfc3339(t)), t);
    }
}

BOOST_AUTO_TEST_CASE(leap_years) {
    BOOST_TEST(parse_rfc3339("2024-02-29") == 1'709'164'800);
    BOOST_TEST(parse_rfc3339("2000-02-29T00:00:00Z") == 951'782'400);  // divisible by 400
    BOOST_TEST(parse_rfc3339("2024-03-01") - parse_rfc3339("2024-02-28") == 2 * 86'400);
    BOOST_TEST(parse_rfc3339("2025-03-01") - parse_rfc3339("2025-02-28") == 86'400);

    const auto msg = invalid_argument_message([] { parse_rfc3339("2025-02-29"); });
    BOOST_TEST(contains(msg, "\"2025-02-29\""));
    BOOST_TEST(contains(msg, "does not exist"));
    BOOST_CHECK_THROW(parse_rfc3339("1900-02-29"), std::invalid_argument);  // divisible by 100 only
    BOOST_CHECK_THROW(parse_rfc3339("2026-04-31"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bare_date_is_midnight_utc) {
    BOOST_TEST(parse_rfc3339("2026-11-24") == t_2026_11_24_03 - 3 * 3600);
    BOOST_TEST(parse_rfc3339("1970-01-01") == 0);
}

BOOST_AUTO_TEST_CASE(offsets) {
    BOOST_TEST(parse_rfc3339("2026-11-24T05:00:00+02:00") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-23T22:00:00-05:00") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24T08:30:00+05:30") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24T03:00:00+00:00") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24T03:00:00-00:00") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24t03:00:00z") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24 03:00:00Z") == t_2026_11_24_03);
    // An offset can move the instant across a year boundary.
    BOOST_TEST(parse_rfc3339("2027-01-01T01:00:00+02:00") == parse_rfc3339("2026-12-31T23:00:00Z"));
}

BOOST_AUTO_TEST_CASE(fractional_seconds_truncate) {
    BOOST_TEST(parse_rfc3339("2026-11-24T03:00:00.999Z") == t_2026_11_24_03);
    BOOST_TEST(parse_rfc3339("2026-11-24T03:00:00.5+02:00") == t_2026_11_24_03 - 7200);
    BOOST_TEST(parse_rfc3339("2026-11-24T03:00:00.123456789Z") == t_2026_11_24_03);
    // Truncating the fraction is the floor before 1970 as well.
    BOOST_TEST(parse_rfc3339("1969-12-31T23:59:59.5Z") == -1);
}

BOOST_AUTO_TEST_CASE(leap_second_folds_into_the_next) {
    BOOST_TEST(parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z"));
}

BOOST_AUTO_TEST_CASE(bad_rfc3339_inputs_throw_naming_the_input) {
    for (std::string_view bad : {
             "",
             "2026",
             "2026-11",
             "2026-1-24",
             "26-11-24",
             "2026/11/24",
             "2026-13-01",
             "2026-00-10",
             "2026-11-00",
             "2026-11-24T03:00:00",        // no zone: would depend on the machine's TZ
             "2026-11-24T03:00Z",          // seconds are required
             "2026-11-24T24:00:00Z",
             "2026-11-24T03:60:00Z",
             "2026-11-24T03:00:61Z",
             "2026-11-24T03:00:00.Z",
             "2026-11-24T03:00:00+2:00",
             "2026-11-24T03:00:00+0200",
             "2026-11-24T03:00:00+24:00",
             "2026-11-24T03:00:00Z ",
             "2026-11-24Z",
             " 2026-11-24",
             "2026-11-24T03:00:00ZZ",
         }) {
        const auto msg = invalid_argument_message([&] { parse_rfc3339(bad); });
        BOOST_TEST(contains(msg, "\"" + std::string(bad) + "\""), "message names the input: " << msg);
        BOOST_TEST(contains(msg, "2026-11-24T03:00:00Z"), "message shows an example: " << msg);
    }
    const auto no_zone = invalid_argument_message([] { parse_rfc3339("2026-11-24T03:00:00"); });
    BOOST_TEST(contains(no_zone, "add \"Z\""));
}

BOOST_AUTO_TEST_CASE(messages_escape_control_characters) {
    const auto msg = invalid_argument_message([] { parse_rfc3339("2026-11-24\nrm -rf"); });
    BOOST_TEST(!contains(msg, "\n"));
    BOOST_TEST(contains(msg, "\\x0a"));
}

BOOST_AUTO_TEST_CASE(durations) {
    BOOST_TEST(parse_duration("90s").count() == 90);
    BOOST_TEST(parse_duration("15m").count() == 15 * 60);
    BOOST_TEST(parse_duration("72h").count() == 72 * 3600);
    BOOST_TEST(parse_duration("30d").count() == 30 * 86'400);
    BOOST_TEST(parse_duration("2w").count() == 14 * 86'400);
    BOOST_TEST(parse_duration("1h30m").count() == 5400);
    BOOST_TEST(parse_duration("1w2d3h4m5s").count() == 7 * 86'400 + 2 * 86'400 + 3 * 3600 + 4 * 60 + 5);
    BOOST_TEST(parse_duration("1h0m").count() == 3600);
    BOOST_TEST(parse_duration("007s").count() == 7);
    BOOST_TEST(parse_duration("36500d").count() == 36'500LL * 86'400);  // the maximum
}

BOOST_AUTO_TEST_CASE(bad_durations_throw_naming_the_input) {
    for (std::string_view bad : {
             "", "0s", "0h0m", "-5m", "+5m", "5", "h", "5x", "5H", "1.5h", "5 m", " 5m", "5m ",
             "30m1h",   // smallest first
             "1h1h",    // repeated unit
             "5ms",     // no milliseconds: 'm' then 's' without a number
             "36501d",  // over a century
             "99999999999999999999s",  // int64 overflow
             "15250000w",              // overflows when multiplied
         }) {
        const auto msg = invalid_argument_message([&] { parse_duration(bad); });
        BOOST_TEST(contains(msg, "\"" + std::string(bad) + "\""), "message names the input: " << msg);
        BOOST_TEST(contains(msg, "72h"), "message shows an example: " << msg);
    }
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("-5m"); }), "negative"));
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("0s"); }), "greater than zero"));
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("5x"); }), "unknown unit \"x\""));
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("5H"); }), "lowercase"));
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("1.5h"); }), "whole numbers"));
    BOOST_TEST(contains(invalid_argument_message([] { parse_duration("99999999999999999999s"); }), "100 years"));
}

BOOST_AUTO_TEST_CASE(time_args) {
    const unix_seconds now = t_2026_11_24_03;
    BOOST_TEST(parse_time_arg("now", now) == now);
    BOOST_TEST(parse_time_arg("72h", now) == now - 72 * 3600);
    BOOST_TEST(parse_time_arg("1h30m", now) == now - 5400);
    BOOST_TEST(parse_time_arg("2026-11-24", now) == now - 3 * 3600);
    BOOST_TEST(parse_time_arg("2026-11-24T05:00:00+02:00", now) == now);
    BOOST_TEST(parse_time_arg("1795489200", now) == now);
    BOOST_TEST(parse_time_arg("1262304000", now) == 1'262'304'000);  // 2010-01-01: the earliest accepted
}

BOOST_AUTO_TEST_CASE(bad_time_args_throw_naming_the_input) {
    const unix_seconds now = t_2026_11_24_03;
    for (std::string_view bad : {"", "yesterday", "NOW", "-72h", "72", "20261124", "1262303999",
                                 "1795489200000", "99999999999999999999", "2026-11-24T03:00:00",
                                 "72x", "0h", "36500d"}) {
        const auto msg = invalid_argument_message([&] { parse_time_arg(bad, now); });
        BOOST_TEST(contains(msg, "\"" + std::string(bad) + "\""), "message names the input: " << msg);
    }
    // Each form explains itself.
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("72", now); }), "add a unit"));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("20261124", now); }), "2026-11-24"));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("1795489200000", now); }), "milliseconds"));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("-72h", now); }), "not \"-72h\""));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("yesterday", now); }), "\"now\""));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("36500d", now); }), "before 1970"));
    BOOST_TEST(contains(invalid_argument_message([&] { parse_time_arg("2026-11-24T03:00:00", now); }), "add \"Z\""));
}

BOOST_AUTO_TEST_CASE(now_is_the_system_clock) {
    const unix_seconds before =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const unix_seconds now = now_unix();
    BOOST_TEST(now >= before);
    BOOST_TEST(now <= before + 5);
    BOOST_TEST(now > 1'262'304'000);
}

BOOST_AUTO_TEST_SUITE_END()
