// The reconciler's configuration: one YAML file, documented in
// config/reconciler.example.yaml.
//
// Contract: load_config() either returns a fully validated config or throws
// config_error whose message names the file and the key ("config
// /etc/reconciler.yaml: stripe.concurrency: expected an integer in 1..32, got
// \"many\""). Unknown keys are errors (a typo must not silently fall back to
// a default). Relative paths in the file are resolved against the file's
// directory. Secrets are never stored here: only where to find them.
#pragma once

#include "config/config_error.hpp"
#include "config/secret.hpp"
#include "core/model.hpp"
#include "store/app_tables.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler {

struct stripe_config {
    std::string base_url = "https://api.stripe.com";
    std::string api_version = "2025-03-31.basil";  // pinned Stripe-Version
    secret_source key{.env = "STRIPE_API_KEY", .file = {}, .credential = {}};
    std::string ca_file;                           // empty: the system CA store
    bool allow_plain_http_loopback = false;        // http:// only for 127.0.0.0/8, ::1, localhost
    std::optional<double> requests_per_second;     // empty: 25 for sk_test/rk_test keys, 90 for live
    int concurrency = 4;                           // sub-windows paged at once, 1..32
    std::chrono::milliseconds request_timeout{30'000};
    int max_retries = 6;
    std::string account;                           // Stripe-Account header (Connect); empty: none
};

// Replaying events to the app's webhook endpoint (`reconciler replay`).
struct webhook_config {
    // The endpoint's signing secret (whsec_...), used to sign replayed events.
    secret_source secret{.env = "STRIPE_WEBHOOK_SECRET", .file = {}, .credential = {}};
    // The app's webhook endpoint, for corrections with the `replay` policy
    // (checked at load with stripe::parse_forward_url, stripe/url.hpp); empty: none.
    std::string forward_to;
    std::string ca_file;  // for that endpoint; empty: the system CA store
};

// Exactly one of `path` (SQLite) and `url` (PostgreSQL) is set.
struct database_config {
    std::filesystem::path path;
    std::chrono::milliseconds busy_timeout{10'000};
    // postgresql://user@host:5432/app?sslmode=verify-full, checked at load
    // to carry no password (that comes from `password`, never the file).
    std::string url;
    std::optional<secret_source> password;  // none: peer, cert or ~/.pgpass
    std::string schema = "recon";           // the reconciler's own tables
    std::chrono::milliseconds statement_timeout{0};  // 0: the server's default
    // The app's table and column names (database.app_tables), both backends.
    store::app_tables app_tables;
    // A server that does not answer (or is starting up) at connect time is
    // retried with backoff for this long (a failover, a restart); 0: no retry.
    std::chrono::seconds connect_retry_for{60};
    bool is_postgres() const noexcept { return !url.empty(); }
};

struct policy_config {
    // Tier a past_due subscription maps to: "keep" (the price's tier) or a tier name.
    std::string past_due_tier = "keep";
    std::string free_tier = "free";
    std::chrono::seconds webhook_grace{3600};     // younger undelivered events may still arrive
    std::int64_t signature_failure_threshold = 3;  // per window, then Stripe support
    // Ceilings on what a Stripe object may ask for: an invoice over either is
    // flagged invalid_stripe_object and never applied (a hostile or broken
    // quantity must not become a grant, nor trip the blast caps for the rest).
    std::int64_t max_line_quantity = 10'000;            // units on one invoice line
    std::int64_t max_credits_per_invoice = 1'000'000;   // credits one invoice grants
};

// What the run may do on its own, per correctable finding kind.
struct corrections_config {
    bool grant_missing_credits = true;  // credits_not_granted: apply | replay | flag
    bool fix_tiers = true;              // tier_mismatch: apply | replay | flag
    // `replay`: instead of writing the app's database, re-deliver the Stripe
    // event the app missed to webhook.forward_to, so its own handler applies it.
    bool replay_missing_credits = false;
    bool replay_tiers = false;
    bool clawback_refunds = true;       // refund_or_dispute: clawback | flag
};

// The blast-radius guard: a bug in a price map must not mass-grant credits.
struct limits_config {
    std::int64_t max_corrections_per_run = 1000;
    std::int64_t max_credits_per_run = 1'000'000;
    std::int64_t max_credits_per_user = 100'000;
};

struct output_config {
    std::filesystem::path dir;
    // The Prometheus textfile (report/metrics.hpp); default <dir>/reconciler.prom.
    // Elsewhere, e.g. node_exporter's textfile directory, when the reports'
    // directory is the service's own (DynamicUser=).
    std::filesystem::path metrics_file;
};

// escalations: delivery to each team's pager or channel (issue 20). No
// routes: escalations stay in the database and the report only.
enum class route_type { pagerduty, slack, webhook };
const char* to_string(route_type t) noexcept;

struct escalation_route {
    route_type type = route_type::webhook;
    std::string name;  // "<team>/<type>": the outbox's route, messages and metrics
    // pagerduty: the Events API (default below, overridable for tests);
    // webhook: the receiver's URL; slack: empty (the URL is the secret).
    std::string url;
    // pagerduty: routing_key; slack: url; webhook: secret (HMAC key).
    secret_source secret;
};

struct escalations_config {
    std::map<std::string, std::vector<escalation_route>> routes;  // team -> its routes (one per type)
    int max_attempts = 8;                  // per delivery, over runs; then failed
    std::chrono::seconds deadline{10};     // per attempt
    std::chrono::seconds budget{60};       // the run's whole delivery step (retries within it)
    std::string ca_file;                   // empty: the system CA store
    bool any() const noexcept { return !routes.empty(); }
};

// Why `url` may not be a delivery endpoint (not http(s), user info, plain
// http to a host that is not loopback, unparseable), without echoing it: a
// Slack URL is a credential. nullopt: it may.
std::optional<std::string> delivery_url_problem(std::string_view url);

struct config {
    std::filesystem::path source_file;  // the file it was loaded from
    std::string content_hash;           // sha256 hex of the file's bytes (the run manifest's config hash)
    stripe_config stripe;
    webhook_config webhook;
    database_config database;
    std::map<std::string, price_entitlement> prices;  // Stripe price id -> entitlement
    std::vector<std::string> tiers{"free", "pro", "team"};
    policy_config policy;
    corrections_config corrections;
    limits_config limits;
    output_config output;
    escalations_config escalations;
    std::chrono::seconds default_lookback{std::chrono::hours(24)};  // first run, no checkpoint yet
    std::chrono::seconds overlap{std::chrono::hours(1)};    // re-examined before the checkpoint: late events
    // A run verifies its window in chronological slices of this length, each
    // checkpointed: memory is bounded by a slice and a killed run resumes.
    // Three days: slice_objects, not hours, bounds a busy account's slices,
    // and each slice's lists end in partial pages (shorter slices cost requests).
    std::chrono::seconds slice{std::chrono::hours(72)};
    // ...at most; a slice is cut shorter when the one before it brought more
    // Stripe objects than this (busy accounts), so memory stays bounded by
    // objects, not by time. The first slice is at most an hour; one that
    // still lists over 1.5x this (a burst) is diffed in parts of about this
    // many. 2,500 keeps a 1M-event window within the peak-memory budget
    // (what a slice holds follows its hours of app rows as much as its
    // objects); smaller slices cost requests, since a slice's lists end in
    // partial pages (bench/RESULTS.md has the measurements).
    std::int64_t slice_objects = 2500;
};

// Reads, parses and validates the file. Throws config_error.
config load_config(const std::filesystem::path& file);

// Parses YAML text as if it were the file `name` (used by tests and the fuzzer).
config parse_config(const std::string& yaml_text, const std::filesystem::path& name);

}  // namespace reconciler
