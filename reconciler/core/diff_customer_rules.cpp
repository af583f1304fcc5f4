#include "core/diff_detail.hpp"

namespace reconciler {

namespace json = boost::json;

namespace detail {

finding unknown_customer_finding(const std::string& id, const std::string& email, unix_seconds at,
                                 const std::string& request_id) {
    finding f;
    f.kind = finding_kind::unknown_customer;
    f.owner = team::backend_engineering;
    f.subject_type = "customer";
    f.subject_id = id;
    f.at = at;
    f.customer_id = id;
    f.evidence = json::object{{"customer", id}, {"email", email}, {"stripe_request_id", request_id}};
    f.summary = "Stripe customer " + id + (email.empty() ? "" : " (" + email + ")") +
                " has no user in the app (matched by customer id and by email)";
    return f;
}

// `defer`: a subscription's customer carries no email; unmatched by id, it
// waits for a later slice's invoice or customer object to match by email.
void check_unknown_customers(ctx& c, bool defer) {
    // What showed each customer: its email, time and the Request-Id of the
    // response (the customer object's, else the invoice's or subscription's
    // that named it: the finding's evidence either way).
    struct sighting {
        std::string email;
        unix_seconds at = 0;
        std::string request_id;
    };
    std::map<std::string, sighting> seen;
    for (const auto& cu : c.in.customers)
        if (!cu.deleted) seen.emplace(cu.id, sighting{cu.email, cu.created, c.request_id_of(cu.id)});
    for (const auto& inv : c.in.invoices) {
        auto [it, inserted] = seen.emplace(inv.customer, sighting{inv.customer_email, inv.created, c.request_id_of(inv.id)});
        if (!inserted && it->second.email.empty()) it->second.email = inv.customer_email;
    }
    for (const auto& st : c.in.subscriptions) seen.emplace(st.sub.customer, sighting{{}, st.as_of, st.request_id});
    for (const auto& [id, info] : seen) {
        if (c.idx.by_customer.count(id)) {
            // Matched by customer id: every later part that mentions the
            // customer loads its user by that id and matches again, so it
            // need not be remembered (memory stays with the unknown and the
            // email-matched customers, not every customer of the window).
            c.mem.pending_customers.erase(id);
            continue;
        }
        if (c.mem.customers_checked.count(id)) continue;
        if (!c.idx.user_for(id, info.email)) {
            if (defer && info.email.empty()) {
                c.mem.pending_customers.try_emplace(id, info.at, info.request_id);
                continue;
            }
            c.out.push_back(unknown_customer_finding(id, info.email, info.at, info.request_id));
        }
        c.mem.customers_checked.insert(id);
        c.mem.pending_customers.erase(id);
    }
}

}  // namespace detail

std::vector<finding> pending_customers(diff_memory& memory) {
    std::vector<finding> out;
    for (const auto& [id, info] : memory.pending_customers) {
        out.push_back(detail::unknown_customer_finding(id, "", info.first, info.second));
        memory.customers_checked.insert(id);
    }
    memory.pending_customers.clear();
    return out;
}

}  // namespace reconciler
