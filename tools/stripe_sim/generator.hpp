// The simulator's dataset generator: a realistic Stripe account of N customers
// plus the app database that a webhook-driven app would hold for it, with a
// few discrepancies seeded on purpose and recorded as the ground truth that
// the end-to-end tests (and the demo) compare the reconciler's findings with.
//
// Contract
//   * Deterministic: the same (seed, now, customers, window_hours) gives the
//     same bytes in every output file and the same database rows.
//   * out_dir receives customers.json, subscriptions.json, invoices.json,
//     events.json (JSON arrays of Stripe objects in creation order, oldest
//     first; same-second objects in the order they happened, e.g.
//     customer.subscription.created before .updated) and ground_truth.json. List objects are rendered at the newest API
//     shape ("2025-03-31.basil"); an event's data.object is rendered at the
//     event's own api_version, about half "2024-06-20", half basil. Events
//     older than 30 days before `now` are left out (Stripe keeps 30 days);
//     their invoices and subscriptions stay in the lists.
//   * app_db is created (schema from reconciler::store::app_schema_sql(), WAL)
//     and must not exist beforehand: an existing path is refused with
//     std::runtime_error, and a half-written database is removed on failure.
//     Invalid options throw std::invalid_argument: customers < 16 (two of
//     each of the 8 scripted scenarios below need their own customer),
//     window_hours outside 1..672 (seeded subscriptions start before the
//     window, within the 30 days of events), empty paths.
//   * Discrepancies are seeded only inside [now - window_hours*3600, now);
//     everything else is consistent: every paid invoice the app received has
//     a grant (source = invoice id) and a payments row, every user's plan is
//     its subscription's current tier, every ai_credits equals the sum of its
//     credit_events deltas.
//
// Seeded kinds (each at least twice, about 5% of customers in all), as the
// reconciler's rules see them:
//   credits_not_granted  a paid invoice in the window with credits > 0 and no
//                        grant whose source is the invoice id. Two variants:
//                        payments row present (grant lost), and payments row
//                        missing too (webhook never arrived: no webhook_events
//                        rows for the invoice's events).
//   tier_mismatch        the newest customer.subscription.* event of a
//                        subscription in the window maps to a tier other than
//                        users.plan. Variants: missed upgrade pro->team,
//                        missed cancellation (-> free), and a late-arriving
//                        older event applied last by the app.
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
// opinion; customers map to users by users.stripe_customer_id; events of one
// subscription created in the same second always agree on the target tier
// (or have no opinion), so tie-breaking cannot change a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace reconciler::sim {

struct generator_options {
    std::filesystem::path out_dir;   // writes events.json, invoices.json, subscriptions.json, customers.json, ground_truth.json
    std::filesystem::path app_db;    // SQLite app database to create (must not exist)
    int customers = 200;
    std::uint64_t seed = 42;
    std::int64_t now = 0;            // unix seconds; 0 = current time
    std::int64_t window_hours = 24;  // seeded discrepancies fall in [now - window_hours*3600, now)
};

struct generation_summary {
    std::size_t customers, subscriptions, invoices, events, seeded_findings;
    std::int64_t window_start, window_end;
};

generation_summary generate_dataset(const generator_options& opts);

}  // namespace reconciler::sim
