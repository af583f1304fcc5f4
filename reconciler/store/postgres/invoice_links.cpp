#include "store/postgres/invoice_links.hpp"

namespace reconciler::store::postgres {

// All of them in one statement, as arrays.
void postgres_invoice_links::record_invoice_links(const std::vector<invoice_link>& links) {
    if (links.empty()) return;
    std::vector<std::string> pis, invoices, amounts, currencies;
    for (const auto& l : links) {
        pis.push_back(l.payment_intent), invoices.push_back(l.invoice);
        amounts.push_back(std::to_string(l.amount_paid)), currencies.push_back(l.currency);
    }
    s_.run("INSERT INTO @schema@.recon_invoice_links(payment_intent, invoice, amount_paid, currency)"
           " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING",
           params().add(text_array(pis)).add(text_array(invoices)).add(text_array(amounts)).add(text_array(currencies)));
}

std::vector<invoice_link> postgres_invoice_links::invoice_links_of(const std::vector<std::string>& payment_intents) {
    if (payment_intents.empty()) return {};
    const auto r = s_.run("SELECT payment_intent, invoice, amount_paid, currency FROM @schema@.recon_invoice_links"
                          " WHERE payment_intent = ANY($1::text[])",
                          params().add(text_array(payment_intents)));
    std::vector<invoice_link> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.int64(i, 2), std::string(r.text(i, 3))});
    return out;
}

}  // namespace reconciler::store::postgres
