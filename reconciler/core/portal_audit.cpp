#include "core/portal_audit.hpp"

#include <algorithm>

namespace reconciler {

namespace json = boost::json;

namespace {

finding portal_finding(team owner, std::string subject_type, std::string subject_id, const portal_audit_input& in) {
    finding f;
    f.kind = finding_kind::billing_portal_misconfigured;
    f.owner = owner;
    f.subject_type = std::move(subject_type);
    f.subject_id = std::move(subject_id);
    f.at = in.at;
    return f;
}

json::array ids_json(const std::vector<std::string>& ids) {
    json::array a;
    for (const auto& id : ids) a.emplace_back(id);
    return a;
}

std::string joined(const std::vector<std::string>& ids) {
    std::string s;
    for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
    return s;
}

}  // namespace

std::vector<finding> audit_billing_portal(const portal_audit_input& in, const diff_policy& policy) {
    std::vector<finding> out;
    const auto def = std::find_if(in.configurations.begin(), in.configurations.end(),
                                  [](const auto& c) { return c.active && c.is_default; });
    if (def == in.configurations.end()) {
        std::vector<std::string> active;
        for (const auto& c : in.configurations) active.push_back(c.id);
        auto f = portal_finding(team::stripe_support, "billing_portal", "no_default_configuration", in);
        f.evidence = json::object{
            {"active_configurations", ids_json(active)},
            {"stripe_request_id", in.request_id},
            {"ask", "Billing Portal sessions created without a configuration fail: ask Stripe support for the "
                    "portal's error logs since the default configuration was removed"}};
        f.summary = "the Billing Portal has no active default configuration (" + std::to_string(active.size()) +
                    " active): customers opening it without one get an error; make one the default";
        out.push_back(std::move(f));
        return out;
    }
    if (!def->subscription_update_enabled) return out;

    std::vector<std::string> archived, unmapped;
    for (const auto& id : def->offered_prices) {
        if (in.archived_prices.count(id)) archived.push_back(id);
        if (price_unknown(policy, id)) unmapped.push_back(id);
    }
    for (auto* v : {&archived, &unmapped}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    if (!archived.empty()) {
        auto f = portal_finding(team::stripe_support, "billing_portal_configuration", def->id + "#archived_prices", in);
        f.evidence = json::object{
            {"configuration", def->id},
            {"prices", ids_json(archived)},
            {"stripe_request_id", in.request_id},
            {"ask", "the default portal configuration " + def->id + " offers archived prices (" + joined(archived) +
                        "): ask Stripe support for the Billing Portal logs of failed subscription updates"}};
        f.summary = "the default Billing Portal configuration " + def->id + " offers archived prices " +
                    joined(archived) + ": customers switching to them get an error";
        out.push_back(std::move(f));
    }
    if (!unmapped.empty()) {
        auto f = portal_finding(team::billing_engineering, "billing_portal_configuration", def->id + "#unmapped_prices",
                                in);
        f.evidence = json::object{{"configuration", def->id},
                                  {"prices", ids_json(unmapped)},
                                  {"stripe_request_id", in.request_id}};
        f.summary = "the default Billing Portal configuration " + def->id + " offers prices the price map does not " +
                    "know (" + joined(unmapped) + "): add them to prices: or mark them { ignore: true }";
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace reconciler
