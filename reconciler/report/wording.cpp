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

}  // namespace reconciler::detail
