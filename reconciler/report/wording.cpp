#include "report/wording.hpp"

#include "report/json_read.hpp"

#include <cmath>

namespace reconciler::detail {

std::string describe_change(const correction_row& c, const change_format& fmt) {
    const std::string credits = c.credits.empty() ? "?" : c.credits;
    if (c.kind == "grant_credits") {
        std::string s = "granted " + fmt.num(credits) + " AI credits for invoice " + fmt.code(c.ledger_key);
        if (c.record_payment) s += " and recorded the missing payment";
        return s;
    }
    if (c.kind == "revoke_credits")
        return "revoked " + fmt.num(credits) + " AI credits for refunded/disputed charge " + fmt.code(c.ledger_key);
    if (c.kind == "set_tier") {
        // The ledger key is "<subscription>#<event>": the subscription is what a reader knows.
        const std::string_view key = c.ledger_key;
        const std::string_view sub = key.substr(0, key.find('#'));
        return "plan " + fmt.code(c.tier_from.empty() ? "?" : c.tier_from) + " → " +
               fmt.code(c.tier_to.empty() ? "?" : c.tier_to) + " (subscription " + fmt.code(sub) + ")";
    }
    return fmt.code(c.kind.empty() ? "correction" : c.kind) + " (ledger key " + fmt.code(c.ledger_key) + ")";
}

std::string format_age(std::optional<double> age_days) {
    if (!age_days) return {};
    const double d = std::floor(*age_days * 10) / 10;  // one decimal is plenty
    return format_double(d) + " d";
}

std::string describe_deliveries(const boost::json::object* run, const change_format& fmt) {
    const boost::json::object* d = object_at(run, "deliveries");
    if (d == nullptr) return {};
    const auto count = [&](const boost::json::object* o, std::string_view key) {
        return integral(field(o, key)).value_or(0);
    };
    std::string out = fmt.num(std::to_string(count(d, "sent"))) + " sent, " + fmt.num(std::to_string(count(d, "failed"))) +
                      " failed, " + fmt.num(std::to_string(count(d, "pending"))) + " pending";
    std::string routes;
    if (const boost::json::object* by = object_at(d, "by_route"))
        for (const auto& [route, v] : *by) {
            const boost::json::object* r = v.if_object();
            const auto failed = count(r, "failed"), pending = count(r, "pending");
            if (failed == 0 && pending == 0) continue;
            routes += std::string(routes.empty() ? "" : "; ") + fmt.code(route) + ": " +
                      (failed ? fmt.num(std::to_string(failed)) + " failed" : "") + (failed && pending ? ", " : "") +
                      (pending ? fmt.num(std::to_string(pending)) + " pending" : "");
        }
    return routes.empty() ? out : out + " (" + routes + ")";
}

}  // namespace reconciler::detail
