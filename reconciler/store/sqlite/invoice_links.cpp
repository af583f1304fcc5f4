#include "store/sqlite/invoice_links.hpp"

#include "store/sqlite/sql.hpp"

#include <SQLiteCpp/Transaction.h>

namespace reconciler::store::sqlite {

void sqlite_invoice_links::record_invoice_links(const std::vector<invoice_link>& links) {
    if (links.empty()) return;
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    auto q = c_.cached("INSERT INTO recon_invoice_links(payment_intent, invoice, amount_paid, currency)"
                       " VALUES (?,?,?,?) ON CONFLICT DO NOTHING");
    for (const auto& l : links) {
        q->reset();
        q->bind(1, l.payment_intent);
        q->bind(2, l.invoice);
        q->bind(3, l.amount_paid);
        q->bind(4, l.currency);
        q->exec();
    }
    tx.commit();
}

std::vector<invoice_link> sqlite_invoice_links::invoice_links_of(const std::vector<std::string>& payment_intents) {
    std::vector<invoice_link> out;
    for_chunks(payment_intents, [&](std::span<const std::string> chunk) {
        SQLite::Statement q(c_.db(), "SELECT payment_intent, invoice, amount_paid, currency FROM recon_invoice_links"
                                         " WHERE payment_intent IN (" +
                                         placeholders(chunk.size()) + ")");
        bind_keys(q, chunk);
        while (q.executeStep())
            out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64(),
                           q.getColumn(3).getString()});
    });
    return out;
}

}  // namespace reconciler::store::sqlite
