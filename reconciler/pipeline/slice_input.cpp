#include "pipeline/slice_input.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace reconciler::pipeline {

window_input to_window_input(fetched& f, unix_seconds start, unix_seconds end) {
    window_input in;
    in.start = start;
    in.end = end;
    in.events = std::move(f.events);
    in.charge_cases = std::move(f.charge_cases);
    // Node by node, so the maps' nodes are freed as the vectors fill: the
    // slice is not held twice while it is diffed.
    in.customers.reserve(f.customers.size());
    while (!f.customers.empty()) in.customers.push_back(std::move(f.customers.extract(f.customers.begin()).mapped()));
    in.looked_up_invoices = std::move(f.looked_up_invoices);
    in.invoices.reserve(f.invoices.size());
    while (!f.invoices.empty()) in.invoices.push_back(std::move(f.invoices.extract(f.invoices.begin()).mapped()));
    in.subscriptions = f.subscriptions.states();
    in.request_ids = std::move(f.request_ids);
    in.invalid_objects = std::move(f.invalid_objects);
    return in;
}

local_snapshot load_local_for(store::snapshot& db, const window_input& in) {
    // Views into `in`, sorted and deduplicated below (vectors, not sets: a
    // dense slice's ids as set nodes were a visible part of its peak).
    std::vector<std::string_view> customers, emails, invoice_ids, event_ids;
    // The credit events the slice rules read: a user's grants and revokes of
    // the slice's invoices and charges (credits_not_granted,
    // refund_or_dispute), nothing else of the log.
    std::unordered_set<std::string_view> sources;
    for (const auto& inv : in.invoices) {
        customers.push_back(inv.customer);
        if (!inv.customer_email.empty()) emails.push_back(inv.customer_email);
        invoice_ids.push_back(inv.id);
        sources.insert(inv.id);
    }
    for (const auto& st : in.subscriptions) customers.push_back(st.sub.customer);
    for (const auto& c : in.customers) {
        customers.push_back(c.id);
        if (!c.email.empty()) emails.push_back(c.email);
    }
    for (const auto& cc : in.charge_cases) {
        customers.push_back(cc.ch.customer);
        sources.insert(cc.ch.id);
        sources.insert(cc.ch.invoice);
    }
    for (const auto& e : in.events) event_ids.push_back(e.id);
    for (const auto& [id, status] : in.looked_up_invoices) invoice_ids.push_back(id);
    const auto distinct = [](std::vector<std::string_view>& v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        v.shrink_to_fit();
        return std::move(v);
    };
    store::local_query q;
    q.customer_ids = distinct(customers);
    q.emails = distinct(emails);
    q.invoice_ids = distinct(invoice_ids);
    q.event_ids = distinct(event_ids);
    q.credit_event_sources = std::move(sources);
    q.start = in.start;
    q.end = in.end;
    q.window_rules = false;
    return db.load_local(q);
}

}  // namespace reconciler::pipeline
