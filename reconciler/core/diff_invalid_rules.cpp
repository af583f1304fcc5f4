// invalid_stripe_object: a Stripe object the run cannot trust, flagged for
// backend engineering and never applied, while the rest of the run goes on
// (docs/findings.md). Two sources: objects that broke the schema when they
// were parsed (the fetch hands them over in window_input::invalid_objects),
// and paid invoices whose numbers are out of range (check_invoice).
#include "core/diff_detail.hpp"

#include <set>
#include <tuple>

namespace reconciler::detail {

namespace json = boost::json;

void flag_invalid(ctx& c, const invalid_object& o) {
    const std::string type = o.object_type.empty() ? "stripe_object" : o.object_type;
    // Unreadable id: named by its content, so that the next run that fetches
    // it again raises the same escalation rather than a new one (the
    // response's Request-Id is new each time); the evidence keeps the Request-Id.
    const std::string id = o.object_id.empty() ? "unreadable:" + o.fingerprint : o.object_id;
    auto& f = c.add(finding_kind::invalid_stripe_object, team::backend_engineering, type, id, o.created);
    f.customer_id = o.customer;
    if (const local_user* user = o.customer.empty() ? nullptr : c.idx.user_for(o.customer, {})) ctx::set_user(f, *user);
    f.evidence = json::object{{"object_type", o.object_type},
                              {"object_id", o.object_id},
                              {"event", o.event_id},
                              {"customer", o.customer},
                              {"list", o.resource},
                              {"field", o.field},
                              {"problem", o.problem},
                              {"paid_invoice", o.paid},
                              {"stripe_request_id", o.request_id}};
    f.summary = "Stripe sent " + type + " " + (o.object_id.empty() ? "(no readable id)" : o.object_id) +
                (o.paid ? ", a paid invoice," : "") + " that cannot be trusted (" +
                (o.field.empty() ? "" : "field " + o.field + ": ") + o.problem +
                "): not diffed, nothing applied for it" + (o.request_id.empty() ? "" : "; Request-Id " + o.request_id);
}

void check_invalid_objects(ctx& c) {
    // The same object broken the same way in an event and in a list is one finding.
    std::set<std::tuple<std::string_view, std::string_view, std::string_view>> seen;
    for (const auto& o : c.in.invalid_objects)
        if (o.object_id.empty() || seen.emplace(o.object_type, o.object_id, o.field).second) flag_invalid(c, o);
}

// A paid invoice whose numbers are out of range: what it is flagged as.
invalid_object out_of_range(const ctx& c, const invoice& inv, std::string field, std::string problem) {
    invalid_object o;
    o.object_type = "invoice";
    o.object_id = inv.id;
    o.customer = inv.customer;
    o.request_id = c.request_id_of(inv.id);
    o.field = std::move(field);
    o.problem = "out of range: " + std::move(problem);
    o.paid = inv.paid;
    o.created = inv.paid_at.value_or(inv.created);
    return o;
}

}  // namespace reconciler::detail
