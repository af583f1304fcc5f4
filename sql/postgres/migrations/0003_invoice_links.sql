-- Which invoice each PaymentIntent paid, as SQLite's 0007_invoice_links.sql:
-- paid InvoicePayments from the invoice pages at basil, kept across runs.
CREATE TABLE @schema@.recon_invoice_links (
  payment_intent text NOT NULL,
  invoice        text NOT NULL,
  amount_paid    bigint NOT NULL,
  currency       text NOT NULL,
  PRIMARY KEY (payment_intent, invoice)
);
