// The simulator's dataset generator: a realistic Stripe account of N customers
// plus the app database that a webhook-driven app would hold for it, with
// discrepancies of every kind in docs/findings.md seeded on purpose and
// recorded as the ground truth that the end-to-end tests (and the demo)
// compare the reconciler's findings with.
//
// Contract
//   * Deterministic: the same (seed, now, customers, window_hours) gives the
//     same bytes in every output file and the same database rows.
//   * out_dir receives customers.json, subscriptions.json, invoices.json,
//     charges.json, events.json (JSON arrays of Stripe objects in creation
//     order, oldest first; same-second objects in the order they happened,
//     e.g. customer.subscription.created before .updated) and
//     ground_truth.json. List objects are rendered at the newest API shape
//     ("2025-03-31.basil"); an event's data.object is rendered at the event's
//     own api_version, about half "2024-06-20", half basil. Events older than
//     30 days before `now` are left out (Stripe keeps 30 days); their objects
//     stay in the lists. Every paid invoice has one charge (ch_..., with
//     invoice, customer, amount, amount_refunded, refunded, disputed).
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
// api_versions, prices, policy {webhook_grace_seconds, signature_failure_
// threshold, refund_or_dispute, past_due_tier} and findings, sorted by
// (kind, subject_id), each {kind, subject_type, subject_id, team,
// correction, user_email (a user is involved), customer (known), scenario,
// evidence per kind}. correction: null, {kind:"grant_credits", credits,
// record_payment}, {kind:"set_tier", to} or {kind:"revoke_credits", credits,
// unrecovered}. subject_id: invoice in_, subscription sub_, charge ch_,
// customer cus_, event evt_, user: email, credit event ce_,
// webhook_endpoint: "webhook_endpoint".
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
//   refund_or_dispute     charge.refunded (full; credits unused, or mostly
//                         spent) or charge.dispute.created in the window for a
//                         pack granted before it; noise: a refund already
//                         revoked (revoke event, source = charge id).
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
// Noise that must yield no finding is also seeded: subscriptions changing
// several times in the window (newest state matches), same-second signups
// (customer, subscription incomplete->active and invoice in one second),
// open/void/draft invoices and past_due subscriptions (past_due keeps the
// price's tier).
//
// Assumptions the reconciler's diff must share: prices map as in
// ground_truth.json "prices" (credits per unit x quantity; unknown prices
// grant 0); target tier: active/trialing/past_due -> price tier,
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
    std::filesystem::path out_dir;   // writes events.json, invoices.json, subscriptions.json, customers.json, charges.json, ground_truth.json
    std::filesystem::path app_db;    // SQLite app database to create (must not exist)
    int customers = 200;
    std::uint64_t seed = 42;
    std::int64_t now = 0;            // unix seconds; 0 = current time
    std::int64_t window_hours = 24;  // seeded discrepancies fall in [now - window_hours*3600, now)
};

struct generation_summary {
    std::size_t customers, subscriptions, invoices, events, seeded_findings;
    std::int64_t window_start, window_end;
    std::size_t charges;
};

generation_summary generate_dataset(const generator_options& opts);

}  // namespace reconciler::sim
