// What the config tests share: the smallest valid config, and the message of
// a config that must be refused.
#pragma once

#include "config/config.hpp"

#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace config_test {

// The sections every valid config needs; tests put the section under test
// in front of it, so that its first line is line 1.
inline const std::string required_sections =
    "database:\n"
    "  path: app.db\n"
    "output:\n"
    "  dir: reports\n"
    "prices:\n"
    "  price_pro: { tier: pro, credits: 1000 }\n";

// The config_error message of parsing `yaml` as demo.yaml; fails the test
// when nothing, or something other than config_error, is thrown.
inline std::string error_of(const std::string& yaml) {
    try {
        reconciler::parse_config(yaml, "demo.yaml");
    } catch (const reconciler::config_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        BOOST_ERROR("expected config_error, got another exception: " << e.what());
        return {};
    }
    BOOST_ERROR("expected config_error for:\n" << yaml);
    return {};
}

// The same, and the message must contain each of `parts`.
inline void check_error(const std::string& yaml, std::initializer_list<std::string_view> parts) {
    const std::string msg = error_of(yaml);
    for (std::string_view part : parts)
        BOOST_TEST(msg.find(part) != std::string::npos, "error message\n  " << msg << "\nlacks\n  " << part);
}

}  // namespace config_test
