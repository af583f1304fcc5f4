#include "core/diff_detail.hpp"
#include "core/text.hpp"

#include "core/checked.hpp"

#include <set>
#include <unordered_map>

namespace reconciler::detail {

namespace json = boost::json;

// The app's balances and usage: balance_drift, negative_or_stuck_balance,
// credits_not_decrementing, missing_correlation_id.
void check_users(ctx& c) {
    std::unordered_map<std::int64_t, std::vector<const usage_row*>> usage_by_user;
    for (const auto& u : c.local.usage)
        if (c.in_window(u.created_at)) usage_by_user[u.user_id].push_back(&u);

    for (const auto& u : c.local.users) {
        std::int64_t sum = 0;
        bool sum_fits = true;  // a log that sums past int64 cannot match any balance
        std::vector<const credit_event*> consumes;
        for (const auto& e : u.credit_events) {
            sum_fits = checked::add_into(sum, e.delta) && sum_fits;
            const auto at = app_time(e.at);
            const bool in_window = at && c.in_window(*at);
            if (in_window && e.kind == "consume") consumes.push_back(&e);
            if (in_window && e.correlation_id.empty()) {
                auto& f = c.add(finding_kind::missing_correlation_id, team::devops, "credit_event", e.id, *at);
                ctx::set_user(f, u);
                f.evidence = json::object{{"credit_event", e.id}, {"kind", e.kind}, {"delta", e.delta},
                                          {"source", e.source}, {"at", e.at}};
                f.summary = "credit event " + e.id + " of " + u.email + " has no correlation id";
            }
        }
        if (!sum_fits || sum != u.ai_credits) {
            auto& f = c.add(finding_kind::balance_drift, team::data_platform, "user", u.email, 0);
            ctx::set_user(f, u);
            f.evidence = json::object{{"ai_credits", u.ai_credits},
                                      {"sum_of_credit_events", sum_fits ? json::value(sum) : json::value(nullptr)},
                                      {"credit_events", static_cast<std::int64_t>(u.credit_events.size())}};
            f.summary = u.email + " has ai_credits " + std::to_string(u.ai_credits) + " but its credit events sum to " +
                        (sum_fits ? std::to_string(sum) : std::string("more than 64 bits hold"));
        }

        const auto usage_it = usage_by_user.find(u.id);
        const auto* usage = usage_it == usage_by_user.end() ? nullptr : &usage_it->second;
        std::int64_t used = 0;
        if (usage)
            for (const auto* r : *usage)
                if (!checked::add_into(used, r->credits)) used = INT64_MAX;
        if (u.ai_credits < 0 || (usage && consumes.empty())) {
            auto& f = c.add(finding_kind::negative_or_stuck_balance, team::data_platform, "user", u.email, 0);
            ctx::set_user(f, u);
            f.evidence = json::object{{"ai_credits", u.ai_credits},
                                      {"usage_rows_in_window", usage ? static_cast<std::int64_t>(usage->size()) : 0},
                                      {"usage_credits_in_window", used},
                                      {"consume_events_in_window", static_cast<std::int64_t>(consumes.size())}};
            f.summary = u.ai_credits < 0 ? u.email + " has a negative balance (" + std::to_string(u.ai_credits) + ")"
                                         : u.email + " used " + std::to_string(used) +
                                               " credits in the window but the balance never moved";
            continue;  // precedence: not also credits_not_decrementing
        }
        if (!usage) continue;
        std::set<std::string> request_ids, consume_sources;
        for (const auto* r : *usage) request_ids.insert(r->request_id);
        for (const auto* e : consumes) consume_sources.insert(e->source);
        json::array unmatched_usage, unmatched_consumes;
        for (const auto& id : request_ids)
            if (!consume_sources.count(id)) unmatched_usage.push_back(json::string(id));
        for (const auto& src : consume_sources)
            if (!request_ids.count(src)) unmatched_consumes.push_back(json::string(src));
        if (unmatched_usage.empty() && unmatched_consumes.empty()) continue;
        auto& f = c.add(finding_kind::credits_not_decrementing, team::data_platform, "user", u.email, 0);
        ctx::set_user(f, u);
        f.summary = u.email + ": " + count_of(static_cast<long long>(unmatched_usage.size()), "usage row") +
                    " without a consume event, " +
                    count_of(static_cast<long long>(unmatched_consumes.size()), "consume event") + " without usage";
        f.evidence = json::object{{"usage_without_consume", std::move(unmatched_usage)},
                                  {"consume_without_usage", std::move(unmatched_consumes)},
                                  {"ai_credits", u.ai_credits}};
    }
}

}  // namespace reconciler::detail
