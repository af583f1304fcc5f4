// What the database.app_tables suites (app_tables_test on SQLite,
// postgres_mapping_test) compare: a run's findings and corrections without
// ids or times, and stderr's messages. Header-only, after e2e_support.hpp.
#pragma once

#include "e2e/e2e_support.hpp"

#include <set>
#include <string>

namespace e2e {

// What a run found and did, without ids, correlation ids or times.
inline std::set<std::string> outcomes(const json::object& report) {
    std::set<std::string> out;
    for (const auto& v : report.at("findings").as_array()) {
        const auto& f = v.as_object();
        std::string line = std::string(f.at("kind").as_string()) + "|" + std::string(f.at("subject_id").as_string()) +
                           "|" + std::string(f.at("disposition").as_string());
        if (const auto& c = f.at("correction"); c.is_object())
            for (const char* k : {"kind", "credits", "tier_to", "record_payment"})
                if (const auto* x = c.as_object().if_contains(k)) line += "|" + json::serialize(*x);
        out.insert(line);
    }
    return out;
}

// stderr's lines are JSON: its quotes escaped.
inline std::string unescaped(std::string s) {
    for (std::size_t at; (at = s.find("\\\"")) != std::string::npos;) s.erase(at, 1);
    return s;
}

// "missed X; extra Y; " between two runs' outcomes (empty when equal).
inline std::string outcome_diff(const std::set<std::string>& expected, const std::set<std::string>& found) {
    std::string diff;
    for (const auto& k : expected)
        if (!found.count(k)) diff += "missed " + k + "; ";
    for (const auto& k : found)
        if (!expected.count(k)) diff += "extra " + k + "; ";
    return diff;
}

}  // namespace e2e
