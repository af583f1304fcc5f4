// Fetch + normalise: the window's Stripe objects, a part at a time, parsed
// into the model and folded into `fetched`. Runs on the network thread.
//
// Order of use: fetch_subscriptions (the window part), take(); then per
// slice, in window order, fetch_lists (may run ahead, several slices at
// once), finish_slice, take(). audit_portal once, with the last slice.
//
// The store is read (never written) only from fetch_subscriptions and
// finish_slice, which the run calls while the worker is idle; pages are
// counted at once but handed to the store by take_pages(), on the worker.
#pragma once

#include "report/report_writer.hpp"
#include "core/diff.hpp"
#include "core/portal_audit.hpp"
#include "pipeline/fetched.hpp"
#include "pipeline/progress_line.hpp"
#include "store/fetch_lookup.hpp"
#include "store/invoice_links.hpp"
#include "store/types.hpp"
#include "stripe/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace reconciler::pipeline {

class fetcher {
public:
    // `api_version`: the pinned Stripe-Version, which decides how a charge is
    // tied to its invoice (link_charges_to_invoices). `links` is read, like
    // `lookups`, only from finish_slice.
    fetcher(stripe::client& client, store::fetch_lookup& lookups, store::invoice_links& links, run_result& result,
            report_writer& report, unix_seconds window_end, const diff_policy& policy, const std::string& api_version);

    void set_progress(double done) { done_ = done; }

    // The window's subscription events, and past Stripe's 30-day event
    // retention every subscription's current state.
    boost::asio::awaitable<void> fetch_subscriptions(unix_seconds start);

    // Slice [s, e), the part that depends on no other slice: its other
    // events, invoices and new customers, and the charges its refunds and
    // disputes name, tied to their invoices. Goes to `f` (empty on entry),
    // not to take(): the run fetches slices ahead while it finishes others.
    boost::asio::awaitable<void> fetch_lists(fetched& f, unix_seconds s, unix_seconds e);

    // The rest of slice [s, e), in slice order: invoices an earlier slice
    // carried over join it, those paid in its last minutes go on to the next,
    // app payments the window did not bring are looked up, and (basil) its
    // refunded and disputed charges are tied to their invoices. `f` is what
    // fetch_lists(s, e) returned; take() then hands out the finished slice.
    boost::asio::awaitable<void> finish_slice(fetched f, unix_seconds s, unix_seconds e, bool last);

    // The support runbook's fourth row, once per run: the active Billing
    // Portal configurations and the prices the default one offers. Empty
    // when the key may not read them (a note in the report says so).
    boost::asio::awaitable<std::optional<portal_audit_input>> audit_portal();

    // What the last fetch brought; the fetcher starts empty again.
    fetched take() { return std::exchange(data_, fetched{}); }

    // The pages recorded since the last call, for store::record_pages.
    std::vector<store::fetched_page> take_pages() { return std::exchange(pages_, {}); }

private:
    boost::asio::awaitable<void> fetch_invoices(fetched& f, unix_seconds s, unix_seconds e);
    boost::asio::awaitable<void> fetch_customers(fetched& f, unix_seconds s, unix_seconds e);
    boost::asio::awaitable<void> fetch_events(fetched& f, unix_seconds s, unix_seconds e,
                                              const std::vector<std::string>& types, bool undelivered_only = false);
    boost::asio::awaitable<void> look_up_app_payments(unix_seconds s, unix_seconds e);
    // charge_links.cpp
    boost::asio::awaitable<void> fetch_disputed_charges(fetched& f);
    charge_case pinned_charge_case(const std::string& event_id, charge ch, const dispute& d) const;
    boost::asio::awaitable<void> link_charges_to_invoices(fetched& f);
    boost::asio::awaitable<void> link_by_invoice_payments();
    static void note_invoice_links(const boost::json::value& invoice, std::vector<store::invoice_link>& out);

    void on_page(const list_page_info& p);
    void record(const list_page_info& p);
    void on_event(fetched& f, event e, const std::string& request_id);

    struct deferred {
        invoice inv;
        std::string request_id;
        std::vector<event_ref> events;  // its events, for the delivery check
    };

    stripe::client& client_;
    store::fetch_lookup& lookups_;
    store::invoice_links& links_;
    run_result& result_;
    report_writer& report_;
    unix_seconds window_end_;
    const diff_policy& policy_;
    double done_ = 0;
    fetched data_;
    std::map<std::string, deferred> carried_;
    // Void invoices listed so far (id -> Request-Id) that no app payment has
    // asked about yet: few (a void invoice is rare), and each answers one
    // lookup.
    std::unordered_map<std::string, std::string> void_invoices_;
    // Objects of the window part (subscriptions, their events) that broke the
    // schema: they join the next slice, whose rules flag them.
    std::vector<invalid_object> window_invalid_;
    bool disputes_forbidden_ = false;    // the key may not list disputes (403 once)
    bool pinned_charges_name_invoices_;  // the pinned version renders charge.invoice
    progress_line progress_;
    std::vector<store::fetched_page> pages_;  // recorded, not yet written
};

}  // namespace reconciler::pipeline
