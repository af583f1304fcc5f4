#include "core/diff_detail.hpp"

namespace reconciler::detail {

namespace json = boost::json;

// The app's webhook log: forged deliveries, deliveries that failed twice.
void check_webhook_log(ctx& c) {
    json::array forged;
    unix_seconds first_failure = 0;
    for (const auto& w : c.local.webhooks) {
        if (!c.in_window(w.received_at)) continue;
        if (w.status == "signature_failed") {
            forged.push_back(json::string(w.event_id));
            if (!first_failure || w.received_at < first_failure) first_failure = w.received_at;
        }
        if (w.status == "failed" && w.attempts >= 2) {
            auto& f = c.add(finding_kind::webhook_failed_twice, team::billing_engineering, "event", w.event_id,
                            w.received_at);
            f.evidence = json::object{{"event", w.event_id}, {"type", w.type}, {"attempts", w.attempts},
                                      {"last_error", w.last_error}};
            f.summary = "webhook " + w.type + " " + w.event_id + " failed " + std::to_string(w.attempts) +
                        " times in the app (" + w.last_error + ")";
        }
    }
    if (static_cast<std::int64_t>(forged.size()) >= c.policy.signature_failure_threshold) {
        auto& f = c.add(finding_kind::webhook_signature_failures, team::stripe_support, "webhook_endpoint",
                        "webhook_endpoint", first_failure);
        f.summary = std::to_string(forged.size()) + " webhook deliveries failed signature verification in the window";
        f.evidence = json::object{{"count", static_cast<std::int64_t>(forged.size())},
                                  {"threshold", c.policy.signature_failure_threshold},
                                  {"event_ids", std::move(forged)}};
    }

}

// Stripe events of the input that the app never received.
void check_missed_events(ctx& c) {
    // Which finding repairs a missed event's effect, to name it.
    for (const auto& f : c.out)
        if (f.correction && (f.kind == finding_kind::credits_not_granted || f.kind == finding_kind::tier_mismatch))
            c.mem.repaired_by[f.subject_id] = f.kind;
    const auto repair_of = [&](const std::string& object_id) -> std::optional<std::string> {
        for (const auto* generation : {&c.mem.repaired_by, &c.mem.repaired_before})
            if (auto it = generation->find(object_id); it != generation->end())
                return std::string(to_string(it->second)) + " " + object_id;
        return std::nullopt;
    };
    for (const auto& e : c.in.events) {
        if (!app_handles_event_type(e.type) || !c.in_window(e.created)) continue;
        if (e.created >= c.window_end() - c.policy.webhook_grace) continue;  // may still be on its way
        if (c.idx.delivery_by_event.count(e.id)) continue;
        auto& f = c.add(finding_kind::missed_webhook, team::billing_engineering, "event", e.id, e.created);
        const auto rep = repair_of(e.object_id);
        f.evidence = json::object{{"event", e.id},
                                  {"type", e.type},
                                  {"object", e.object_id},
                                  {"created", e.created},
                                  {"repaired_by", rep ? json::value(*rep) : json::value(nullptr)},
                                  {"stripe_request_id", c.request_id_of(e.id)}};
        f.summary = "the app never received " + e.type + " " + e.id + " for " + e.object_id +
                    (rep ? "; its effect is repaired by " + *rep : "");
    }
}

}  // namespace reconciler::detail
