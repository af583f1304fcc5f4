// The diff's insides, shared by its rule files (diff_*_rules.cpp): the index
// of the app's snapshot, the context of one diff, and the small helpers the
// rules have in common. Not part of the contract: include core/diff.hpp.
#pragma once

#include "core/diff.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace reconciler::detail {

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// Keys are views into the snapshot, which outlives the index: copying a dense
// slice's ids would weigh on the run's peak memory. Emails are folded to
// lower case, so those keys are strings of their own.
struct local_index {
    std::unordered_map<std::string_view, const local_user*> by_customer;
    std::unordered_map<std::string, const local_user*> by_email;
    std::unordered_map<std::string_view, const local_payment*> payment_by_invoice;
    std::unordered_map<std::string_view, const webhook_delivery*> delivery_by_event;

    explicit local_index(const local_snapshot& local) {
        for (const auto& u : local.users) {
            if (!u.stripe_customer_id.empty()) by_customer.emplace(u.stripe_customer_id, &u);
            by_email.emplace(lower(u.email), &u);
        }
        for (const auto& p : local.payments) payment_by_invoice.emplace(p.invoice_id, &p);
        for (const auto& w : local.webhooks) delivery_by_event.emplace(w.event_id, &w);
    }

    const local_user* user_for(std::string_view customer_id, const std::string& email) const {
        if (auto it = by_customer.find(customer_id); it != by_customer.end()) return it->second;
        if (!email.empty())
            if (auto it = by_email.find(lower(email)); it != by_email.end()) return it->second;
        return nullptr;
    }

    const local_payment* payment_for(std::string_view invoice_id) const {
        auto it = payment_by_invoice.find(invoice_id);
        return it == payment_by_invoice.end() ? nullptr : it->second;
    }
};

// Shared context of one diff.
struct ctx {
    const window_input& in;
    const local_snapshot& local;
    const diff_policy& policy;
    diff_memory& mem;
    local_index idx;
    std::multimap<std::string_view, const event_ref*> events_by_object;  // views into `in`
    std::vector<finding> out;

    ctx(const window_input& i, const local_snapshot& l, const diff_policy& p, diff_memory& m)
        : in(i), local(l), policy(p), mem(m), idx(l) {
        for (const auto& e : in.events) events_by_object.emplace(e.object_id, &e);
    }

    bool in_window(unix_seconds t) const { return t >= in.start && t < in.end; }
    unix_seconds window_end() const { return in.window_end ? in.window_end : in.end; }

    std::string request_id_of(const std::string& object_id) const {
        auto it = in.request_ids.find(object_id);
        return it == in.request_ids.end() ? std::string{} : it->second;
    }

    finding& add(finding_kind kind, team owner, std::string subject_type, std::string subject_id, unix_seconds at) {
        finding f;
        f.kind = kind;
        f.owner = owner;
        f.subject_type = std::move(subject_type);
        f.subject_id = std::move(subject_id);
        f.at = at;
        out.push_back(std::move(f));
        return out.back();
    }

    static void set_user(finding& f, const local_user& u) {
        f.user_id = u.id;
        f.user_email = u.email;
        if (f.customer_id.empty()) f.customer_id = u.stripe_customer_id;
    }
};

// RFC 3339 text from the app's tables; unparseable times are outside every window.
std::optional<unix_seconds> app_time(const std::string& text);

inline bool has_credit_event(const local_user& u, std::string_view kind, const std::string& source) {
    return std::any_of(u.credit_events.begin(), u.credit_events.end(),
                       [&](const credit_event& e) { return e.kind == kind && e.source == source; });
}

// A use of a price the price map does not know, for unknown_price_findings.
void note_unknown_price(ctx& c, const std::string& price, const std::string& nickname, const std::string& product,
                        const std::string& customer, const std::string& object_id, bool is_invoice, unix_seconds at);

// Notes the paid invoice's non-proration lines on unknown prices; true when
// it has any (diff_unknown_prices.cpp).
bool invoice_uses_unknown_prices(ctx& c, const invoice& inv, unix_seconds at);

// The rules, one family a file; each appends its findings to c.out.
void check_invoice(ctx& c, const invoice& inv);           // diff_invoice_rules.cpp
void check_invalid_objects(ctx& c);                       // diff_invalid_rules.cpp
void flag_invalid(ctx& c, const invalid_object& o);       // diff_invalid_rules.cpp
invalid_object out_of_range(const ctx& c, const invoice& inv, std::string field, std::string problem);
void check_orphan_payments(ctx& c);                       // diff_invoice_rules.cpp
void check_refunds(ctx& c);                               // diff_refund_rules.cpp
void check_customer_tier(ctx& c, const std::vector<const subscription_state*>& states);  // diff_tier_rules.cpp
void check_users(ctx& c);                                 // diff_user_rules.cpp
void check_webhook_log(ctx& c);                           // diff_webhook_rules.cpp
void check_missed_events(ctx& c);                         // diff_webhook_rules.cpp
// `defer`: see diff_customer_rules.cpp.
void check_unknown_customers(ctx& c, bool defer);         // diff_customer_rules.cpp
finding unknown_customer_finding(const std::string& id, const std::string& email, unix_seconds at,
                                 const std::string& request_id);

}  // namespace reconciler::detail
