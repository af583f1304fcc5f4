// Port: which invoice each PaymentIntent paid (recon_invoice_links), as the
// invoice pages showed it at basil (Invoice.payments, expanded). Basil's
// charge names no invoice; this is how a refunded or disputed charge finds
// its invoice without a request of its own. A paid InvoicePayment never
// changes, so a link stays true: the table is kept across runs (a refund
// tonight of a charge paid last week needs the link last week's run saw).
// But a PaymentIntent may pay several invoices, not all of them listed: a
// link is the whole answer only when its amount_paid is the whole charge.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reconciler::store {

struct invoice_link {
    std::string payment_intent;
    std::string invoice;
    std::int64_t amount_paid = 0;  // the InvoicePayment's: what of the payment went to this invoice
    std::string currency;

    bool operator==(const invoice_link&) const = default;
};

class invoice_links {
public:
    virtual ~invoice_links() = default;

    // Adds `links` (paid InvoicePayments only), in one transaction; a link
    // already known is kept as it is.
    virtual void record_invoice_links(const std::vector<invoice_link>& links) = 0;
    // Every known link of these PaymentIntents (one or more a PaymentIntent:
    // one that paid several invoices has a row for each), in no order.
    virtual std::vector<invoice_link> invoice_links_of(const std::vector<std::string>& payment_intents) = 0;
};

}  // namespace reconciler::store
