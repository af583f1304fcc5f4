// Links from the report to the Stripe Dashboard: every customer,
// subscription, invoice, charge, dispute, event and price id a page shows
// opens that object's Dashboard page. Links only: the page fetches nothing.
//   https://dashboard.stripe.com[/acct_…][/test]/<resource>/<id>
// The test/live path is the object's `livemode` when a finding's evidence
// carries it, else the run's key mode (report.json run.livemode); a report
// that says neither (older runs) gets no links, rather than guessed ones.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace reconciler::detail {

struct dashboard_context {
    std::optional<bool> livemode;  // unknown: no links
    std::string account;           // acct_… (stripe.account), "" for none
};

// From report.json's run object (may be null).
dashboard_context dashboard_of(const boost::json::object* run);

// The Dashboard resource an id's prefix names ("customers" for cus_…), or ""
// for an id that has no page we link (or is not a plain Stripe id).
std::string_view dashboard_resource(std::string_view id);

// The id's Dashboard URL, or "" (unknown prefix, unknown mode, not an id).
std::string dashboard_url(std::string_view id, const dashboard_context& ctx);

// `text` HTML-escaped, with each Stripe id in it (a token such as in_1Abc,
// cus_…, sub_…#evt_…) a link to its Dashboard page.
std::string linked_ids_html(std::string_view text, const dashboard_context& ctx);

// The same inside <code>, or the dash for "".
std::string linked_code_html(std::string_view text, const dashboard_context& ctx);

}  // namespace reconciler::detail
