-- Which invoice each PaymentIntent paid, from the InvoicePayments an invoice
-- page brought at basil (issue 25): a refunded or disputed charge is tied to
-- its invoice here instead of by a request per charge. Only paid
-- InvoicePayments, which never change: rows are kept across runs.
-- amount_paid and currency: a link is trusted only when it is the whole
-- charge (a PaymentIntent may pay several invoices, some never listed).
CREATE TABLE recon_invoice_links (
  payment_intent TEXT NOT NULL,
  invoice        TEXT NOT NULL,
  amount_paid    INTEGER NOT NULL,
  currency       TEXT NOT NULL,
  PRIMARY KEY (payment_intent, invoice)
) WITHOUT ROWID;
