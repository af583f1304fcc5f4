#include "store/sqlite/fetch_lookup.hpp"

#include "store/sqlite/sql.hpp"
#include "store/sqlite/subscription_scratch.hpp"

namespace reconciler::store::sqlite {

std::unique_ptr<subscription_state_table> sqlite_fetch_lookup::subscription_scratch() {
    return std::make_unique<sqlite::subscription_scratch>(c_.db(), c_.path() + ".reconciler-scratch");
}

std::vector<std::string> sqlite_fetch_lookup::payments_paid_between(unix_seconds start, unix_seconds end) {
    SQLite::Statement q(c_.db(), c_.sql("SELECT @payments.stripe_invoice_id@ FROM @payments@"
                                        " WHERE @payments.paid_at@ >= ? AND @payments.paid_at@ < ?"));
    q.bind(1, format_rfc3339(start));
    q.bind(2, format_rfc3339(end));
    std::vector<std::string> ids;
    while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
    return ids;
}

std::vector<std::string> sqlite_fetch_lookup::delivered_event_ids(const std::vector<std::string>& event_ids) {
    std::vector<std::string> out;
    for_chunks(event_ids, [&](std::span<const std::string> chunk) {
        SQLite::Statement q(c_.db(), c_.sql("SELECT DISTINCT @webhook_events.stripe_event_id@ FROM @webhook_events@"
                                            " WHERE @webhook_events.stripe_event_id@ IN (") +
                                         placeholders(chunk.size()) + ")");
        bind_keys(q, chunk);
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    });
    return out;
}

}  // namespace reconciler::store::sqlite
