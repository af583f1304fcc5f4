#include "store/postgres/fetch_lookup.hpp"

#include "store/postgres/subscription_scratch.hpp"

namespace reconciler::store::postgres {

std::unique_ptr<subscription_state_table> postgres_fetch_lookup::subscription_scratch() {
    return std::make_unique<postgres::subscription_scratch>(s_);
}

std::vector<std::string> postgres_fetch_lookup::payments_paid_between(unix_seconds start, unix_seconds end) {
    const auto r = s_.run("SELECT @payments.stripe_invoice_id@ FROM @payments@"
                          " WHERE @payments.paid_at@ >= $1 AND @payments.paid_at@ < $2",
                          params().add(format_rfc3339(start)).add(format_rfc3339(end)));
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) ids.emplace_back(r.text(i, 0));
    return ids;
}

std::vector<std::string> postgres_fetch_lookup::delivered_event_ids(const std::vector<std::string>& event_ids) {
    if (event_ids.empty()) return {};
    const auto r = s_.run("SELECT DISTINCT @webhook_events.stripe_event_id@ FROM @webhook_events@"
                          " WHERE @webhook_events.stripe_event_id@ = ANY($1::text[])",
                          params().add(text_array(event_ids)));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
}

}  // namespace reconciler::store::postgres
