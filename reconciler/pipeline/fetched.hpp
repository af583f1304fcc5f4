// What the fetcher brings for one slice of the window (or for the window
// part), folded as pages arrive, before it becomes the diff's window_input.
#pragma once

#include "core/diff.hpp"
#include "core/model.hpp"
#include "store/invoice_links.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace reconciler::pipeline {

// An invoice paid this close to a slice's end is diffed with the next slice,
// where its invoice.paid event (created a moment after the payment) lands.
inline constexpr unix_seconds slice_margin = 300;

struct fetched {
    std::map<std::string, invoice> invoices;
    subscription_folder subscriptions;
    std::vector<event_ref> events;
    std::vector<charge_case> charge_cases;
    std::vector<std::pair<dispute, std::string>> disputes;  // with their event id
    std::map<std::string, customer> customers;
    std::map<std::string, std::string> looked_up_invoices;
    std::map<std::string, std::string> request_ids;
    std::vector<invalid_object> invalid_objects;  // broke the schema: findings, never diffed
    std::int64_t objects = 0;  // listed (a slice's density: the next slice's length)
    // Paid InvoicePayments seen (basil: the invoice pages' `payments`, the
    // lookups' answers), for store::invoice_links on the worker.
    std::vector<store::invoice_link> invoice_links;

    // Payment is monotonic: a paid snapshot (event or list) wins over an
    // older unpaid one, whatever order they arrive in.
    void add_invoice(invoice inv, const std::string& request_id) {
        request_ids.emplace(inv.id, request_id);
        const std::string id = inv.id;
        auto [it, inserted] = invoices.try_emplace(id, std::move(inv));  // leaves `inv` alone when not inserted
        if (!inserted && !it->second.paid && inv.paid) it->second = std::move(inv);
    }
};

}  // namespace reconciler::pipeline
