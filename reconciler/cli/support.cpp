#include "cli/support.hpp"

#include "core/entitlement_change.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <sstream>

namespace reconciler {

namespace json = boost::json;

namespace detail {

std::unique_ptr<store::store> open_checked(const config& cfg) {
    auto db = open_store(cfg);
    db->check_schema();
    return db;
}

local_user find_user(store::store& db, const std::string& email) {
    auto u = db.find_user_by_email(email);
    if (!u) throw support_refusal("no user with email " + email + " (check the address the customer gave)");
    return *u;
}

}  // namespace detail

json::object inspect_user(const config& cfg, const std::string& email) {
    auto db = detail::open_checked(cfg);
    const local_user u = detail::find_user(*db, email);
    json::array events;
    const std::size_t from = u.credit_events.size() > 5 ? u.credit_events.size() - 5 : 0;
    for (std::size_t i = from; i < u.credit_events.size(); ++i) {
        const auto& e = u.credit_events[i];
        events.push_back(json::object{{"id", e.id}, {"delta", e.delta}, {"kind", e.kind}, {"reason", e.reason},
                                      {"source", e.source}, {"correlation_id", e.correlation_id}, {"at", e.at}});
    }
    json::array escalations;
    for (const auto& e : db->escalations_for(u)) {
        json::array history;  // who changed it, when, and why
        for (const auto& c : db->escalation_history(e.id))
            history.push_back(json::object{{"at", c.at}, {"actor", c.actor}, {"action", c.action}, {"note", c.note}});
        escalations.push_back(json::object{{"id", e.id}, {"team", e.team}, {"kind", e.kind}, {"subject", e.subject},
                                           {"first_seen", e.first_seen}, {"occurrences", e.occurrences},
                                           {"status", e.status}, {"history", std::move(history)}});
    }
    return json::object{{"email", u.email},
                        {"user_id", u.id},
                        {"tier", u.plan},
                        {"stripe_customer", u.stripe_customer_id.empty() ? json::value(nullptr)
                                                                         : json::value(u.stripe_customer_id)},
                        {"ai_credits", u.ai_credits},
                        {"credit_events", std::move(events)},
                        {"open_escalations", std::move(escalations)}};
}

std::string format_inspect(const json::object& a) {
    auto str = [](const json::value& v) -> std::string {
        if (v.is_string()) return std::string(v.get_string());
        if (v.is_null()) return "-";
        return json::serialize(v);
    };
    std::ostringstream s;
    s << "user             " << str(a.at("email")) << " (id " << str(a.at("user_id")) << ")\n"
      << "tier             " << str(a.at("tier")) << "\n"
      << "stripe customer  " << str(a.at("stripe_customer")) << "\n"
      << "ai_credits       " << str(a.at("ai_credits")) << "\n"
      << "last credit events:\n";
    const auto& events = a.at("credit_events").as_array();
    if (events.empty()) s << "  (none)\n";
    for (const auto& ev : events) {
        const auto& e = ev.as_object();
        s << "  " << str(e.at("at")) << "  " << str(e.at("kind")) << " " << str(e.at("delta")) << "  source "
          << str(e.at("source")) << "  correlation " << (str(e.at("correlation_id")).empty() ? "(missing)" : str(e.at("correlation_id")))
          << "\n";
    }
    s << "open escalations:\n";
    const auto& escs = a.at("open_escalations").as_array();
    if (escs.empty()) s << "  (none)\n";
    for (const auto& ev : escs) {
        const auto& e = ev.as_object();
        s << "  #" << str(e.at("id")) << " " << str(e.at("kind")) << " -> " << str(e.at("team")) << " (" << str(e.at("subject"))
          << ", seen " << str(e.at("occurrences")) << "x since " << str(e.at("first_seen")) << ")\n";
        if (const auto* h = e.if_contains("history"))
            for (const auto& cv : h->as_array())
                s << "      " << str(cv.at("at")) << " " << str(cv.at("action")) << " by " << str(cv.at("actor"))
                  << (str(cv.at("note")).empty() ? "" : ": " + str(cv.at("note"))) << "\n";
    }
    return s.str();
}

json::object adjust_user(const config& cfg, const adjust_request& req) {
    const int actions = req.grant_credits.has_value() + req.consume_credits.has_value() + req.set_tier.has_value();
    if (actions != 1)
        throw support_refusal("give exactly one of --grant-credits N, --consume-credits N, --set-tier TIER");
    for (const auto* n : {&req.grant_credits, &req.consume_credits})
        if (n->has_value() && **n <= 0) throw support_refusal("credits must be a positive whole number, got " + std::to_string(**n));
    if (req.set_tier && std::find(cfg.tiers.begin(), cfg.tiers.end(), *req.set_tier) == cfg.tiers.end()) {
        std::string known;
        for (const auto& t : cfg.tiers) known += (known.empty() ? "" : ", ") + t;
        throw support_refusal("unknown tier " + *req.set_tier + " (tiers: " + known + ")");
    }
    auto db = detail::open_checked(cfg);
    const local_user u = detail::find_user(*db, req.email);
    store::adjustment a;
    a.user_id = u.id;
    a.grant = req.grant_credits.value_or(0);
    a.consume = req.consume_credits.value_or(0);
    a.set_tier = req.set_tier.value_or("");
    a.reason = req.reason;
    a.force = req.force;
    store::adjust_result r;
    try {
        r = db->adjust(a, store::random_correlation_id());
    } catch (const store::adjust_refused& e) {
        throw support_refusal(e.what());
    }
    json::object change;
    if (a.set_tier.empty())
        change["ai_credits"] = json::object{{"delta", r.balance_after - r.balance_before}, {"after", r.balance_after}};
    else
        change["plan"] = json::object{{"from", r.tier_before}, {"to", r.tier_after}};
    if (!r.credit_event_id.empty()) change["credit_event_id"] = r.credit_event_id;
    entitlement_change line;
    line.action = a.set_tier.empty() ? (a.grant ? "credits_granted" : "credits_consumed") : "tier_set";
    line.correlation_id = r.correlation_id;
    line.user_id = u.id;
    line.email = u.email;
    line.change = std::move(change);
    line.reason = req.reason;
    line.actor = "support";
    return log_entitlement_change(line);
}

}  // namespace reconciler
