// The simulator's dataset generator: a realistic Stripe account of N customers
// plus the app database that a webhook-driven app would hold for it, with
// discrepancies of every kind in docs/findings.md seeded on purpose and
// recorded as the ground truth that the end-to-end tests (and the demo)
// compare the reconciler's findings with.
//
// Contract
//   * Deterministic: the same (seed, now, customers, window_hours,
//     portal_default_configuration) gives the same bytes in every output
//     file and the same database rows.
//   * out_dir receives customers.json, subscriptions.json, invoices.json,
//     charges.json, invoice_payments.json, events.json, prices.json,
//     billing_portal_configurations.json (JSON arrays of Stripe objects in
//     creation order, oldest first; same-second objects in the order they
//     happened, e.g. customer.subscription.created before .updated) and
//     ground_truth.json. Those list objects are rendered at the
//     newest API shape ("2025-03-31.basil"); subscriptions, invoices and
//     charges are also written at "2024-06-20" as
//     <resource>@2024-06-20.json: the same objects in the same order (the
//     list engine's rendition files, dataset.hpp). An event's data.object is
//     rendered at the event's own api_version, about half "2024-06-20", half
//     basil, whatever it carries (invoice, subscription, charge). Events
//     older than 30 days before `now` are left out (Stripe keeps 30 days);
//     their objects stay in the lists.
//   * prices.json holds every price the data uses: the mapped ones (ground
//     truth "prices"), price_pro_yearly and price_team_yearly (active,
//     recurring yearly, products of pro and team, not mapped) and
//     price_pro_monthly_2023 (archived: active false, not mapped, used by no
//     subscription or invoice). The app knows every price (the yearly ones:
//     tier pro/team, 12000 / 60000 credits per unit): users on a yearly
//     price hold the plan and grants a webhook-driven app gives them.
//   * billing_portal_configurations.json: an inactive, non-default older
//     configuration (offers price_pro_monthly_2023, price_team_monthly) and
//     the active one, is_default unless portal_default_configuration is
//     false, whose subscription_update (enabled) offers price_pro_monthly,
//     price_pro_monthly_2023 (pro product) and price_team_monthly (team).
//     About one customer in 20 (index % 20 == 3) opens a portal session in
//     the window (billing_portal.session.created, for the active
//     configuration; delivered and recorded like every event, no effect).
//   * Every paid invoice has one charge (ch_..., with customer, amount,
//     amount_refunded, refunded, disputed and payment_intent pi_... at every
//     version, and invoice only at 2024-06-20) and one InvoicePayment
//     (inpay_..., status paid, payment {type payment_intent, payment_intent:
//     the charge's}, in invoice_payments.json: basil's only link between an
//     invoice and its payment). At 2024-06-20 an invoice also names its
//     charge and payment_intent (and carries paid, paid_out_of_band); basil
//     has none of these. Disputes carry their charge's payment_intent. A few
//     seeded charges are one-off payments outside invoicing: a PaymentIntent
//     and charge with no invoice (null at 2024-06-20) and no InvoicePayment.
//   * app_db is created (schema from reconciler::store::app_schema_sql(), WAL)
//     and must not exist beforehand: an existing path is refused with
//     std::runtime_error, and a half-written database is removed on failure.
//     Invalid options throw std::invalid_argument: customers < 30 (every
//     customer scenario's minimum needs its own customer), window_hours
//     outside 1..672 (seeded subscriptions start before the window, within
//     the 30 days of events), empty paths.
//   * Discrepancies are seeded only inside [now - window_hours*3600, now),
//     at least 5 minutes (a tenth of the window if less) from both edges;
//     everything else is consistent: every paid invoice of a known customer
//     has a grant (source = invoice id) and a payments row with its amount
//     and currency (currency sometimes upper-case: "USD"), every user's plan
//     is its subscription's current tier, every ai_credits equals the sum of
//     its credit_events deltas, every ai_usage row has one consume credit
//     event (source = request_id, same time) and vice versa, every credit
//     event has a correlation_id, every delivered event (whatever its type)
//     has one webhook_events row, processed at the first attempt.
//
// ground_truth.json: seed, now, customers, window {start,end}, events_since,
// api_versions, prices (the reconciler's price map: mapped prices only),
// portal_sessions (billing_portal.session.created events in the window),
// policy {webhook_grace_seconds, signature_failure_
// threshold, refund_or_dispute, past_due_tier} and findings, sorted by
// (kind, subject_id), each {kind, subject_type, subject_id, team,
// correction, user_email (a user is involved), customer (known), scenario,
// evidence per kind}. correction: null, {kind:"grant_credits", credits,
// record_payment}, {kind:"set_tier", to} or {kind:"revoke_credits", credits,
// unrecovered}. subject_id: invoice in_, subscription sub_, charge ch_,
// customer cus_, event evt_, user: email, credit event ce_,
// webhook_endpoint: "webhook_endpoint", price: price id, billing_portal:
// "no_default_configuration" or "<bpc id>#archived_prices" /
// "<bpc id>#unmapped_prices". The two new kinds carry their evidence in an
// "evidence" object (the older kinds' sits at the top level): unknown_price
// {price, nickname, product, customers, invoices, subscriptions} (counts:
// distinct customers with such an invoice line or subscription item in the
// window, paid invoices in the window with such a line, subscriptions whose
// newest state in the window is active/trialing/past_due on it);
// billing_portal_misconfigured #archived_prices / #unmapped_prices
// {configuration, prices (sorted ids)}; no_default_configuration has none.
// Evidence of refund_or_dispute:
// invoice, payment_intent, event, event_type, granted, amount,
// amount_refunded or amount_disputed, credits_due (floor(granted x taken /
// amount)), ai_credits, and unrecovered (= credits_due) when nothing can be
// revoked (ai_credits <= 0: correction null, flagged); of
// charge_without_invoice: charge, payment_intent, reason ("refund" |
// "dispute"), amount, amount_refunded or amount_disputed, event, event_type.
//
// Seeded kinds (at least two of each, webhook_signature_failures once; ~1%
// of customers per customer scenario), as the reconciler's rules see them:
//   credits_not_granted   a paid invoice in the window with credits > 0 and no
//                         grant: payments row present (grant lost), or
//                         missing too (webhooks dropped: no webhook_events
//                         rows for the invoice's events).
//   paid_without_entitlement_change  each credits_not_granted invoice whose
//                         webhooks were dropped.
//   missed_webhook        each dropped invoice.paid / customer.subscription.*
//                         event, when older than the 1 h grace at the window's
//                         end: seeded more than 1 h 10 min before it when the
//                         window is 2 h or longer, and 10-50 min before it
//                         otherwise (no missed_webhook in a 1 h window).
//   tier_mismatch         missed upgrade pro->team, missed cancellation
//                         (-> free), a late-arriving older event applied last.
//   amount_mismatch, currency_mismatch  a granted paid invoice in the window
//                         whose payments row has another amount / currency.
//   orphan_local_payment  a payments row paid in the window for an invoice
//                         Stripe does not have, or shows as void (row amount
//                         0 = the void invoice's amount_paid, so no
//                         amount_mismatch under any reading).
//   refund_or_dispute     charge.refunded or charge.dispute.created in the
//                         window for a pack granted before it: full refunds
//                         (credits unused; mostly spent: part revoked, part
//                         unrecovered; all spent, balance exactly 0: flagged,
//                         no correction), partial refunds (two fifths, a
//                         third: credits due round down) with credits unused,
//                         disputes created within minutes of each other
//                         (different customers, so a slice lists several) and
//                         one far from any other; every kind of refund and
//                         dispute with events in both API shapes. Noise: a
//                         refund already revoked (revoke event, source =
//                         charge id).
//   charge_without_invoice  a one-off payment of a known user (no invoice, no
//                         InvoicePayment) refunded (basil event) or disputed
//                         (legacy event, among the clustered disputes) in the
//                         window; flagged, no correction.
//   unknown_customer      a customer with no user by id or email, created in
//                         the window, or created before it with a paid invoice
//                         in it; noise: a customer matched by email only.
//   webhook_failed_twice  a failed row (2-4 attempts) in the window for an
//                         invoice.paid / subscription.updated event whose
//                         effect an engineer replayed (nothing else is wrong).
//   credits_not_decrementing, negative_or_stuck_balance, balance_drift,
//   missing_correlation_id  app users without Stripe customer (signup bonus
//                         credits, usage); one user per instance. The
//                         negative-balance user also has a usage row without
//                         consume (precedence: no credits_not_decrementing).
//   webhook_signature_failures  3-5 signature_failed rows in the window with
//                         forged event ids, plus one before it.
//   unknown_price         one per unmapped price in use (team
//                         billing_engineering, correction null): price_pro_
//                         yearly (two or more customers: a same-second
//                         signup, the open/void-pack noise users, each with a
//                         paid invoice in the window and an active
//                         subscription) and price_team_yearly (one
//                         subscription, of the refund-already-revoked noise
//                         customer: started before the window, a seat
//                         change in it, no invoice in it). Noise customers
//                         host them, so 30 customers still suffice. No other finding
//                         arises for them: no grant is expected for an
//                         unknown price, and a subscription on one gives no
//                         tier opinion.
//   billing_portal_misconfigured  the default configuration's archived
//                         price_pro_monthly_2023: "<bpc>#archived_prices"
//                         (stripe_support) and "<bpc>#unmapped_prices"
//                         (billing_engineering); the inactive older
//                         configuration is never reported. With
//                         portal_default_configuration false only
//                         "no_default_configuration" (stripe_support).
// Noise that must yield no finding is also seeded: subscriptions changing
// several times in the window (newest state matches), same-second signups
// (customer, subscription incomplete->active, or active at once on
// price_pro_yearly so that no state ties, and invoice in one second),
// open/void/draft invoices and past_due subscriptions (past_due keeps the
// price's tier).
//
// Assumptions the reconciler's diff must share: prices map as in
// ground_truth.json "prices" (credits per unit x quantity; unknown prices
// grant 0 and an invoice with one expects no grant); target tier:
// active/trialing/past_due -> price tier (an unknown price: no opinion),
// canceled/unpaid/incomplete_expired -> "free", incomplete/paused -> no
// opinion; customers map to users by users.stripe_customer_id (by email only
// for unknown_customer); events of one subscription created in the same
// second always agree on the target tier (or have no opinion), so
// tie-breaking cannot change a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace reconciler::sim {

struct generator_options {
    std::filesystem::path out_dir;   // writes the files listed above
    std::filesystem::path app_db;    // SQLite app database to create (must not exist)
    int customers = 200;
    std::uint64_t seed = 42;
    std::int64_t now = 0;            // unix seconds; 0 = current time
    std::int64_t window_hours = 24;  // seeded discrepancies fall in [now - window_hours*3600, now)
    // false: the account has no active default Billing Portal configuration
    // (the active one is not the default): ground truth's only portal
    // finding is no_default_configuration.
    bool portal_default_configuration = true;
};

struct generation_summary {
    std::size_t customers, subscriptions, invoices, events, seeded_findings;
    std::int64_t window_start, window_end;
    std::size_t charges;
    std::size_t invoice_payments;
};

generation_summary generate_dataset(const generator_options& opts);

}  // namespace reconciler::sim
