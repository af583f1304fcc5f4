// Sample report.json documents for the renderer tests, and what the tests
// look for in a page.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <string>

namespace report_samples {

// Data from Stripe and users that tries to become markup, formulas or links.
extern const std::string hostile_email;
extern const std::string hostile_summary;
extern const std::string hostile_note;

// A finished run's report.json: five findings, four escalations (one resolved).
boost::json::object sample_report();
// The same where data carries every hostile pattern.
boost::json::object hostile_report();

// The page's values of a data-* hook (attr="key">value<), by key; checks each key is unique.
std::map<std::string, std::string> hooks(const std::string& html, const std::string& attr);
std::string lower(std::string s);
// No script, no URL: the page loads nothing (summary.md).
void check_offline_and_scriptless(const std::string& out);
// report.html loads nothing: its links are in-page anchors or Stripe
// Dashboard pages, no src/url()/@import, and its one script is inline,
// the page's own (html_table_script.cpp), allowed by the CSP's hash of it.
void check_offline(const std::string& html);

}  // namespace report_samples
