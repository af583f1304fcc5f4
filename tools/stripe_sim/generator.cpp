// The dataset generator (see generator.hpp for the contract).
//
// How it works: every customer's life is played as a small script against a
// customer_sim, in time order. The sim emits the Stripe side (objects and
// events, rendered per API shape) and, for every event, a webhook delivery to
// a model of the app. After the script, the deliveries are applied in arrival
// order the way the app's webhook handler would (set plan from a subscription
// snapshot, record payment + grant credits on invoice.paid), so the app
// database is consistent by construction; AI usage is then played against
// the user's credits (a usage row and a consume credit event per request).
// A seeded discrepancy is a fault in that delivery (dropped, late, grant
// lost, failed then replayed), in what the app wrote (payment row, usage,
// balance, correlation id) or in what happened on Stripe's side since
// (refund, dispute, a customer the app does not know), scripted inside the
// window by one function per kind, which also records the expected finding.
// App-only kinds (users without Stripe customer, signature failures) are
// scripted the same way without a customer_sim; missed_webhook findings are
// derived at the end from the webhooks the scripts dropped.
#include "stripe_sim/generator.hpp"

#include "store/embedded_sql.hpp"
#include "stripe_sim/dataset.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace reconciler::sim {
namespace {

namespace json = boost::json;

constexpr std::int64_t minute = 60;
constexpr std::int64_t hour = 3600;
constexpr std::int64_t day = 86400;
constexpr std::int64_t history = 40 * day;          // how far back the dataset goes
constexpr std::int64_t event_retention = 30 * day;  // Stripe keeps events 30 days
// A billing month is 30 days here (a year 365): calendar months add nothing
// the reconciler looks at, and a fixed length keeps renewal times easy to
// reason about.
constexpr std::int64_t billing_period = 30 * day;
constexpr std::int64_t billing_year = 365 * day;
constexpr std::int64_t trial_length = 14 * day;
constexpr std::int64_t max_window_hours = 28 * 24;  // seeded subscriptions need pre-window history
constexpr std::int64_t min_now = 400 * day;         // prices are dated 400 days back
// The reconciler's defaults that decide whether seeded data is a finding
// (docs/findings.md); ground_truth.json repeats them under "policy".
constexpr std::int64_t webhook_grace = hour;
constexpr std::int64_t signature_failure_threshold = 3;

constexpr std::string_view legacy_version = "2024-06-20";
constexpr std::string_view basil_version = "2025-03-31.basil";

enum class api_shape { legacy, basil };

std::string_view version_of(api_shape s) { return s == api_shape::legacy ? legacy_version : basil_version; }

// ------------------------------------------------------------------ prices

enum class product_line { pro, team, credits };  // one Stripe product each
constexpr std::size_t n_products = 3;

struct price_def {
    std::string_view id;
    std::string_view tier;  // empty: a credit pack, no tier
    std::int64_t credits;   // per unit of quantity (what the app grants)
    std::int64_t unit_amount;
    std::string_view nickname;
    std::string_view interval;  // "month" | "year"; empty: one-time
    product_line product;
    // In the reconciler's price map (ground_truth.json "prices"). The app
    // knows every price; the reconciler's config lags behind it.
    bool mapped;
    bool active;               // false: archived
    std::int64_t created_ago;  // created this long before now (<= 400 days: see min_now)
};

// The mapped rows are the map the demo configuration uses. The others are in
// prices.json too: prices the reconciler does not know (unknown_price) and an
// archived one the billing portal still offers.
constexpr std::array<price_def, 6> price_table{{
    {"price_pro_monthly", "pro", 1000, 2000, "Pro monthly", "month", product_line::pro, true, true, 400 * day},
    {"price_team_monthly", "team", 5000, 1000, "Team monthly (per seat)", "month", product_line::team, true, true,
     400 * day},
    {"price_credits_500", "", 500, 900, "500 AI credits", "", product_line::credits, true, true, 400 * day},
    {"price_pro_yearly", "pro", 12000, 20000, "Pro yearly", "year", product_line::pro, false, true, 60 * day},
    {"price_team_yearly", "team", 60000, 10000, "Team yearly (per seat)", "year", product_line::team, false, true,
     60 * day},
    {"price_pro_monthly_2023", "pro", 1000, 1500, "Pro monthly (2023)", "month", product_line::pro, false, false,
     400 * day},
}};
const price_def& pro_price = price_table[0];
const price_def& team_price = price_table[1];
const price_def& pack_price = price_table[2];
const price_def& pro_yearly_price = price_table[3];
const price_def& team_yearly_price = price_table[4];
const price_def& archived_pro_price = price_table[5];

bool recurring(const price_def& p) { return !p.interval.empty(); }
std::int64_t period_of(const price_def& p) { return p.interval == "year" ? billing_year : billing_period; }

// The reconciler's rule: which tier a subscription state entitles to.
std::optional<std::string> target_tier(std::string_view status, const price_def& price) {
    if (status == "active" || status == "trialing" || status == "past_due") return std::string(price.tier);
    if (status == "canceled" || status == "unpaid" || status == "incomplete_expired") return std::string("free");
    return std::nullopt;  // incomplete, paused: the subscription says nothing yet
}

// --------------------------------------------------------------------- rng

// std:: distributions differ between standard libraries; the engine does not.
// Everything random goes through these integer helpers so that a seed gives
// the same bytes on every platform.
class rng {
public:
    explicit rng(std::uint64_t seed) : engine_(seed) {}

    // Uniform in [lo, hi]; lo when the range is empty.
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        if (hi <= lo) return lo;
        const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1u;
        const auto max = std::numeric_limits<std::uint64_t>::max();
        const std::uint64_t limit = max - max % span;  // rejection avoids modulo bias
        std::uint64_t x = engine_();
        while (x >= limit) x = engine_();
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + x % span);
    }
    bool percent(int p) { return between(0, 99) < p; }

    std::string chars(std::size_t n, std::string_view alphabet) {
        std::string s(n, '\0');
        for (auto& c : s) c = alphabet[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(alphabet.size()) - 1))];
        return s;
    }
    std::string alnum(std::size_t n) {
        return chars(n, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    }
    // Version-4-looking UUID, as the app's correlation ids are.
    std::string uuid() {
        std::string h = chars(32, "0123456789abcdef");
        h[12] = '4';
        h[16] = "89ab"[between(0, 3)];
        return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) + '-' +
               h.substr(20);
    }

private:
    std::mt19937_64 engine_;
};

// -------------------------------------------------------------------- time

// Unix seconds -> "YYYY-MM-DDTHH:MM:SSZ" (H. Hinnant's civil_from_days; no
// dependence on the process time zone).
std::string rfc3339(std::int64_t t) {
    std::int64_t days = t / day;
    std::int64_t secs = t % day;
    if (secs < 0) {
        secs += day;
        --days;
    }
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[128];  // roomy enough for any int64 fields: no truncation warning
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / hour),
                  static_cast<long long>(secs % hour / minute), static_cast<long long>(secs % minute));
    return buf;
}

// ------------------------------------------------------------- sim objects

struct sub_state {
    std::string status;
    const price_def* price = nullptr;
    std::int64_t quantity = 1;
    std::int64_t period_start = 0;
    std::int64_t period_end = 0;
    std::int64_t billing_cycle_anchor = 0;
    std::optional<std::int64_t> trial_start, trial_end, canceled_at, ended_at;
    std::string latest_invoice;
};

struct sim_subscription {
    std::string id;
    std::string item_id;
    std::int64_t created = 0;
    sub_state state;
    bool fail_next_renewal = false;
};

struct sim_line {
    std::string id;
    const price_def* price = nullptr;
    std::int64_t quantity = 1;
    std::int64_t period_start = 0;
    std::int64_t period_end = 0;
    std::string invoice_item;  // ii_... for one-off items; empty for subscription lines
    std::int64_t amount() const { return price->unit_amount * quantity; }
};

// A card payment: a PaymentIntent's charge, paying one invoice or none (a
// one-off payment outside invoicing), and what happened to it since.
struct sim_charge {
    std::string id;  // ch_...
    std::string payment_intent;
    std::string balance_transaction;
    std::string invoice;  // empty: a one-off payment, with no InvoicePayment either
    std::string description;
    std::int64_t amount = 0;
    std::int64_t created = 0;
    struct refund_info {
        std::string id, balance_transaction;
        std::int64_t amount = 0;
        std::int64_t created = 0;
    };
    struct dispute_info {
        std::string id;
        std::int64_t amount = 0;
        std::int64_t created = 0;
    };
    std::optional<refund_info> refund;
    std::optional<dispute_info> dispute;
    // What a refund or dispute took back (0: neither).
    std::int64_t taken() const { return dispute ? dispute->amount : refund ? refund->amount : 0; }
};

struct sim_invoice {
    std::string id;
    std::string subscription;  // empty: not a subscription invoice
    std::string subscription_item;
    std::string billing_reason;
    std::string collection_method = "charge_automatically";
    std::string status;  // draft | open | paid | void
    std::string number;  // empty while draft
    std::int64_t created = 0;
    std::int64_t period_start = 0;
    std::int64_t period_end = 0;
    std::optional<std::int64_t> finalized_at, paid_at, voided_at, due_date;
    int attempt_count = 0;
    std::vector<sim_line> lines;
    // Once paid: the charge that paid it (one per paid invoice) and the
    // InvoicePayment linking the two (basil's only link between them).
    std::string charge;
    std::string invoice_payment;
    std::string paid_event;  // the invoice.paid event

    std::int64_t total() const {
        std::int64_t t = 0;
        for (const auto& l : lines) t += l.amount();
        return t;
    }
    std::int64_t credits() const {
        std::int64_t c = 0;
        for (const auto& l : lines) c += l.price->credits * l.quantity;
        return c;
    }
    bool paid() const { return status == "paid"; }
};

// One array element of an output file, already serialised: keeping text
// rather than json::value keeps memory near the output size.
struct record {
    std::int64_t created = 0;
    std::uint64_t seq = 0;  // creation order: orders same-second objects
    std::string text;       // at basil (the default version)
    std::string legacy;     // versioned resources: the same object at 2024-06-20
};

// ------------------------------------------------------------- app objects

struct credit_event {
    std::int64_t at = 0;
    std::string id;
    std::int64_t delta = 0;
    std::string kind;  // grant | consume | adjust | revoke
    std::string reason;
    std::string source;
    std::optional<std::string> correlation_id;  // nullopt: the key is absent (seeded only)
};

struct app_user {
    std::int64_t id = 0;
    std::string email;
    std::string plan = "free";
    std::string stripe_customer_id;  // empty: NULL
    std::int64_t created_at = 0;
    std::vector<credit_event> credit_events;
    // Seeded balance_drift only: ai_credits = sum of deltas + this.
    std::int64_t balance_offset = 0;
};

struct app_payment {
    std::string invoice_id;
    std::string customer_id;
    std::int64_t user_id = 0;
    std::int64_t amount = 0;
    std::string currency;
    std::int64_t paid_at = 0;
};

struct app_usage {
    std::int64_t user_id = 0;
    std::int64_t credits = 0;
    std::string request_id;
    std::int64_t at = 0;
};

struct app_webhook {
    std::string event_id;
    std::string type;
    std::int64_t received_at = 0;
    std::string status = "processed";  // processed | failed | signature_failed
    int attempts = 1;
    std::string last_error;            // empty: NULL
};

// What handling an event does to the app.
struct app_effect {
    std::optional<std::string> plan;           // tier to store from a subscription snapshot
    std::optional<std::size_t> paid_invoice;   // index into the customer's invoices
    bool skip_grant = false;                   // seeded: payment recorded, grant lost
};

// How the app's webhook endpoint gets an event. `failed_then_replayed`: the
// handler failed `attempts` times (the webhook_events row stays `failed`),
// then an engineer replayed the event with an admin tool at `replayed_at`,
// which applied its effect without touching webhook_events.
struct delivery {
    enum class kind { normal, dropped, late, failed_then_replayed } how = kind::normal;
    std::int64_t received_at = 0;  // late
    std::int64_t replayed_at = 0;  // failed_then_replayed
    int attempts = 1;              // failed_then_replayed
    static delivery dropped() { return {kind::dropped, 0, 0, 1}; }
    static delivery late(std::int64_t at) { return {kind::late, at, 0, 1}; }
    static delivery failed_then_replayed(std::int64_t replay_at, int attempts) {
        return {kind::failed_then_replayed, 0, replay_at, attempts};
    }
};

enum class pay_fault { none, grant_missing, webhook_missing };
enum class sub_start { active, incomplete_then_active, trialing };
enum class pack_outcome { paid, open, voided };

struct pending_delivery {
    std::int64_t received_at = 0;  // the webhook_events row's time
    std::int64_t applied_at = 0;   // when the effect reached the app
    std::uint64_t seq = 0;
    std::string event_id;
    std::string type;
    app_effect effect;
    std::string status = "processed";
    int attempts = 1;
    std::string last_error = {};
};

// AI usage to play against a user's credits. Random usage never overdraws
// (capped); scripted usage spends exactly `credits`, and may carry a seeded
// fault in how the app logged it.
enum class usage_fault {
    none,
    consume_missing,    // ai_usage row, no consume credit event
    usage_missing,      // consume credit event whose source is no ai_usage request_id
    empty_correlation,  // consume credit event with correlation_id ""
};
struct usage_plan {
    std::int64_t at = 0;
    std::int64_t credits = 0;
    bool capped = true;
    usage_fault fault = usage_fault::none;
};
struct usage_outcome {
    usage_fault fault = usage_fault::none;
    std::string request_id;       // the usage row's, or the dangling consume source
    std::string credit_event_id;  // empty: no consume event
    std::int64_t credits = 0;
    std::int64_t at = 0;
};

// A webhook the app never received, kept to derive missed_webhook findings.
struct dropped_event {
    std::string id, type, object_id, customer, email;
    std::int64_t created = 0;
};

constexpr std::array<std::string_view, 16> first_names{
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
    "Margaret", "Dennis", "Radia", "Linus", "Shafi", "Tim", "Hedy", "John"};
constexpr std::array<std::string_view, 16> last_names{
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
    "Hamilton", "Ritchie", "Perlman", "Torvalds", "Goldwasser", "Berners-Lee", "Lamarr", "Backus"};

class customer_sim;

// ----------------------------------------------------------------- findings

// Every kind of docs/findings.md and the team it is routed to.
struct kind_def {
    std::string_view kind, team;
};
constexpr std::array<kind_def, 18> finding_kinds{{
    {"credits_not_granted", "backend_engineering"},
    {"paid_without_entitlement_change", "billing_engineering"},
    {"tier_mismatch", "billing_engineering"},
    {"amount_mismatch", "billing_engineering"},
    {"currency_mismatch", "billing_engineering"},
    {"orphan_local_payment", "billing_engineering"},
    {"refund_or_dispute", "billing_engineering"},
    {"unknown_customer", "backend_engineering"},
    {"credits_not_decrementing", "data_platform"},
    {"negative_or_stuck_balance", "data_platform"},
    {"balance_drift", "data_platform"},
    {"webhook_failed_twice", "billing_engineering"},
    {"missed_webhook", "billing_engineering"},
    {"webhook_signature_failures", "stripe_support"},
    {"missing_correlation_id", "devops"},
    {"charge_without_invoice", "billing_engineering"},
    {"unknown_price", "billing_engineering"},
    {"billing_portal_misconfigured", "stripe_support"},
}};

// A ground-truth finding with the fields every kind has; callers add
// user_email / customer when known, the correction and the kind's evidence.
// `team` overrides the kind's team where the cause decides it (a portal
// offering prices the reconciler does not map is billing engineering's).
json::object new_finding(std::string_view kind, std::string_view subject_type, std::string_view subject_id,
                         std::string_view team = {}) {
    for (const auto& k : finding_kinds) {
        if (k.kind == kind)
            return {{"kind", kind},
                    {"subject_type", subject_type},
                    {"subject_id", subject_id},
                    {"team", team.empty() ? k.team : team},
                    {"correction", nullptr}};
    }
    throw std::logic_error("generator: unknown finding kind " + std::string(kind));
}

// The event types the app's webhook handler acts on (missed_webhook's scope).
bool app_handles(std::string_view type) {
    return type == "invoice.paid" || type.starts_with("customer.subscription.");
}

// ---------------------------------------------------------------- generator

// A Billing Portal configuration. `prices` are what its subscription_update
// feature offers (grouped by product when rendered).
struct portal_configuration {
    std::string id;  // bpc_...
    std::string_view name;
    bool active = true;
    bool is_default = false;
    std::int64_t created = 0, updated = 0;
    std::vector<const price_def*> prices;
};

// Where a price the reconciler does not map shows up in the window, as its
// unknown_price rule counts it.
struct unknown_price_uses {
    std::set<std::string> customers, invoices, subscriptions;
};

class generator {
public:
    generator(const generator_options& opts, std::int64_t now)
        : rng_(opts.seed),
          seed_(opts.seed),
          now_(now),
          window_start_(now - opts.window_hours * hour),
          customer_count_(opts.customers),
          next_app_user_id_(static_cast<std::int64_t>(opts.customers) + 1),
          portal_default_(opts.portal_default_configuration) {}

    void run();
    void write_files(const std::filesystem::path& out_dir) const;
    void write_app_db(const std::filesystem::path& db_path) const;
    generation_summary summary() const;

    // Shared services for customer_sim and the scripts.
    rng& random() { return rng_; }
    std::int64_t now() const { return now_; }
    std::int64_t window_start() const { return window_start_; }
    bool in_window(std::int64_t t) const { return t >= window_start_ && t < now_; }
    std::uint64_t next_seq() { return seq_++; }
    std::string new_id(std::string_view prefix) {
        for (;;) {
            std::string id = std::string(prefix) + rng_.alnum(14);
            if (ids_.insert(id).second) return id;
        }
    }
    const std::string& product(product_line l) const { return products_[static_cast<std::size_t>(l)]; }
    const std::string& product_of(const price_def& p) const { return product(p.product); }
    std::int64_t price_created(const price_def& p) const { return now_ - p.created_ago; }

    // A time inside the window, between lo and hi per mille of it, kept a
    // margin away from both edges so that an off-by-one in the reconciler's
    // window arithmetic cannot move a seeded finding in or out.
    std::int64_t window_time(std::int64_t lo_pm, std::int64_t hi_pm) {
        const std::int64_t span = now_ - window_start_;
        const std::int64_t usable = span - 2 * window_margin();
        return rng_.between(window_start_ + window_margin() + usable * lo_pm / 1000,
                            window_start_ + window_margin() + usable * hi_pm / 1000);
    }
    std::int64_t window_margin() const { return std::min<std::int64_t>(5 * minute, (now_ - window_start_) / 10); }
    // A time in the window for an event whose webhook the app never gets:
    // older than the webhook grace at the window's end by 10 minutes or more
    // (a missed_webhook), when the window is long enough for that (2 hours
    // and more); in a shorter window, at least 10 minutes inside the grace
    // (not yet missed). Never near the grace's edge either way.
    std::int64_t stale_time(std::int64_t lo_pm, std::int64_t hi_pm) {
        std::int64_t lo = window_start_ + window_margin();
        std::int64_t hi = now_ - webhook_grace - 10 * minute;
        if (hi - lo < 10 * minute) {
            lo = std::max(lo, now_ - webhook_grace + 10 * minute);
            hi = now_ - 10 * minute;
        }
        return rng_.between(lo + (hi - lo) * lo_pm / 1000, lo + (hi - lo) * hi_pm / 1000);
    }
    // A time up to 5 days before the window (an hour clear of it), within the
    // 30 days of events.
    std::int64_t before_window_time() {
        return rng_.between(std::max(now_ - 29 * day, window_start_ - 5 * day), window_start_ - hour);
    }
    // Subscriptions seeded for the window start before it and renew after
    // `now`: no renewal event can land in the window and heal or mask the drift.
    std::int64_t quiet_subscription_start() {
        return rng_.between(now_ - 29 * day, window_start_ - 2 * hour);
    }
    // The one second every same-second signup shares (so different customers'
    // objects share a second too).
    std::int64_t same_second() {
        if (!same_second_) same_second_ = window_time(100, 900);
        return *same_second_;
    }
    // Clustered disputes of different customers are created within a few
    // minutes after this time, early in the window, so that one slice holds
    // two or more of them; a lone dispute keeps to the window's late part.
    std::int64_t dispute_cluster_time() {
        if (!dispute_cluster_) dispute_cluster_ = window_time(150, 250);
        return *dispute_cluster_ + rng_.between(0, 4 * minute);
    }
    std::int64_t lone_dispute_time() { return window_time(750, 900); }

    // An app user without a Stripe customer (ids follow the customers').
    app_user new_app_user(std::int64_t created_at) {
        app_user u;
        u.id = next_app_user_id_++;
        u.email = "user" + std::to_string(u.id) + "@example.com";
        u.created_at = created_at;
        return u;
    }

    void add_finding(json::object f) { findings_.push_back(std::move(f)); }
    // The configuration customers' portal sessions use: the active one.
    const std::string& session_configuration() const;
    void count_portal_session() { ++portal_sessions_; }
    void record_unknown_price_use(const price_def& p, const std::string& customer, const std::string& invoice,
                                  const std::string& subscription);
    void record_credits_finding(const customer_sim& c, const sim_invoice& inv, bool payment_missing,
                                std::string_view scenario);
    void record_tier_finding(const customer_sim& c, std::string_view from, std::string_view to,
                             const std::string& newest_event, std::string_view scenario);

    // Output sinks.
    std::vector<record> customers_out, subscriptions_out, invoices_out, events_out, charges_out, invoice_payments_out;
    std::vector<portal_configuration> portal_configurations;
    std::vector<app_user> users;
    std::vector<app_payment> payments;
    std::vector<app_usage> usage;
    std::vector<app_webhook> webhooks;
    std::vector<dropped_event> dropped;

private:
    void run_generic(customer_sim& c);
    void run_generic_app_user();
    void record_missed_webhooks();
    void configure_portal();
    void record_portal_findings();
    void record_unknown_price_findings();

    rng rng_;
    std::uint64_t seed_;
    std::int64_t now_;
    std::int64_t window_start_;
    int customer_count_;
    std::int64_t next_app_user_id_;
    std::uint64_t seq_ = 0;
    std::unordered_set<std::string> ids_;
    std::array<std::string, n_products> products_;
    std::optional<std::int64_t> same_second_;
    std::optional<std::int64_t> dispute_cluster_;
    std::vector<json::object> findings_;
    bool portal_default_;
    std::size_t portal_sessions_ = 0;
    std::map<std::string_view, unknown_price_uses> unknown_prices_;  // by price id
};

// -------------------------------------------------------------- renderers

json::object render_price(const generator& g, const price_def& p) {
    json::value recurring_details = nullptr;
    if (recurring(p)) {
        recurring_details = json::object{{"aggregate_usage", nullptr}, {"interval", p.interval}, {"interval_count", 1},
                                 {"meter", nullptr}, {"trial_period_days", nullptr}, {"usage_type", "licensed"}};
    }
    return {{"id", p.id},
            {"object", "price"},
            {"active", p.active},
            {"billing_scheme", "per_unit"},
            {"created", g.price_created(p)},
            {"currency", "usd"},
            {"custom_unit_amount", nullptr},
            {"livemode", false},
            {"lookup_key", p.id.substr(6)},
            {"metadata", json::object{}},
            {"nickname", p.nickname},
            {"product", g.product_of(p)},
            {"recurring", std::move(recurring_details)},
            {"tax_behavior", "unspecified"},
            {"tiers_mode", nullptr},
            {"transform_quantity", nullptr},
            {"type", recurring(p) ? "recurring" : "one_time"},
            {"unit_amount", p.unit_amount},
            {"unit_amount_decimal", std::to_string(p.unit_amount)}};
}

// The legacy `plan` object that pre-basil subscriptions and lines still carry.
json::object render_plan(const generator& g, const price_def& p) {
    return {{"id", p.id},
            {"object", "plan"},
            {"active", p.active},
            {"amount", p.unit_amount},
            {"amount_decimal", std::to_string(p.unit_amount)},
            {"billing_scheme", "per_unit"},
            {"created", g.price_created(p)},
            {"currency", "usd"},
            {"interval", p.interval},
            {"interval_count", 1},
            {"livemode", false},
            {"metadata", json::object{}},
            {"nickname", p.nickname},
            {"product", g.product_of(p)},
            {"tiers_mode", nullptr},
            {"transform_usage", nullptr},
            {"trial_period_days", nullptr},
            {"usage_type", "licensed"}};
}

// A Billing Portal configuration as Stripe renders it; the same at every API
// version.
json::object render_portal_configuration(const generator& g, const portal_configuration& c) {
    json::array products;
    for (const product_line line : {product_line::pro, product_line::team}) {
        json::array prices;
        for (const price_def* p : c.prices)
            if (p->product == line) prices.push_back(json::value(p->id));
        if (prices.empty()) continue;
        const bool seats = line == product_line::team;
        products.push_back(json::object{
            {"adjustable_quantity",
             json::object{{"enabled", seats}, {"maximum", seats ? json::value(5) : json::value(nullptr)}, {"minimum", 1}}},
            {"prices", std::move(prices)},
            {"product", g.product(line)}});
    }
    const json::object features{
        {"customer_update", json::object{{"allowed_updates", json::array{"email", "address"}}, {"enabled", true}}},
        {"invoice_history", json::object{{"enabled", true}}},
        {"payment_method_update", json::object{{"enabled", true}, {"payment_method_configuration", nullptr}}},
        {"subscription_cancel",
         json::object{{"cancellation_reason",
                       json::object{{"enabled", true},
                                    {"options", json::array{"too_expensive", "missing_features", "switched_service",
                                                            "unused", "other"}}}},
                      {"enabled", true},
                      {"mode", "at_period_end"},
                      {"proration_behavior", "none"}}},
        {"subscription_update",
         json::object{{"billing_cycle_anchor", nullptr},
                      {"default_allowed_updates", json::array{"price", "quantity"}},
                      {"enabled", true},
                      {"products", std::move(products)},
                      {"proration_behavior", "create_prorations"},
                      {"schedule_at_period_end", json::object{{"conditions", json::array{}}}},
                      {"trial_update_behavior", "end_trial"}}}};
    return {{"id", c.id},
            {"object", "billing_portal.configuration"},
            {"active", c.active},
            {"application", nullptr},
            {"business_profile", json::object{{"headline", nullptr},
                                              {"privacy_policy_url", "https://app.example.com/privacy"},
                                              {"terms_of_service_url", "https://app.example.com/terms"}}},
            {"created", c.created},
            {"default_return_url", "https://app.example.com/account"},
            {"features", features},
            {"is_default", c.is_default},
            {"livemode", false},
            {"login_page", json::object{{"enabled", false}, {"url", nullptr}}},
            {"metadata", json::object{}},
            {"name", c.name},
            {"updated", c.updated}};
}

json::value opt(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value opt(const std::string& v) { return v.empty() ? json::value(nullptr) : json::value(v); }

// ------------------------------------------------------------- app ledger

credit_event new_credit_event(generator& g, std::int64_t at, std::int64_t delta, std::string kind, std::string reason,
                              std::string source) {
    return {at, g.new_id("ce_"), delta, std::move(kind), std::move(reason), std::move(source), g.random().uuid()};
}

// Random AI usage: up to 4 requests between the user's first credit event and
// now, each spending what the user still has at most.
std::vector<usage_plan> random_usage(generator& g, const app_user& u) {
    if (u.credit_events.empty()) return {};
    std::int64_t first = u.credit_events.front().at;
    for (const auto& e : u.credit_events) first = std::min(first, e.at);
    first += minute;
    if (first > g.now() - 1) return {};
    rng& r = g.random();
    std::vector<usage_plan> plan(static_cast<std::size_t>(r.between(0, 4)));
    for (auto& p : plan) {
        p.at = r.between(first, g.now() - 1);
        p.credits = r.between(5, 250);
    }
    return plan;
}

// Plays AI usage against the user's credit events in time order: an ai_usage
// row and a consume credit event (source = the row's request_id, same time)
// per request, unless the plan seeds a fault. Leaves the events sorted by time.
std::vector<usage_outcome> play_usage(generator& g, app_user& u, std::vector<usage_plan> plan) {
    rng& r = g.random();
    const auto by_time = [](const auto& a, const auto& b) { return a.at < b.at; };
    auto& events = u.credit_events;
    std::stable_sort(events.begin(), events.end(), by_time);
    std::stable_sort(plan.begin(), plan.end(), by_time);
    std::vector<credit_event> merged;
    std::vector<usage_outcome> outcomes;
    std::int64_t balance = 0;
    std::size_t gi = 0;
    for (const auto& p : plan) {
        if (p.at >= g.now()) throw std::logic_error("generator: usage at or after now");
        while (gi < events.size() && events[gi].at <= p.at) {
            balance += events[gi].delta;
            merged.push_back(std::move(events[gi++]));
        }
        const std::int64_t spend = p.capped ? std::min(p.credits, balance) : p.credits;
        if (spend <= 0) continue;
        usage_outcome o{p.fault, r.uuid(), {}, spend, p.at};
        if (p.fault != usage_fault::usage_missing) g.usage.push_back({u.id, spend, o.request_id, p.at});
        if (p.fault != usage_fault::consume_missing) {
            o.credit_event_id = g.new_id("ce_");
            std::string correlation = p.fault == usage_fault::empty_correlation ? std::string() : r.uuid();
            merged.push_back({p.at, o.credit_event_id, -spend, "consume", "ai_usage", o.request_id, std::move(correlation)});
            balance -= spend;
        }
        outcomes.push_back(std::move(o));
    }
    while (gi < events.size()) merged.push_back(std::move(events[gi++]));
    events = std::move(merged);
    return outcomes;
}

std::int64_t sum_of_deltas(const app_user& u) {
    std::int64_t sum = 0;
    for (const auto& e : u.credit_events) sum += e.delta;
    return sum;
}

// ------------------------------------------------------------ customer_sim

// Plays one customer's life; see the file comment.
class customer_sim {
public:
    customer_sim(generator& g, std::size_t index) : g_(g), r_(g.random()), index_(index) {
        id_ = g_.new_id("cus_");
        email_ = "user" + std::to_string(index + 1) + "@example.com";
        name_ = std::string(first_names[static_cast<std::size_t>(r_.between(0, first_names.size() - 1))]) + ' ' +
                std::string(last_names[static_cast<std::size_t>(r_.between(0, last_names.size() - 1))]);
        invoice_prefix_ = r_.chars(8, "0123456789ABCDEF");
        payment_method_ = g_.new_id("pm_");
        card_fingerprint_ = r_.alnum(16);
        card_exp_month_ = r_.between(1, 12);
        card_exp_year_ = r_.between(2027, 2032);
        user_.id = static_cast<std::int64_t>(index) + 1;
        user_.email = email_;
        user_.stripe_customer_id = id_;
    }

    const std::string& id() const { return id_; }
    const std::string& email() const { return email_; }
    std::int64_t user_id() const { return user_.id; }
    const std::string& subscription_id() const { return sub_->id; }
    std::int64_t subscription_created() const { return sub_->created; }
    const std::string& app_plan() const { return app_plan_; }  // after finish()
    const sim_invoice& invoice(const std::string& id) const { return const_cast<customer_sim*>(this)->invoice_ref(id); }
    std::int64_t created() const { return created_; }
    // The app's user after finish() (balance, credit events, plan).
    const app_user& final_user() const {
        if (!user_index_) throw std::logic_error("generator: customer " + id_ + " has no app user");
        return g_.users[*user_index_];
    }

    // Seeded scripts pin their events to one shape so that each variant is
    // covered in both shapes; everything else picks per event.
    void force_shape(api_shape s) { forced_shape_ = s; }

    // Before create_customer(): a Stripe customer the app has no user for,
    // not even by email (created from a payment link, say). Its webhooks are
    // received and recorded, and do nothing.
    void without_app_user() {
        has_app_user_ = false;
        email_ = "buyer" + std::to_string(index_ + 1) + "@example.org";
    }
    // The app user exists, but the app never stored its stripe_customer_id:
    // only the email links them.
    void unlink_app_user() { user_.stripe_customer_id.clear(); }
    // Usage is scripted only (no random usage), for scripts that need to know
    // the final balance.
    void script_usage(usage_plan p) {
        random_usage_ = false;
        scripted_usage_.push_back(p);
    }
    // A credit event the app wrote outside any webhook (support, a previous
    // reconciler correction).
    void add_credit_event(credit_event e) { scripted_credits_.push_back(std::move(e)); }
    // The payments row the app writes for this invoice records these instead
    // of the invoice's amount and currency.
    void override_payment(const std::string& invoice, std::int64_t amount, std::string currency) {
        payment_overrides_[invoice] = {amount, std::move(currency)};
    }

    void create_customer(std::int64_t at) {
        created_ = at;
        user_.created_at = at - r_.between(0, day);  // signed up in the app before checkout
        emit("customer.created", at, pick_shape(), render_customer(true), nullptr, {}, {});
    }

    // Refunds `amount` of a charge (0: all of it): charge.refunded, whose
    // object is the charge after the refund, at the event's API version. The
    // app does not act on it.
    std::string refund(std::int64_t at, const std::string& charge_id, std::int64_t amount = 0) {
        advance_to(at);
        auto& ch = charge_ref(charge_id);
        if (amount == 0) amount = ch.amount;
        if (ch.refund || ch.dispute || at <= ch.created || amount <= 0 || amount > ch.amount)
            throw std::logic_error("generator: cannot refund " + charge_id);
        ch.refund = sim_charge::refund_info{g_.new_id("re_"), g_.new_id("txn_"), amount, at};
        // previous_attributes: only what changed (a partial refund leaves `refunded` false).
        json::object previous{{"amount_refunded", 0}};
        if (amount == ch.amount) previous["refunded"] = false;
        const api_shape shape = pick_shape();
        return emit("charge.refunded", at, shape, render_charge(ch, shape), &previous, {}, {});
    }

    // The cardholder disputes the whole charge: charge.dispute.created, whose
    // object is the dispute. The app does not act on it.
    std::string dispute(std::int64_t at, const std::string& charge_id) {
        advance_to(at);
        auto& ch = charge_ref(charge_id);
        if (ch.refund || ch.dispute || at <= ch.created)
            throw std::logic_error("generator: cannot dispute " + charge_id);
        ch.dispute = sim_charge::dispute_info{g_.new_id("dp_"), ch.amount, at};
        return emit("charge.dispute.created", at, pick_shape(), render_dispute(ch), nullptr, {}, {});
    }

    // A one-off card payment outside invoicing (a PaymentIntent confirmed by
    // the app's own checkout): a charge with no invoice and no InvoicePayment.
    // No event: the app learns of it from its checkout, not from a webhook.
    std::string one_off_charge(std::int64_t at, std::int64_t amount, std::string description) {
        advance_to(at);
        return new_charge(at, amount, {}, std::move(description)).id;
    }

    const sim_charge& charge(const std::string& id) const { return const_cast<customer_sim*>(this)->charge_ref(id); }

    // Returns the subscription_create invoice id (empty for a trial, which
    // bills nothing until it ends).
    std::string subscribe(std::int64_t at, const price_def& price, std::int64_t qty, sub_start start,
                          pay_fault fault = pay_fault::none) {
        advance_to(at);
        sub_.emplace();
        sub_->id = g_.new_id("sub_");
        sub_->item_id = g_.new_id("si_");
        sub_->created = at;
        auto& s = sub_->state;
        s.price = &price;
        s.quantity = qty;
        s.period_start = at;
        s.billing_cycle_anchor = at;
        if (start == sub_start::trialing) {
            s.status = "trialing";
            s.trial_start = at;
            s.trial_end = at + trial_length;
            s.period_end = at + trial_length;
            sub_event("customer.subscription.created", at, {}, nullptr);
            return {};
        }
        s.period_end = at + period_of(price);
        s.status = start == sub_start::incomplete_then_active ? "incomplete" : "active";
        const std::size_t inv = new_subscription_invoice("subscription_create", at);
        s.latest_invoice = invoices_[inv].id;
        sub_event("customer.subscription.created", at, {}, nullptr);
        settle_invoice(inv, at, fault);
        if (start == sub_start::incomplete_then_active) {
            // The first payment succeeded in the same second: Stripe activates
            // the subscription with a second event carrying the same second.
            sub_event("customer.subscription.updated", at, {}, [](sub_state& st) { st.status = "active"; }, true);
        }
        return invoices_[inv].id;
    }

    // Switches the single item to another price/quantity (no proration
    // invoice: Stripe's default adds prorations to the next renewal).
    std::string change_plan(std::int64_t at, const price_def& price, std::int64_t qty, delivery d = {}) {
        advance_to(at);
        return sub_event("customer.subscription.updated", at, d, [&](sub_state& st) {
            st.price = &price;
            st.quantity = qty;
        });
    }

    std::string cancel(std::int64_t at, delivery d = {}) {
        advance_to(at);
        const std::int64_t when = std::max(at, last_sub_event_ + 1);
        sub_->state.status = "canceled";
        sub_->state.canceled_at = when;
        sub_->state.ended_at = when;
        return sub_event("customer.subscription.deleted", when, d, nullptr);
    }

    void fail_next_renewal() { sub_->fail_next_renewal = true; }

    // A one-off invoice for credit packs (billing_reason manual).
    // `paid_delivery` is how the app gets the invoice.paid event.
    std::string buy_pack(std::int64_t at, std::int64_t qty, pack_outcome outcome, pay_fault fault = pay_fault::none,
                         delivery paid_delivery = {}) {
        advance_to(at);
        sim_invoice inv;
        inv.id = g_.new_id("in_");
        inv.billing_reason = "manual";
        inv.created = at;
        inv.period_start = at;
        inv.period_end = at;
        sim_line line;
        line.id = g_.new_id("il_");
        line.price = &pack_price;
        line.quantity = qty;
        line.period_start = at;
        line.period_end = at;
        line.invoice_item = g_.new_id("ii_");
        inv.lines.push_back(std::move(line));
        invoices_.push_back(std::move(inv));
        const std::size_t idx = invoices_.size() - 1;
        auto& in = invoices_[idx];
        switch (outcome) {
        case pack_outcome::paid:
            settle_invoice(idx, std::min(at + r_.between(0, 2 * minute), g_.now() - 1), fault, paid_delivery);
            break;
        case pack_outcome::open:
            // Sent for manual payment and not paid yet.
            in.collection_method = "send_invoice";
            finalize(in, at);
            in.status = "open";
            in.due_date = at + 30 * day;
            invoice_event("invoice.finalized", at, idx, {}, {});
            break;
        case pack_outcome::voided: {
            finalize(in, at);
            in.status = "void";
            const std::int64_t voided = std::min(at + r_.between(minute, hour), g_.now() - 1);
            in.voided_at = voided;
            invoice_event("invoice.voided", voided, idx, {}, {});
            break;
        }
        }
        return invoices_[idx].id;
    }

    // Renewals up to now, then the list objects and the app's rows.
    void finish() {
        advance_to(g_.now() - 1);
        g_.customers_out.push_back({created_, g_.next_seq(), json::serialize(render_customer(false)), {}});
        // Versioned resources in both renditions (the lists serve the request's version).
        const auto both = [&](std::int64_t created, const auto& render) {
            return record{created, g_.next_seq(), json::serialize(render(api_shape::basil)),
                          json::serialize(render(api_shape::legacy))};
        };
        if (sub_)
            g_.subscriptions_out.push_back(both(sub_->created, [&](api_shape s) { return render_subscription(s); }));
        for (const auto& inv : invoices_) {
            g_.invoices_out.push_back(both(inv.created, [&](api_shape s) { return render_invoice(inv, s); }));
            if (inv.paid())
                g_.invoice_payments_out.push_back(
                    {*inv.finalized_at, g_.next_seq(), json::serialize(render_invoice_payment(inv)), {}});
        }
        for (const auto& ch : charges_)
            g_.charges_out.push_back(both(ch.created, [&](api_shape s) { return render_charge(ch, s); }));
        record_unknown_prices();
        if (index_ % portal_session_every == portal_session_offset) open_portal_session();
        apply_deliveries();
        if (!has_app_user_) return;
        for (auto& e : scripted_credits_) user_.credit_events.push_back(std::move(e));
        std::vector<usage_plan> plan = random_usage_ ? random_usage(g_, user_) : std::vector<usage_plan>{};
        plan.insert(plan.end(), scripted_usage_.begin(), scripted_usage_.end());
        play_usage(g_, user_, std::move(plan));
        app_plan_ = user_.plan;
        user_index_ = g_.users.size();
        g_.users.push_back(std::move(user_));
    }

private:
    // One customer in this many opens the billing portal in the window.
    static constexpr std::size_t portal_session_every = 20;
    static constexpr std::size_t portal_session_offset = 3;

    // billing_portal.session.created in the window (after the customer
    // exists): the app links customers to the portal. The app records the
    // webhook and acts on nothing.
    void open_portal_session() {
        const std::int64_t at = g_.window_time(50, 950);
        if (at <= created_) return;
        json::object session{{"id", g_.new_id("bps_")},
                             {"object", "billing_portal.session"},
                             {"configuration", g_.session_configuration()},
                             {"created", at},
                             {"customer", id_},
                             {"flow", nullptr},
                             {"livemode", false},
                             {"locale", nullptr},
                             {"on_behalf_of", nullptr},
                             {"return_url", "https://app.example.com/account"},
                             {"url", "https://billing.stripe.com/p/session/test_" + r_.alnum(24)}};
        emit("billing_portal.session.created", at, pick_shape(), std::move(session), nullptr, {}, {});
        g_.count_portal_session();
    }

    // What the reconciler's unknown_price rule sees of this customer: paid
    // invoices in the window with a line of an unmapped price, and the
    // subscription when its newest state (an event in the window) is
    // active/trialing/past_due on one.
    void record_unknown_prices() const {
        for (const auto& inv : invoices_) {
            if (!inv.paid() || !(g_.in_window(inv.created) || g_.in_window(*inv.paid_at))) continue;
            for (const auto& l : inv.lines)
                if (!l.price->mapped) g_.record_unknown_price_use(*l.price, id_, inv.id, {});
        }
        if (!sub_ || !g_.in_window(last_sub_event_) || sub_->state.price->mapped) return;
        const auto& status = sub_->state.status;
        if (status == "active" || status == "trialing" || status == "past_due")
            g_.record_unknown_price_use(*sub_->state.price, id_, {}, sub_->id);
    }

    api_shape pick_shape() {
        if (forced_shape_) return *forced_shape_;
        return r_.percent(50) ? api_shape::legacy : api_shape::basil;
    }

    // Renewals (and trial ends) whose boundary is at or before t. A
    // past_due subscription stops renewing here: Stripe's dunning would
    // retry and eventually cancel, which lies beyond what we model.
    void advance_to(std::int64_t t) {
        while (sub_ && (sub_->state.status == "active" || sub_->state.status == "trialing") &&
               sub_->state.period_end <= t) {
            renew(sub_->state.period_end);
        }
    }

    void renew(std::int64_t b) {
        sub_event("customer.subscription.updated", b, {}, [&](sub_state& st) {
            if (st.status == "trialing") {
                st.status = "active";
                st.billing_cycle_anchor = b;
            }
            st.period_start = b;
            st.period_end = b + period_of(*st.price);
        });
        const std::size_t idx = new_subscription_invoice("subscription_cycle", b);
        sub_->state.latest_invoice = invoices_[idx].id;
        // Stripe finalises and charges a renewal about an hour after creating it.
        const std::int64_t attempt = b + r_.between(minute, hour);
        if (attempt > g_.now() - 1) {
            invoices_[idx].status = "draft";  // not attempted yet at `now`
            return;
        }
        if (sub_->fail_next_renewal) {
            sub_->fail_next_renewal = false;
            auto& inv = invoices_[idx];
            finalize(inv, attempt);
            inv.status = "open";
            inv.attempt_count = 1;
            invoice_event("invoice.payment_failed", attempt, idx, {}, {});
            sub_event("customer.subscription.updated", attempt, {}, [](sub_state& st) { st.status = "past_due"; });
            return;
        }
        settle_invoice(idx, attempt, pay_fault::none);
    }

    std::size_t new_subscription_invoice(std::string_view reason, std::int64_t at) {
        const auto& s = sub_->state;
        sim_invoice inv;
        inv.id = g_.new_id("in_");
        inv.subscription = sub_->id;
        inv.subscription_item = sub_->item_id;
        inv.billing_reason = std::string(reason);
        inv.created = at;
        inv.period_start = s.period_start;
        inv.period_end = s.period_end;
        sim_line line;
        line.id = g_.new_id("il_");
        line.price = s.price;
        line.quantity = s.quantity;
        line.period_start = s.period_start;
        line.period_end = s.period_end;
        inv.lines.push_back(std::move(line));
        invoices_.push_back(std::move(inv));
        return invoices_.size() - 1;
    }

    void finalize(sim_invoice& inv, std::int64_t at) {
        inv.finalized_at = at;
        inv.number = invoice_prefix_ + '-' + [&] {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%04d", next_invoice_number_++);
            return std::string(buf);
        }();
    }

    // Paid at `at` by a new charge: invoice.paid and invoice.payment_succeeded,
    // both carrying the paid invoice; the app acts on invoice.paid (delivered
    // as `paid_delivery` says unless the fault drops both).
    void settle_invoice(std::size_t idx, std::int64_t at, pay_fault fault, delivery paid_delivery = {}) {
        auto& inv = invoices_[idx];
        finalize(inv, at);
        inv.status = "paid";
        inv.paid_at = at;
        inv.attempt_count = 1;
        const std::string description = inv.billing_reason == "subscription_create"  ? "Subscription creation"
                                        : inv.billing_reason == "subscription_cycle" ? "Subscription update"
                                                                                     : "Payment for Invoice";
        inv.charge = new_charge(at, inv.total(), inv.id, description).id;
        inv.invoice_payment = g_.new_id("inpay_");
        const bool dropped = fault == pay_fault::webhook_missing;
        app_effect effect;
        effect.paid_invoice = idx;
        effect.skip_grant = fault == pay_fault::grant_missing;
        inv.paid_event = invoice_event("invoice.paid", at, idx, dropped ? delivery::dropped() : paid_delivery, effect);
        invoice_event("invoice.payment_succeeded", at, idx, dropped ? delivery::dropped() : delivery{}, {});
    }

    std::string invoice_event(std::string_view type, std::int64_t at, std::size_t idx, delivery d, app_effect effect) {
        const api_shape shape = pick_shape();
        return emit(type, at, shape, render_invoice(invoices_[idx], shape), nullptr, d, std::move(effect));
    }

    sim_invoice& invoice_ref(const std::string& id) {
        for (auto& inv : invoices_)
            if (inv.id == id) return inv;
        throw std::logic_error("generator: unknown invoice " + id);
    }

    sim_charge& charge_ref(const std::string& id) {
        for (auto& ch : charges_)
            if (ch.id == id) return ch;
        throw std::logic_error("generator: unknown charge " + id);
    }

    sim_charge& new_charge(std::int64_t at, std::int64_t amount, std::string invoice, std::string description) {
        sim_charge ch;
        ch.id = g_.new_id("ch_");
        ch.payment_intent = g_.new_id("pi_");
        ch.balance_transaction = g_.new_id("txn_");
        ch.invoice = std::move(invoice);
        ch.description = std::move(description);
        ch.amount = amount;
        ch.created = at;
        charges_.push_back(std::move(ch));
        return charges_.back();
    }

    // Emits a customer.subscription.* event for a state change made by
    // `mutate` (none for created/deleted, whose state is already set). Events
    // of one subscription get strictly increasing seconds unless the caller
    // vouches that a same-second pair agrees on the tier (see generator.hpp).
    template <typename Mutate>
    std::string sub_event(std::string_view type, std::int64_t at, delivery d, Mutate&& mutate,
                          bool same_second_ok = false) {
        if (!same_second_ok) at = std::max(at, last_sub_event_ + 1);
        last_sub_event_ = std::max(last_sub_event_, at);
        const api_shape shape = pick_shape();
        std::optional<json::object> previous;
        if constexpr (!std::is_same_v<std::decay_t<Mutate>, std::nullptr_t>) {
            json::object before = render_subscription(shape);
            mutate(sub_->state);
            json::object after = render_subscription(shape);
            previous = diff_attributes(before, after);
        }
        app_effect effect;
        effect.plan = target_tier(sub_->state.status, *sub_->state.price);
        return emit(type, at, shape, render_subscription(shape), previous ? &*previous : nullptr, d,
                    std::move(effect));
    }

    // data.previous_attributes: the old values of the top-level keys that changed.
    static json::object diff_attributes(const json::object& before, const json::object& after) {
        json::object prev;
        for (const auto& kv : after) {
            const auto* old = before.if_contains(kv.key());
            if (!old) prev[kv.key()] = nullptr;
            else if (*old != kv.value()) prev[kv.key()] = *old;
        }
        for (const auto& kv : before)
            if (!after.contains(kv.key())) prev[kv.key()] = kv.value();
        return prev;
    }

    std::string emit(std::string_view type, std::int64_t at, api_shape shape, json::object object,
                     const json::object* previous, delivery d, app_effect effect) {
        if (at >= g_.now()) throw std::logic_error("generator: event scheduled at or after now");
        const std::string id = g_.new_id("evt_");
        const std::uint64_t seq = g_.next_seq();
        const std::string object_id(object.at("id").as_string());
        if (at >= g_.now() - event_retention) {
            json::object data{{"object", std::move(object)}};
            if (previous) data["previous_attributes"] = *previous;
            json::object ev{{"id", id},
                            {"object", "event"},
                            {"api_version", version_of(shape)},
                            {"created", at},
                            {"data", std::move(data)},
                            {"livemode", false},
                            {"pending_webhooks", 0},
                            {"request", json::object{{"id", nullptr}, {"idempotency_key", nullptr}}},
                            {"type", type}};
            g_.events_out.push_back({at, seq, json::serialize(ev), {}});
        }
        switch (d.how) {
        case delivery::kind::dropped:
            if (!has_app_user_) throw std::logic_error("generator: dropped webhook of a customer without app user");
            g_.dropped.push_back({id, std::string(type), object_id, id_, email_, at});
            break;
        case delivery::kind::normal:
        case delivery::kind::failed_then_replayed: {
            // Webhooks of one customer arrive in order, a few seconds late at
            // most, and all before `now`: anything else would be drift.
            const std::int64_t received =
                std::min(std::max(at + r_.between(0, 4), last_received_), g_.now() - 1);
            last_received_ = received;
            pending_delivery p{received, received, seq, id, std::string(type), std::move(effect)};
            if (d.how == delivery::kind::failed_then_replayed) {
                if (d.replayed_at <= received || d.replayed_at >= g_.now() || d.attempts < 2)
                    throw std::logic_error("generator: replay outside (received, now)");
                p.applied_at = d.replayed_at;
                p.status = "failed";
                p.attempts = d.attempts;
                p.last_error = "handler error: database is locked (SQLITE_BUSY); gave up after " +
                               std::to_string(d.attempts) + " attempts";
            }
            deliveries_.push_back(std::move(p));
            break;
        }
        case delivery::kind::late:
            if (d.received_at <= at || d.received_at >= g_.now())
                throw std::logic_error("generator: late delivery outside (created, now)");
            deliveries_.push_back({d.received_at, d.received_at, seq, id, std::string(type), std::move(effect)});
            break;
        }
        return id;
    }

    json::object render_customer(bool at_creation) const {
        const bool billed = !at_creation && !invoices_.empty();
        return {{"id", id_},
                {"object", "customer"},
                {"address", nullptr},
                {"balance", 0},
                {"created", created_},
                {"currency", billed ? json::value("usd") : json::value(nullptr)},
                {"default_source", nullptr},
                {"delinquent", false},
                {"description", nullptr},
                {"discount", nullptr},
                {"email", email_},
                {"invoice_prefix", invoice_prefix_},
                {"invoice_settings",
                 json::object{{"custom_fields", nullptr},
                              {"default_payment_method", nullptr},
                              {"footer", nullptr},
                              {"rendering_options", nullptr}}},
                {"livemode", false},
                {"metadata", json::object{}},
                {"name", name_},
                {"next_invoice_sequence", at_creation ? 1 : next_invoice_number_},
                {"phone", nullptr},
                {"preferred_locales", json::array{}},
                {"shipping", nullptr},
                {"tax_exempt", "none"},
                {"test_clock", nullptr}};
    }

    json::object render_subscription(api_shape shape) const {
        const auto& sub = *sub_;
        const auto& s = sub.state;
        json::object item{{"id", sub.item_id},
                          {"object", "subscription_item"},
                          {"created", sub.created},
                          {"discounts", json::array{}},
                          {"metadata", json::object{}}};
        if (shape == api_shape::legacy) item["plan"] = render_plan(g_, *s.price);
        item["price"] = render_price(g_, *s.price);
        item["quantity"] = s.quantity;
        item["subscription"] = sub.id;
        item["tax_rates"] = json::array{};
        if (shape == api_shape::basil) {
            item["current_period_end"] = s.period_end;
            item["current_period_start"] = s.period_start;
        }
        json::object o{{"id", sub.id},
                       {"object", "subscription"},
                       {"application", nullptr},
                       {"application_fee_percent", nullptr},
                       {"automatic_tax", json::object{{"enabled", false}, {"liability", nullptr}}},
                       {"billing_cycle_anchor", s.billing_cycle_anchor},
                       {"billing_cycle_anchor_config", nullptr},
                       {"cancel_at", nullptr},
                       {"cancel_at_period_end", false},
                       {"canceled_at", opt(s.canceled_at)},
                       {"cancellation_details",
                        json::object{{"comment", nullptr},
                                     {"feedback", nullptr},
                                     {"reason", s.canceled_at ? json::value("cancellation_requested")
                                                              : json::value(nullptr)}}},
                       {"collection_method", "charge_automatically"},
                       {"created", sub.created},
                       {"currency", "usd"}};
        if (shape == api_shape::legacy) {
            o["current_period_end"] = s.period_end;
            o["current_period_start"] = s.period_start;
        }
        o["customer"] = id_;
        o["days_until_due"] = nullptr;
        o["default_payment_method"] = nullptr;
        o["default_source"] = nullptr;
        o["default_tax_rates"] = json::array{};
        o["description"] = nullptr;
        o["discounts"] = json::array{};
        o["ended_at"] = opt(s.ended_at);
        o["invoice_settings"] = json::object{{"account_tax_ids", nullptr}, {"issuer", json::object{{"type", "self"}}}};
        o["items"] = json::object{{"object", "list"},
                                  {"data", json::array{std::move(item)}},
                                  {"has_more", false},
                                  {"total_count", 1},
                                  {"url", "/v1/subscription_items?subscription=" + sub.id}};
        o["latest_invoice"] = opt(s.latest_invoice);
        o["livemode"] = false;
        o["metadata"] = json::object{};
        o["next_pending_invoice_item_invoice"] = nullptr;
        o["on_behalf_of"] = nullptr;
        o["pause_collection"] = nullptr;
        o["pending_invoice_item_interval"] = nullptr;
        o["pending_setup_intent"] = nullptr;
        o["pending_update"] = nullptr;
        if (shape == api_shape::legacy) {
            o["plan"] = render_plan(g_, *s.price);
            o["quantity"] = s.quantity;
        }
        o["schedule"] = nullptr;
        o["start_date"] = sub.created;
        o["status"] = s.status;
        o["test_clock"] = nullptr;
        o["transfer_data"] = nullptr;
        o["trial_end"] = opt(s.trial_end);
        o["trial_settings"] =
            json::object{{"end_behavior", json::object{{"missing_payment_method", "create_invoice"}}}};
        o["trial_start"] = opt(s.trial_start);
        return o;
    }

    json::object render_line(const sim_invoice& inv, const sim_line& l, api_shape shape) const {
        const bool sub_line = !inv.subscription.empty();
        const std::string description =
            sub_line ? std::to_string(l.quantity) + " \xC3\x97 " + std::string(l.price->nickname)
                     : std::string(l.price->nickname);
        json::object o{{"id", l.id},
                       {"object", "line_item"},
                       {"amount", l.amount()},
                       {"currency", "usd"},
                       {"description", description},
                       {"discount_amounts", json::array{}},
                       {"discountable", true},
                       {"discounts", json::array{}},
                       {"invoice", inv.id},
                       {"livemode", false},
                       {"metadata", json::object{}}};
        if (shape == api_shape::legacy) {
            o["amount_excluding_tax"] = l.amount();
            o["invoice_item"] = opt(l.invoice_item);
            o["period"] = json::object{{"end", l.period_end}, {"start", l.period_start}};
            o["plan"] = recurring(*l.price) ? json::value(render_plan(g_, *l.price)) : json::value(nullptr);
            o["price"] = render_price(g_, *l.price);
            o["proration"] = false;
            o["proration_details"] = json::object{{"credited_items", nullptr}};
            o["quantity"] = l.quantity;
            o["subscription"] = opt(inv.subscription);
            o["subscription_item"] = opt(inv.subscription_item);
            o["tax_amounts"] = json::array{};
            o["tax_rates"] = json::array{};
            o["type"] = sub_line ? "subscription" : "invoiceitem";
            o["unit_amount_excluding_tax"] = std::to_string(l.price->unit_amount);
        } else {
            json::object proration{{"invoice_item", nullptr},
                                   {"proration", false},
                                   {"proration_details", json::object{{"credited_items", nullptr}}}};
            if (sub_line) {
                proration["subscription"] = inv.subscription;
                proration["subscription_item"] = inv.subscription_item;
                o["parent"] = json::object{{"invoice_item_details", nullptr},
                                           {"subscription_item_details", std::move(proration)},
                                           {"type", "subscription_item_details"}};
            } else {
                proration["invoice_item"] = l.invoice_item;
                proration["subscription"] = nullptr;
                o["parent"] = json::object{{"invoice_item_details", std::move(proration)},
                                           {"subscription_item_details", nullptr},
                                           {"type", "invoice_item_details"}};
            }
            o["period"] = json::object{{"end", l.period_end}, {"start", l.period_start}};
            o["pretax_credit_amounts"] = json::array{};
            o["pricing"] = json::object{
                {"price_details", json::object{{"price", l.price->id}, {"product", g_.product_of(*l.price)}}},
                {"type", "price_details"},
                {"unit_amount_decimal", std::to_string(l.price->unit_amount)}};
            o["quantity"] = l.quantity;
            o["subtotal"] = l.amount();
            o["taxes"] = json::array{};
        }
        return o;
    }

    json::object render_invoice(const sim_invoice& inv, api_shape shape) const {
        const std::int64_t total = inv.total();
        const bool paid = inv.paid();
        const std::int64_t amount_due = total;
        const std::int64_t remaining = paid || inv.status == "void" ? 0 : total;
        json::array lines;
        for (const auto& l : inv.lines) lines.push_back(render_line(inv, l, shape));
        json::object o{{"id", inv.id},
                       {"object", "invoice"},
                       {"account_country", "US"},
                       {"account_name", "Stripe Reconciler Demo"},
                       {"amount_due", amount_due},
                       {"amount_paid", paid ? total : 0},
                       {"amount_remaining", remaining},
                       {"amount_shipping", 0},
                       {"application", nullptr},
                       {"attempt_count", inv.attempt_count},
                       {"attempted", inv.attempt_count > 0},
                       {"auto_advance", inv.status == "draft" || inv.status == "open"},
                       {"automatic_tax", json::object{{"enabled", false}, {"liability", nullptr}, {"status", nullptr}}},
                       {"billing_reason", inv.billing_reason}};
        if (shape == api_shape::legacy) o["charge"] = opt(inv.charge);  // removed by basil
        o["collection_method"] = inv.collection_method;
        o["created"] = inv.created;
        o["currency"] = "usd";
        o["custom_fields"] = nullptr;
        o["customer"] = id_;
        o["customer_address"] = nullptr;
        o["customer_email"] = email_;
        o["customer_name"] = name_;
        o["customer_phone"] = nullptr;
        o["customer_shipping"] = nullptr;
        o["customer_tax_exempt"] = "none";
        o["customer_tax_ids"] = json::array{};
        o["default_payment_method"] = nullptr;
        o["default_source"] = nullptr;
        o["default_tax_rates"] = json::array{};
        o["description"] = nullptr;
        o["discounts"] = json::array{};
        o["due_date"] = opt(inv.due_date);
        o["effective_at"] = opt(inv.finalized_at);
        o["ending_balance"] = inv.finalized_at ? json::value(0) : json::value(nullptr);
        o["footer"] = nullptr;
        o["hosted_invoice_url"] = nullptr;
        o["invoice_pdf"] = nullptr;
        o["issuer"] = json::object{{"type", "self"}};
        o["last_finalization_error"] = nullptr;
        o["latest_revision"] = nullptr;
        o["lines"] = json::object{{"object", "list"},
                                  {"data", std::move(lines)},
                                  {"has_more", false},
                                  {"total_count", inv.lines.size()},
                                  {"url", "/v1/invoices/" + inv.id + "/lines"}};
        o["livemode"] = false;
        o["metadata"] = json::object{};
        o["next_payment_attempt"] = nullptr;
        o["number"] = opt(inv.number);
        o["on_behalf_of"] = nullptr;
        if (shape == api_shape::legacy) {
            // Removed by basil, where an InvoicePayment links invoice and payment.
            o["paid"] = paid;
            o["paid_out_of_band"] = false;
            o["payment_intent"] =
                inv.charge.empty() ? json::value(nullptr) : json::value(charge(inv.charge).payment_intent);
        } else {
            o["parent"] = inv.subscription.empty()
                              ? json::value(nullptr)
                              : json::value(json::object{
                                    {"quote_details", nullptr},
                                    {"subscription_details",
                                     json::object{{"metadata", json::object{}}, {"subscription", inv.subscription}}},
                                    {"type", "subscription_details"}});
        }
        o["period_end"] = inv.period_end;
        o["period_start"] = inv.period_start;
        o["post_payment_credit_notes_amount"] = 0;
        o["pre_payment_credit_notes_amount"] = 0;
        o["receipt_number"] = nullptr;
        o["starting_balance"] = 0;
        o["statement_descriptor"] = nullptr;
        o["status"] = inv.status;
        o["status_transitions"] = json::object{{"finalized_at", opt(inv.finalized_at)},
                                               {"marked_uncollectible_at", nullptr},
                                               {"paid_at", opt(inv.paid_at)},
                                               {"voided_at", opt(inv.voided_at)}};
        if (shape == api_shape::legacy) {
            o["subscription"] = opt(inv.subscription);
            o["subscription_details"] = json::object{{"metadata", json::object{}}};
        }
        o["subtotal"] = total;
        o["subtotal_excluding_tax"] = total;
        if (shape == api_shape::legacy) o["tax"] = nullptr;
        o["test_clock"] = nullptr;
        o["total"] = total;
        o["total_discount_amounts"] = json::array{};
        o["total_excluding_tax"] = total;
        if (shape == api_shape::legacy) {
            o["total_tax_amounts"] = json::array{};
        } else {
            o["total_pretax_credit_amounts"] = json::array{};
            o["total_taxes"] = json::array{};
        }
        o["webhooks_delivered_at"] = inv.finalized_at ? json::value(*inv.finalized_at) : json::value(nullptr);
        return o;
    }

    // A charge as it stands after what happened to it so far (refund,
    // dispute). Since API 2022-11-15 a charge's `refunds` list is not
    // included unless expanded, so it is left out. Basil removed `invoice`.
    json::object render_charge(const sim_charge& ch, api_shape shape) const {
        const std::int64_t amount = ch.amount;
        const std::int64_t refunded = ch.refund ? ch.refund->amount : 0;
        json::object o{{"id", ch.id},
                       {"object", "charge"},
                       {"amount", amount},
                       {"amount_captured", amount},
                       {"amount_refunded", refunded},
                       {"application", nullptr},
                       {"application_fee", nullptr},
                       {"application_fee_amount", nullptr},
                       {"balance_transaction", ch.balance_transaction},
                       {"billing_details",
                        json::object{{"address", json::object{{"city", nullptr},
                                                              {"country", nullptr},
                                                              {"line1", nullptr},
                                                              {"line2", nullptr},
                                                              {"postal_code", nullptr},
                                                              {"state", nullptr}}},
                                     {"email", email_},
                                     {"name", name_},
                                     {"phone", nullptr},
                                     {"tax_id", nullptr}}},
                       {"calculated_statement_descriptor", "RECONCILER DEMO"},
                       {"captured", true},
                       {"created", ch.created},
                       {"currency", "usd"},
                       {"customer", id_},
                       {"description", ch.description},
                       {"disputed", ch.dispute.has_value()},
                       {"failure_balance_transaction", nullptr},
                       {"failure_code", nullptr},
                       {"failure_message", nullptr},
                       {"fraud_details", json::object{}}};
        if (shape == api_shape::legacy) o["invoice"] = opt(ch.invoice);  // null for a one-off payment
        const json::object rest{{"livemode", false},
                                {"metadata", json::object{}},
                                {"on_behalf_of", nullptr},
                                {"outcome", json::object{{"advice_code", nullptr},
                                                         {"network_advice_code", nullptr},
                                                         {"network_decline_code", nullptr},
                                                         {"network_status", "approved_by_network"},
                                                         {"reason", nullptr},
                                                         {"risk_level", "normal"},
                                                         {"seller_message", "Payment complete."},
                                                         {"type", "authorized"}}},
                                {"paid", true},
                                {"payment_intent", ch.payment_intent},
                                {"payment_method", payment_method_},
                                {"payment_method_details",
                                 json::object{{"card", json::object{{"brand", "visa"},
                                                                    {"checks",
                                                                     json::object{{"address_line1_check", nullptr},
                                                                                  {"address_postal_code_check", nullptr},
                                                                                  {"cvc_check", "pass"}}},
                                                                    {"country", "US"},
                                                                    {"exp_month", card_exp_month_},
                                                                    {"exp_year", card_exp_year_},
                                                                    {"fingerprint", card_fingerprint_},
                                                                    {"funding", "credit"},
                                                                    {"last4", "4242"},
                                                                    {"network", "visa"}}},
                                              {"type", "card"}}},
                                {"receipt_email", email_},
                                {"receipt_number", nullptr},
                                {"receipt_url", nullptr},
                                {"refunded", refunded == amount},
                                {"review", nullptr},
                                {"shipping", nullptr},
                                {"source_transfer", nullptr},
                                {"statement_descriptor", nullptr},
                                {"statement_descriptor_suffix", nullptr},
                                {"status", "succeeded"},
                                {"transfer_data", nullptr},
                                {"transfer_group", nullptr}};
        o.insert(rest.begin(), rest.end());
        return o;
    }

    json::object render_dispute(const sim_charge& ch) const {
        const auto& d = *ch.dispute;
        return {{"id", d.id},
                {"object", "dispute"},
                {"amount", d.amount},
                {"balance_transactions", json::array{}},
                {"charge", ch.id},
                {"created", d.created},
                {"currency", "usd"},
                {"evidence_details", json::object{{"due_by", d.created + 7 * day},
                                                  {"has_evidence", false},
                                                  {"past_due", false},
                                                  {"submission_count", 0}}},
                {"is_charge_refundable", false},
                {"livemode", false},
                {"metadata", json::object{}},
                {"payment_intent", ch.payment_intent},
                {"reason", "fraudulent"},
                {"status", "needs_response"}};
    }

    // The InvoicePayment of a paid invoice (basil's GET /v1/invoice_payments):
    // its default payment, by the PaymentIntent of its charge, created when
    // the invoice was finalized and paid.
    json::object render_invoice_payment(const sim_invoice& inv) const {
        const sim_charge& ch = charge(inv.charge);
        return {{"id", inv.invoice_payment},
                {"object", "invoice_payment"},
                {"amount_paid", inv.total()},
                {"amount_requested", inv.total()},
                {"created", *inv.finalized_at},
                {"currency", "usd"},
                {"invoice", inv.id},
                {"is_default", true},
                {"livemode", false},
                {"payment", json::object{{"type", "payment_intent"}, {"payment_intent", ch.payment_intent}}},
                {"status", "paid"},
                {"status_transitions", json::object{{"canceled_at", nullptr}, {"paid_at", *inv.paid_at}}}};
    }

    // The app's webhook handler, applied in the order the effects reached the
    // app. Every delivery is recorded in webhook_events, whatever its type
    // (types the app does not handle are recorded and do nothing). Idempotent
    // per invoice like the real handler: a payment row and a grant at most
    // once. A customer without app user: recorded, nothing else.
    void apply_deliveries() {
        std::stable_sort(deliveries_.begin(), deliveries_.end(), [](const auto& a, const auto& b) {
            return a.applied_at != b.applied_at ? a.applied_at < b.applied_at : a.seq < b.seq;
        });
        std::unordered_set<std::string> paid_seen, granted;
        for (auto& d : deliveries_) {
            g_.webhooks.push_back({d.event_id, d.type, d.received_at, d.status, d.attempts, d.last_error});
            if (!has_app_user_) continue;
            if (d.effect.plan) user_.plan = *d.effect.plan;
            if (!d.effect.paid_invoice) continue;
            const auto& inv = invoices_[*d.effect.paid_invoice];
            if (paid_seen.insert(inv.id).second) {
                // Some payments were written by an older app version with the
                // currency upper-cased: the same currency, not a mismatch.
                std::string currency = r_.percent(10) ? "USD" : "usd";
                std::int64_t amount = inv.total();
                if (const auto o = payment_overrides_.find(inv.id); o != payment_overrides_.end()) {
                    amount = o->second.first;
                    currency = o->second.second;
                }
                g_.payments.push_back({inv.id, id_, user_.id, amount, currency, *inv.paid_at});
            }
            if (!d.effect.skip_grant && inv.credits() > 0 && granted.insert(inv.id).second) {
                user_.credit_events.push_back({d.applied_at, g_.new_id("ce_"), inv.credits(), "grant",
                                               "invoice.paid", inv.id, r_.uuid()});
            }
        }
    }

    generator& g_;
    rng& r_;
    std::string id_, email_, name_, invoice_prefix_;
    std::int64_t created_ = 0;
    int next_invoice_number_ = 1;
    std::optional<sim_subscription> sub_;
    std::vector<sim_invoice> invoices_;
    std::vector<sim_charge> charges_;  // creation order
    std::vector<pending_delivery> deliveries_;
    std::int64_t last_sub_event_ = std::numeric_limits<std::int64_t>::min();
    std::int64_t last_received_ = 0;
    std::optional<api_shape> forced_shape_;
    std::size_t index_;
    std::string payment_method_, card_fingerprint_;
    std::int64_t card_exp_month_ = 1, card_exp_year_ = 2030;
    bool has_app_user_ = true;
    bool random_usage_ = true;
    std::vector<usage_plan> scripted_usage_;
    std::vector<credit_event> scripted_credits_;
    std::map<std::string, std::pair<std::int64_t, std::string>> payment_overrides_;
    std::optional<std::size_t> user_index_;
    app_user user_;
    std::string app_plan_;
};

// ----------------------------------------------------------- seeded kinds
//
// One function per seeded kind (and per noise kind). A customer scenario
// gets a fresh Stripe customer and its instance number; even instances use
// the legacy API shape, odd ones basil, so every kind is seen in both shapes.
// An app scenario writes app rows only (users without a Stripe customer,
// webhook_events rows). Each records the findings it seeds; missed_webhook
// findings are derived afterwards from the webhooks the scripts dropped. To
// add a kind: write its function and add a row to `customer_scenarios` or
// `app_scenarios`.

api_shape shape_for(int instance) { return instance % 2 == 0 ? api_shape::legacy : api_shape::basil; }

const price_def& plan_for(int instance) { return instance % 2 == 0 ? pro_price : team_price; }

std::int64_t seats(generator& g, const price_def& p) {
    return p.product == product_line::team ? g.random().between(1, 5) : 1;
}

// The user and customer a finding about this customer names.
void about(json::object& f, const customer_sim& c) {
    f["user_email"] = c.email();
    f["customer"] = c.id();
}

std::int64_t granted_for(const app_user& u, const std::string& source) {
    std::int64_t granted = 0;
    for (const auto& e : u.credit_events)
        if (e.kind == "grant" && e.source == source) granted += e.delta;
    return granted;
}

// A paid invoice at `at` (in the window); `flavor_pack` picks a credit pack
// (free user with an earlier purchase) or a brand-new subscription.
std::string paid_invoice_at(generator& g, customer_sim& c, std::int64_t at, bool flavor_pack, pay_fault fault) {
    rng& r = g.random();
    if (flavor_pack) {
        c.create_customer(std::min(g.now() - r.between(5 * day, 35 * day), at - 3 * day));
        c.buy_pack(c.created() + r.between(hour, 2 * day), r.between(1, 3), pack_outcome::paid);
        return c.buy_pack(at, r.between(1, 3), pack_outcome::paid, fault);
    }
    c.create_customer(std::max(g.window_start() + g.window_margin(), at - r.between(0, 10 * minute)));
    const price_def& p = r.percent(50) ? pro_price : team_price;
    return c.subscribe(at, p, seats(g, p), sub_start::active, fault);
}

// credits_not_granted: the app recorded the payment, then lost the grant.
void seed_grant_missing_payment_recorded(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const std::string inv =
        paid_invoice_at(g, c, g.window_time(100, 900), instance % 2 == 0, pay_fault::grant_missing);
    c.finish();
    g.record_credits_finding(c, c.invoice(inv), false, "grant_missing_payment_recorded");
}

// credits_not_granted + paid_without_entitlement_change: the invoice's
// webhooks never arrived (no payment, no grant, no webhook_events rows), and
// (when the window is 2 hours or longer) invoice.paid is older than the
// webhook grace: a missed_webhook too.
void seed_grant_and_payment_missing(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const std::string id = paid_invoice_at(g, c, g.stale_time(0, 1000), instance % 2 == 1, pay_fault::webhook_missing);
    c.finish();
    const sim_invoice& inv = c.invoice(id);
    g.record_credits_finding(c, inv, true, "grant_and_payment_missing");
    json::object f = new_finding("paid_without_entitlement_change", "invoice", id);
    about(f, c);
    f["credits"] = inv.credits();
    f["amount"] = inv.total();
    f["paid_event"] = inv.paid_event;
    f["always_escalated"] = true;
    f["scenario"] = "grant_and_payment_missing";
    g.add_finding(std::move(f));
}

void start_quiet_subscription(generator& g, customer_sim& c, const price_def& p, std::int64_t qty) {
    const std::int64_t t0 = g.quiet_subscription_start();
    c.create_customer(t0 - g.random().between(0, 2 * day));
    c.subscribe(t0, p, qty, sub_start::active);
}

// tier_mismatch (+ missed_webhook): an upgrade pro -> team whose webhook
// never arrived.
void seed_missed_upgrade(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    start_quiet_subscription(g, c, pro_price, 1);
    const std::string ev = c.change_plan(g.stale_time(100, 900), team_price, seats(g, team_price), delivery::dropped());
    c.finish();
    g.record_tier_finding(c, "pro", "team", ev, "missed_upgrade");
}

// tier_mismatch (+ missed_webhook): a cancellation whose webhook never arrived.
void seed_missed_cancellation(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const price_def& p = plan_for(instance);
    start_quiet_subscription(g, c, p, seats(g, p));
    const std::string ev = c.cancel(g.stale_time(100, 900), delivery::dropped());
    c.finish();
    g.record_tier_finding(c, p.tier, "free", ev, "missed_cancellation");
}

// tier_mismatch: two plan changes in the window; the older event arrives
// after the newer one and the app applies it last.
void seed_late_older_event(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const price_def& a = plan_for(instance);
    const price_def& b = &a == &pro_price ? team_price : pro_price;
    const std::int64_t qa = seats(g, a);
    start_quiet_subscription(g, c, a, qa);
    const std::int64_t t1 = g.window_time(50, 400);
    const std::int64_t t2 = g.window_time(500, 800);
    c.change_plan(t1, b, seats(g, b), delivery::late(t2 + g.random().between(30, 250)));
    const std::string newest = c.change_plan(t2, a, qa);
    c.finish();
    g.record_tier_finding(c, b.tier, a.tier, newest, "late_older_event");
}

// A paid invoice in the window, delivered and granted, whose payments row
// then records `amount` / `currency`.
void seed_payment_row_differs(generator& g, customer_sim& c, int instance, std::string_view kind,
                              std::int64_t (*amount)(generator&, std::int64_t total, int instance),
                              std::string_view currency) {
    c.force_shape(shape_for(instance));
    const std::string id = paid_invoice_at(g, c, g.window_time(100, 900), instance % 2 == 0, pay_fault::none);
    const std::int64_t total = c.invoice(id).total();
    const std::int64_t recorded = amount(g, total, instance);
    c.override_payment(id, recorded, std::string(currency));
    c.finish();
    if (granted_for(c.final_user(), id) != c.invoice(id).credits())
        throw std::logic_error("generator: " + std::string(kind) + " invoice " + id + " is not granted");
    json::object f = new_finding(kind, "invoice", id);
    about(f, c);
    f["stripe_amount"] = total;
    f["app_amount"] = recorded;
    f["stripe_currency"] = "usd";
    f["app_currency"] = currency;
    f["scenario"] = kind;
    g.add_finding(std::move(f));
}

// amount_mismatch: the app stored the amount in major units (even) or after
// a discount it applied locally (odd).
void seed_amount_mismatch(generator& g, customer_sim& c, int instance) {
    seed_payment_row_differs(
        g, c, instance, "amount_mismatch",
        [](generator& gen, std::int64_t total, int k) {
            return k % 2 == 0 ? total / 100 : total - 100 * gen.random().between(1, 5);
        },
        "usd");
}

// currency_mismatch: the app stored the checkout page's display currency.
void seed_currency_mismatch(generator& g, customer_sim& c, int instance) {
    seed_payment_row_differs(
        g, c, instance, "currency_mismatch", [](generator&, std::int64_t total, int) { return total; },
        instance % 2 == 0 ? "eur" : "GBP");
}

// orphan_local_payment: a payments row paid in the window for an invoice
// Stripe never had (even: a checkout against another Stripe account), or for
// a pack invoice Stripe shows as void (odd: the app wrote the row when the
// checkout returned, copying amount_paid, still 0, and the invoice was voided).
void seed_orphan_local_payment(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    rng& r = g.random();
    c.create_customer(g.before_window_time() - r.between(hour, 5 * day));
    std::string id;
    app_payment row;
    if (instance % 2 == 0) {
        c.buy_pack(c.created() + r.between(minute, hour), r.between(1, 3), pack_outcome::paid);
        c.finish();
        id = g.new_id("in_");  // registered, so no Stripe invoice gets it
        row = {id, c.id(), c.user_id(), pack_price.unit_amount * r.between(1, 3), "usd", g.window_time(100, 900)};
    } else {
        id = c.buy_pack(g.window_time(100, 800), r.between(1, 3), pack_outcome::voided);
        c.finish();
        const sim_invoice& inv = c.invoice(id);
        row = {id, c.id(), c.user_id(), 0, "usd", *inv.finalized_at + r.between(5, 50)};  // before the void
    }
    g.payments.push_back(row);
    json::object f = new_finding("orphan_local_payment", "invoice", id);
    about(f, c);
    f["stripe_status"] = instance % 2 == 0 ? json::value(nullptr) : json::value("void");
    f["app_amount"] = row.amount;
    f["paid_at"] = row.paid_at;
    f["scenario"] = instance % 2 == 0 ? "invoice_unknown_to_stripe" : "invoice_void";
    g.add_finding(std::move(f));
}

// One charge taken back in the window (refunded or disputed), and the
// finding it seeds once the customer's life is played.
struct takeback {
    std::string charge;
    std::int64_t at = 0;
    api_shape shape = api_shape::legacy;  // the event's API version
    bool dispute = false;
    std::int64_t refund = 0;  // refunds: the amount, 0 = all of it
    std::string_view scenario;
    std::string event;  // the charge.refunded / charge.dispute.created event, once emitted
};

// The finding one takeback seeds. A pack's charge: refund_or_dispute, by the
// reconciler's rule (clawback): revoke min(due, ai_credits) where due =
// floor(granted x taken / amount); nothing revocable (ai_credits <= 0): no
// correction, flagged with every credit due unrecovered. A one-off charge
// (no invoice): charge_without_invoice, flagged.
json::object takeback_finding(const customer_sim& c, const takeback& t, std::int64_t ai_credits) {
    const sim_charge& ch = c.charge(t.charge);
    const std::int64_t taken = ch.taken();
    const bool one_off = ch.invoice.empty();
    json::object f = new_finding(one_off ? "charge_without_invoice" : "refund_or_dispute", "charge", ch.id);
    about(f, c);
    if (one_off) {
        f["charge"] = ch.id;
        f["reason"] = t.dispute ? "dispute" : "refund";
    } else {
        const std::int64_t granted = granted_for(c.final_user(), ch.invoice);
        const std::int64_t due = granted * taken / ch.amount;
        const std::int64_t revoke = std::min(due, std::max<std::int64_t>(0, ai_credits));
        if (granted <= 0 || due <= 0)
            throw std::logic_error("generator: " + std::string(t.scenario) + " charge " + ch.id +
                                   " has no credits due back");
        if (revoke > 0)
            f["correction"] =
                json::object{{"kind", "revoke_credits"}, {"credits", revoke}, {"unrecovered", due - revoke}};
        else
            f["unrecovered"] = due;
        f["invoice"] = ch.invoice;
        f["granted"] = granted;
        f["credits_due"] = due;
        f["ai_credits"] = ai_credits;
    }
    f["payment_intent"] = ch.payment_intent;
    f["event"] = t.event;
    f["event_type"] = t.dispute ? "charge.dispute.created" : "charge.refunded";
    f["amount"] = ch.amount;
    f[t.dispute ? "amount_disputed" : "amount_refunded"] = taken;
    f["scenario"] = t.scenario;
    return f;
}

// refund_or_dispute (+ charge_without_invoice): credit packs bought before
// the window, taken back in it. Per variant (instance % 3):
//  0 credits unused (the balance covers everything due back, revoked in
//    full): a full refund, a refund of two fifths (legacy event) and one of
//    a third (basil event; the credits due back round down), and a dispute
//    among the clustered ones (basil);
//  1 credits partly spent: a full refund after most credits were spent (the
//    balance is revoked, the rest unrecovered);
//  2 credits all spent (balance exactly 0): a full refund, flagged only.
// The first three instances also carry the one-off kinds: 1 a one-off
// payment (no invoice) disputed among the clustered disputes (legacy event);
// 2 a second pack disputed far from other disputes (basil, flagged only) and
// a one-off payment refunded (basil event). Other events use the instance's
// shape (see shape_for).
void seed_refund_or_dispute(generator& g, customer_sim& c, int instance) {
    const api_shape shape = shape_for(instance);
    c.force_shape(shape);
    rng& r = g.random();
    const int variant = instance % 3;
    const bool extras = instance < 3;
    c.create_customer(g.before_window_time() - r.between(2 * hour, 3 * day));
    // Purchases a few minutes apart, all settled long before the window.
    std::int64_t t = c.created();
    const auto next_time = [&] { return t += r.between(minute, 20 * minute); };
    const auto pack = [&](std::int64_t qty) {
        return c.invoice(c.buy_pack(next_time(), qty, pack_outcome::paid)).charge;
    };
    const auto one_off = [&] {
        const std::int64_t at = next_time();
        return c.one_off_charge(at, r.between(5, 50) * 100, "Onboarding session (one-off)");
    };

    std::vector<takeback> takebacks;
    const auto add = [&](std::string charge, std::int64_t at, api_shape s, bool dispute, std::int64_t refund,
                         std::string_view scenario) {
        takebacks.push_back({std::move(charge), at, s, dispute, refund, scenario, {}});
    };
    if (variant == 0) {
        pack(r.between(1, 3));  // kept: the balance covers everything due back
        const std::string full = pack(r.between(1, 3)), fifths = pack(r.between(1, 3)), third = pack(r.between(1, 2));
        const std::string disputed = pack(r.between(1, 3));
        add(full, g.window_time(300, 700), shape, false, 0, "refund_credits_unused");
        add(fifths, g.window_time(300, 700), api_shape::legacy, false, c.charge(fifths).amount * 2 / 5,
            "refund_partial_credits_unused");
        add(third, g.window_time(300, 700), api_shape::basil, false, c.charge(third).amount / 3,
            "refund_partial_credits_unused");
        add(disputed, g.dispute_cluster_time(), api_shape::basil, true, 0, "dispute_clustered");
        for (auto k = r.between(1, 2); k > 0; --k)
            c.script_usage({r.between(t + 10 * minute, g.window_start() - 10 * minute), r.between(20, 120), false});
    } else if (variant == 1) {
        const std::string spent = pack(2);
        if (extras) {
            std::string charge = one_off();
            add(std::move(charge), g.dispute_cluster_time(), api_shape::legacy, true, 0, "one_off_disputed");
        }
        add(spent, g.window_time(300, 700), shape, false, 0, "refund_credits_spent");
        for (int i = 0; i < 3; ++i)
            c.script_usage({r.between(t + 10 * minute, g.window_start() - 10 * minute), r.between(150, 250), false});
    } else {
        const std::string spent = pack(r.between(1, 3));
        std::int64_t credits = c.invoice(c.charge(spent).invoice).credits();
        if (extras) {
            const std::string lone = pack(r.between(1, 3));
            credits += c.invoice(c.charge(lone).invoice).credits();
            add(lone, g.lone_dispute_time(), api_shape::basil, true, 0, "dispute_lone");
            std::string charge = one_off();
            add(std::move(charge), g.window_time(300, 700), api_shape::basil, false, 0, "one_off_refunded");
        }
        add(spent, g.window_time(300, 700), shape, false, 0, "refund_credits_all_spent");
        // Every credit spent, in two requests: the balance is exactly 0.
        const std::int64_t first = r.between(1, credits - 1);
        for (const std::int64_t spend : {first, credits - first})
            c.script_usage({r.between(t + 10 * minute, g.window_start() - 10 * minute), spend, false});
    }
    // Events in time order: a customer's webhooks arrive in order.
    std::stable_sort(takebacks.begin(), takebacks.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    for (auto& tb : takebacks) {
        c.force_shape(tb.shape);
        tb.event = tb.dispute ? c.dispute(tb.at, tb.charge) : c.refund(tb.at, tb.charge, tb.refund);
    }
    c.force_shape(shape);
    c.finish();

    const app_user& u = c.final_user();
    const std::int64_t ai_credits = sum_of_deltas(u) + u.balance_offset;
    std::int64_t revoked = 0;
    for (const auto& tb : takebacks) {
        json::object f = takeback_finding(c, tb, ai_credits);
        if (f.at("kind") == "refund_or_dispute") {
            const auto& corr = f.at("correction");
            const std::int64_t revoke = corr.is_null() ? 0 : corr.at("credits").as_int64();
            const std::int64_t due = f.at("credits_due").as_int64();
            revoked += revoke;
            const bool as_planned = variant == 0   ? revoke == due
                                    : variant == 1 ? revoke > 0 && revoke < due
                                                   : ai_credits == 0 && revoke == 0;
            if (!as_planned)
                throw std::logic_error("generator: refund_or_dispute script lost its shape for " + tb.charge);
        }
        g.add_finding(std::move(f));
    }
    // The reconciler revokes each finding from the balance it reads: they all fit.
    if (revoked > std::max<std::int64_t>(0, ai_credits))
        throw std::logic_error("generator: refund_or_dispute revokes more than the balance of " + c.email());
}

// Noise: a refunded pack whose credits were already revoked (source = the
// charge), by support a few minutes after the refund. The first instance
// also holds the one subscription on price_team_yearly (unknown_price
// without invoice in the window): started before the window, a seat change
// in it.
void noise_refund_already_revoked(generator& g, customer_sim& c, int instance) {
    rng& r = g.random();
    const std::int64_t bought = g.before_window_time();
    c.create_customer(bought - r.between(2 * hour, 3 * day));
    c.buy_pack(c.created() + r.between(minute, hour), r.between(1, 3), pack_outcome::paid);
    std::int64_t seats_now = 0;
    if (instance == 0) {
        seats_now = seats(g, team_yearly_price);
        c.subscribe(r.between(c.created() + hour + minute, bought - minute), team_yearly_price, seats_now,
                    sub_start::active);
    }
    const std::string id = c.buy_pack(bought, r.between(1, 3), pack_outcome::paid);
    c.script_usage({r.between(bought + 10 * minute, g.window_start() - 10 * minute), r.between(20, 120), false});
    const std::int64_t at = g.window_time(100, 600);
    const std::string charge = c.invoice(id).charge;
    c.refund(at, charge);
    c.add_credit_event(new_credit_event(g, at + r.between(minute, 5 * minute), -c.invoice(id).credits(), "revoke",
                                        "charge.refunded", charge));
    if (instance == 0) c.change_plan(g.window_time(650, 950), team_yearly_price, seats_now % 5 + 1);
    c.finish();
}

// unknown_customer: a Stripe customer the app has no user for, by id or by
// email. Even: created in the window, nothing else; odd: created before the
// window, buys a credit pack in the window (its webhooks are recorded, and
// do nothing: no user).
void seed_unknown_customer(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    rng& r = g.random();
    c.without_app_user();
    std::string invoice;
    if (instance % 2 == 0) {
        c.create_customer(g.window_time(100, 900));
    } else {
        c.create_customer(g.before_window_time());
        invoice = c.buy_pack(g.window_time(100, 900), r.between(1, 3), pack_outcome::paid);
    }
    c.finish();
    json::object f = new_finding("unknown_customer", "customer", c.id());
    f["customer"] = c.id();
    f["email"] = c.email();
    f["created"] = c.created();
    f["invoice"] = invoice.empty() ? json::value(nullptr) : json::value(invoice);
    f["scenario"] = instance % 2 == 0 ? "created_in_window" : "invoice_in_window";
    g.add_finding(std::move(f));
}

// Noise: a customer created in the window whose user the app knows by email
// only (stripe_customer_id never stored): not unknown.
void noise_customer_matched_by_email(generator& g, customer_sim& c, int) {
    c.unlink_app_user();
    c.create_customer(g.window_time(100, 900));
    c.finish();
}

// webhook_failed_twice: the handler failed 2-4 times on an event in the
// window and the row stays `failed`; an engineer replayed it with an admin
// tool, so its effect is in the app (no other finding). Even: a pack's
// invoice.paid (payment and grant present); odd: a plan change (plan set),
// on a subscription whose handler also failed on a change before the window
// (received before the window: no finding).
void seed_webhook_failed_twice(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    rng& r = g.random();
    const int attempts = static_cast<int>(r.between(2, 4));
    const std::int64_t at = g.window_time(100, 600);
    const std::int64_t replay = at + r.between(5 * minute, 15 * minute);
    std::string event, type;
    if (instance % 2 == 0) {
        c.create_customer(g.before_window_time() - r.between(hour, 5 * day));
        const std::string id = c.buy_pack(at, r.between(1, 3), pack_outcome::paid, pay_fault::none,
                                          delivery::failed_then_replayed(replay, attempts));
        event = c.invoice(id).paid_event;
        type = "invoice.paid";
    } else {
        start_quiet_subscription(g, c, pro_price, 1);
        const std::int64_t early = r.between(c.subscription_created() + 30 * minute, g.window_start() - 90 * minute);
        c.change_plan(early, team_price, seats(g, team_price),
                      delivery::failed_then_replayed(early + r.between(5 * minute, 20 * minute),
                                                     static_cast<int>(r.between(2, 3))));
        event = c.change_plan(at, pro_price, 1, delivery::failed_then_replayed(replay, attempts));
        type = "customer.subscription.updated";
    }
    c.finish();
    json::object f = new_finding("webhook_failed_twice", "event", event);
    about(f, c);
    f["event_type"] = type;
    f["attempts"] = attempts;
    f["scenario"] = instance % 2 == 0 ? "invoice_paid_replayed" : "subscription_updated_replayed";
    g.add_finding(std::move(f));
}

// Noise: several changes in the window, delivered in order; the newest state
// is what the app holds.
void noise_flapping_subscription(generator& g, customer_sim& c, int instance) {
    const price_def& a = plan_for(instance);
    const price_def& b = &a == &pro_price ? team_price : pro_price;
    const std::int64_t qa = seats(g, a);
    const std::int64_t qb = seats(g, b);
    start_quiet_subscription(g, c, a, qa);
    c.change_plan(g.window_time(50, 300), b, qb);
    // A seat change in between (team either way), so every event changes something.
    const std::int64_t seats_before = &b == &team_price ? qb : qa;
    c.change_plan(g.window_time(350, 600), team_price, seats_before % 5 + 1);
    c.change_plan(g.window_time(650, 900), a, qa);
    c.finish();
}

// Noise: customer, subscription (incomplete -> active in one second) and
// its paid invoice all in one second, shared by every instance. The second
// instance signs up on price_pro_yearly (unknown_price), active at once: one
// subscription event, so which state is the newest is never a tie.
void noise_same_second_signup(generator& g, customer_sim& c, int instance) {
    const std::int64_t at = g.same_second();
    c.create_customer(at);
    if (instance == 1) {
        c.subscribe(at, pro_yearly_price, 1, sub_start::active);
    } else {
        const price_def& p = plan_for(instance);
        c.subscribe(at, p, seats(g, p), sub_start::incomplete_then_active);
    }
    c.finish();
}

// Noise: unpaid invoices. Even: a user's open and void credit packs (next
// to a paid one in the window), who subscribes to price_pro_yearly in the
// window (unknown_price: paid, granted by the app, no grant expected by the
// reconciler); odd: a renewal whose payment failed, leaving an open invoice
// and a past_due subscription (keeps its tier).
void noise_unpaid_invoices(generator& g, customer_sim& c, int instance) {
    rng& r = g.random();
    if (instance % 2 == 0) {
        c.create_customer(g.now() - r.between(10 * day, 35 * day));
        c.buy_pack(c.created() + r.between(hour, 3 * day), r.between(1, 3), pack_outcome::open);
        c.buy_pack(g.window_time(0, 400), 1, pack_outcome::voided);
        c.subscribe(g.window_time(420, 480), pro_yearly_price, 1, sub_start::active);
        c.buy_pack(g.window_time(500, 900), r.between(1, 3), pack_outcome::paid);
    } else {
        const std::int64_t renewal = g.now() - r.between(2 * day, 9 * day);
        const std::int64_t t0 = renewal - billing_period;
        c.create_customer(t0 - r.between(0, day));
        c.subscribe(t0, pro_price, 1, sub_start::active);
        c.fail_next_renewal();
    }
    c.finish();
}

// ------------------------------------------------------ app-only scenarios

// An app user without Stripe customer who signed up before the window with
// a signup bonus of credits.
app_user seeded_app_user(generator& g, std::int64_t bonus) {
    app_user u = g.new_app_user(g.before_window_time() - g.random().between(hour, 3 * day));
    u.credit_events.push_back(new_credit_event(g, u.created_at, bonus, "grant", "signup_bonus", "signup"));
    return u;
}

// Usage between the signup and the window.
usage_plan usage_before_window(generator& g, const app_user& u, usage_fault fault = usage_fault::none) {
    rng& r = g.random();
    return {r.between(u.created_at + 10 * minute, g.window_start() - 10 * minute), r.between(20, 150), false, fault};
}
usage_plan usage_in_window(generator& g, std::int64_t lo_pm, std::int64_t hi_pm, usage_fault fault = usage_fault::none) {
    const std::int64_t at = g.window_time(lo_pm, hi_pm);
    return {at, g.random().between(20, 150), false, fault};
}

json::object user_finding(std::string_view kind, const app_user& u) {
    json::object f = new_finding(kind, "user", u.email);
    f["user_email"] = u.email;
    return f;
}

// credits_not_decrementing: usage and consumes in the window that do not
// match one to one. Even: a request logged in ai_usage whose consume was
// lost; odd: a consume whose source is no ai_usage request_id.
void seed_credits_not_decrementing(generator& g, int instance) {
    app_user u = seeded_app_user(g, g.random().between(800, 1500));
    const usage_fault fault = instance % 2 == 0 ? usage_fault::consume_missing : usage_fault::usage_missing;
    const auto outcomes = play_usage(g, u,
                                     {usage_before_window(g, u), usage_in_window(g, 100, 300),
                                      usage_in_window(g, 400, 600, fault), usage_in_window(g, 700, 900)});
    json::array usage_without_consume, consume_without_usage;
    for (const auto& o : outcomes) {
        if (o.fault == usage_fault::consume_missing) usage_without_consume.push_back(json::value(o.request_id));
        if (o.fault == usage_fault::usage_missing) consume_without_usage.push_back(json::value(o.credit_event_id));
    }
    json::object f = user_finding("credits_not_decrementing", u);
    f["usage_without_consume"] = std::move(usage_without_consume);
    f["consume_without_usage"] = std::move(consume_without_usage);
    f["scenario"] = instance % 2 == 0 ? "usage_without_consume" : "consume_without_usage";
    g.users.push_back(std::move(u));
    g.add_finding(std::move(f));
}

// negative_or_stuck_balance. Even: two requests in the window overdraw the
// balance (events consistent), and a third request's consume was lost — the
// credits_not_decrementing symptom, reported as this kind only (precedence).
// Odd: stuck: consumes before the window, then usage in the window and not
// a single consume in it.
void seed_negative_or_stuck_balance(generator& g, int instance) {
    rng& r = g.random();
    app_user u;
    std::vector<usage_plan> plan;
    if (instance % 2 == 0) {
        const std::int64_t bonus = r.between(100, 300);
        u = seeded_app_user(g, bonus);
        const std::int64_t first = bonus * 3 / 5;
        plan = {{g.window_time(100, 300), first, false, usage_fault::none},
                {g.window_time(400, 600), bonus - first + r.between(30, 120), false, usage_fault::none},
                usage_in_window(g, 700, 900, usage_fault::consume_missing)};
    } else {
        u = seeded_app_user(g, r.between(500, 1000));
        plan = {usage_before_window(g, u), usage_before_window(g, u),
                usage_in_window(g, 100, 400, usage_fault::consume_missing),
                usage_in_window(g, 500, 900, usage_fault::consume_missing)};
    }
    play_usage(g, u, std::move(plan));
    const std::int64_t ai_credits = sum_of_deltas(u);
    if ((instance % 2 == 0) != (ai_credits < 0)) throw std::logic_error("generator: negative balance script broke");
    json::object f = user_finding("negative_or_stuck_balance", u);
    f["ai_credits"] = ai_credits;
    f["reason"] = instance % 2 == 0 ? "negative" : "stuck";
    f["scenario"] = instance % 2 == 0 ? "negative_balance" : "stuck_usage";
    g.users.push_back(std::move(u));
    g.add_finding(std::move(f));
}

// balance_drift: usage in the window (consistent), and ai_credits written
// outside the log. Even: support added credits to the balance without a
// credit event; odd: the last request was decremented twice from the
// balance, logged once. The balance stays >= 0.
void seed_balance_drift(generator& g, int instance) {
    app_user u = seeded_app_user(g, g.random().between(500, 1000));
    const auto outcomes = play_usage(g, u, {usage_before_window(g, u), usage_in_window(g, 200, 800)});
    u.balance_offset = instance % 2 == 0 ? g.random().between(1, 5) * 100 : -outcomes.back().credits;
    const std::int64_t sum = sum_of_deltas(u);
    json::object f = user_finding("balance_drift", u);
    f["ai_credits"] = sum + u.balance_offset;
    f["sum_of_deltas"] = sum;
    f["scenario"] = instance % 2 == 0 ? "unlogged_support_credit" : "double_decrement";
    g.users.push_back(std::move(u));
    g.add_finding(std::move(f));
}

// missing_correlation_id: one credit event in the window without one. Even:
// a consume with correlation_id ""; odd: a support adjustment without the key.
void seed_missing_correlation_id(generator& g, int instance) {
    rng& r = g.random();
    app_user u = seeded_app_user(g, r.between(500, 1000));
    std::string id, kind;
    if (instance % 2 == 0) {
        const auto outcomes = play_usage(g, u,
                                         {usage_before_window(g, u), usage_in_window(g, 100, 400, usage_fault::empty_correlation),
                                          usage_in_window(g, 500, 900)});
        for (const auto& o : outcomes)
            if (o.fault == usage_fault::empty_correlation) id = o.credit_event_id;
        kind = "consume";
    } else {
        credit_event e = new_credit_event(g, g.window_time(100, 900), r.between(1, 4) * 50, "adjust", "support_goodwill",
                                          "support:T-" + std::to_string(r.between(10000, 99999)));
        e.correlation_id.reset();
        id = e.id;
        kind = "adjust";
        u.credit_events.push_back(std::move(e));
        play_usage(g, u, {usage_before_window(g, u), usage_in_window(g, 100, 900)});
    }
    json::object f = new_finding("missing_correlation_id", "credit_event", id);
    f["user_email"] = u.email;
    f["credit_event_kind"] = kind;
    f["correlation_id"] = instance % 2 == 0 ? json::value("") : json::value(nullptr);
    f["scenario"] = instance % 2 == 0 ? "empty_correlation_id" : "absent_correlation_id";
    g.users.push_back(std::move(u));
    g.add_finding(std::move(f));
}

// webhook_signature_failures: 3-5 deliveries in the window whose signature
// did not verify (forged event ids, no such Stripe event), and one before
// the window, which does not count.
void seed_webhook_signature_failures(generator& g, int) {
    rng& r = g.random();
    const std::string error = "No signatures found matching the expected signature for payload";
    const auto count = r.between(signature_failure_threshold, signature_failure_threshold + 2);
    json::array ids;
    for (std::int64_t i = 0; i < count; ++i) {
        std::string id = g.new_id("evt_");
        ids.push_back(json::value(id));
        g.webhooks.push_back({std::move(id), i % 2 == 0 ? "invoice.paid" : "customer.subscription.updated",
                              g.window_time(50, 950), "signature_failed", 1, error});
    }
    g.webhooks.push_back({g.new_id("evt_"), "invoice.paid", g.before_window_time(), "signature_failed", 1, error});
    json::object f = new_finding("webhook_signature_failures", "webhook_endpoint", "webhook_endpoint");
    f["count"] = count;
    f["threshold"] = signature_failure_threshold;
    f["event_ids"] = std::move(ids);
    f["scenario"] = "forged_deliveries";
    g.add_finding(std::move(f));
}

// ---------------------------------------------------------- scenario tables

struct customer_scenario {
    std::string_view name;
    void (*run)(generator&, customer_sim&, int);
    int min_instances;  // per dataset; more with more customers
};

constexpr std::array<customer_scenario, 16> customer_scenarios{{
    {"grant_missing_payment_recorded", seed_grant_missing_payment_recorded, 2},
    {"grant_and_payment_missing", seed_grant_and_payment_missing, 2},
    {"missed_upgrade", seed_missed_upgrade, 2},
    {"missed_cancellation", seed_missed_cancellation, 2},
    {"late_older_event", seed_late_older_event, 2},
    {"amount_mismatch", seed_amount_mismatch, 2},
    {"currency_mismatch", seed_currency_mismatch, 2},
    {"orphan_local_payment", seed_orphan_local_payment, 2},
    {"refund_or_dispute", seed_refund_or_dispute, 3},
    {"unknown_customer", seed_unknown_customer, 2},
    {"webhook_failed_twice", seed_webhook_failed_twice, 2},
    {"noise_flapping_subscription", noise_flapping_subscription, 1},
    {"noise_same_second_signup", noise_same_second_signup, 2},
    {"noise_unpaid_invoices", noise_unpaid_invoices, 2},
    {"noise_refund_already_revoked", noise_refund_already_revoked, 1},
    {"noise_customer_matched_by_email", noise_customer_matched_by_email, 1},
}};

struct app_scenario {
    std::string_view name;
    void (*run)(generator&, int);
    int min_instances;
    bool scales;  // more with more customers
};

constexpr std::array<app_scenario, 5> app_scenarios{{
    {"credits_not_decrementing", seed_credits_not_decrementing, 2, true},
    {"negative_or_stuck_balance", seed_negative_or_stuck_balance, 2, true},
    {"balance_drift", seed_balance_drift, 2, true},
    {"missing_correlation_id", seed_missing_correlation_id, 2, true},
    {"webhook_signature_failures", seed_webhook_signature_failures, 1, false},
}};

// About 1% of customers per scenario, and at least its minimum.
int instances(int min_instances, int customers) { return std::max(min_instances, customers / 100); }

// Every customer scenario's minimum needs its own customer.
constexpr int min_customers() {
    int n = 0;
    for (const auto& s : customer_scenarios) n += s.min_instances;
    return n;
}

// ------------------------------------------------------- generator methods

// A customer with no fault: random but consistent.
void generator::run_generic(customer_sim& c) {
    rng& r = rng_;
    const std::int64_t latest = now_ - 2 * minute;
    c.create_customer(r.between(now_ - history, latest));
    const std::int64_t created = c.created();

    struct action {
        std::int64_t at;
        int what;  // 0 pack, 1 change plan, 2 cancel
    };
    std::vector<action> actions;
    const bool paying = r.percent(70);
    if (paying) {
        std::int64_t t0 = r.percent(30) ? created : created + r.between(minute, 3 * day);
        if (t0 > latest) t0 = created;
        const price_def& p = r.percent(60) ? pro_price : team_price;
        const sub_start start = r.percent(15)   ? sub_start::trialing
                                : r.percent(30) ? sub_start::incomplete_then_active
                                                : sub_start::active;
        c.subscribe(t0, p, seats(*this, p), start);
        if (r.percent(5)) c.fail_next_renewal();
        std::int64_t from = t0 + hour;
        if (from < latest && r.percent(10)) {
            from = r.between(from, latest);
            actions.push_back({from, 1});
            from += hour;
        }
        if (from < latest && r.percent(10)) actions.push_back({r.between(from, latest), 2});
    }
    const int packs = paying ? (r.percent(10) ? 1 : 0) : (r.percent(25) ? static_cast<int>(r.between(1, 2)) : 0);
    for (int i = 0; i < packs && created + minute < latest; ++i) actions.push_back({r.between(created + minute, latest), 0});
    std::stable_sort(actions.begin(), actions.end(), [](const action& a, const action& b) { return a.at < b.at; });

    bool canceled = false;
    for (const auto& a : actions) {
        if (a.what == 0) {
            const std::int64_t roll = r.between(0, 99);
            const pack_outcome outcome = roll < 90 ? pack_outcome::paid : roll < 95 ? pack_outcome::open : pack_outcome::voided;
            c.buy_pack(a.at, r.between(1, 3), outcome);
        } else if (!canceled && a.what == 1) {
            const price_def& p = r.percent(50) ? pro_price : team_price;
            c.change_plan(a.at, p, seats(*this, p));
        } else if (!canceled && a.what == 2) {
            c.cancel(a.at);
            canceled = true;
        }
    }
    c.finish();
}

void generator::run_generic_app_user() {
    app_user u = new_app_user(rng_.between(now_ - history, now_ - 1));
    if (rng_.percent(60)) {
        u.credit_events.push_back(
            new_credit_event(*this, u.created_at, rng_.between(1, 5) * 100, "grant", "signup_bonus", "signup"));
        play_usage(*this, u, random_usage(*this, u));
    }
    users.push_back(std::move(u));
}

void generator::run() {
    for (auto& p : products_) p = new_id("prod_");
    configure_portal();

    // Which customers play which seeded scenario: a seeded shuffle.
    std::vector<std::size_t> order(static_cast<std::size_t>(customer_count_));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[static_cast<std::size_t>(rng_.between(0, static_cast<std::int64_t>(i) - 1))]);
    std::vector<std::pair<int, int>> role(order.size(), {-1, 0});  // scenario, instance
    std::size_t next = 0;
    for (std::size_t s = 0; s < customer_scenarios.size(); ++s)
        for (int k = 0; k < instances(customer_scenarios[s].min_instances, customer_count_); ++k)
            role[order.at(next++)] = {static_cast<int>(s), k};

    for (std::size_t i = 0; i < order.size(); ++i) {
        customer_sim c(*this, i);
        if (role[i].first < 0) run_generic(c);
        else customer_scenarios[static_cast<std::size_t>(role[i].first)].run(*this, c, role[i].second);
    }

    // App users without a Stripe customer: the seeded ones, then a few who
    // never reached checkout (some with a signup bonus they use).
    for (const auto& s : app_scenarios) {
        const int n = s.scales ? instances(s.min_instances, customer_count_) : s.min_instances;
        for (int k = 0; k < n; ++k) s.run(*this, k);
    }
    const int app_only = std::max(2, customer_count_ / 50);
    for (int k = 0; k < app_only; ++k) run_generic_app_user();

    record_missed_webhooks();
    record_unknown_price_findings();
    record_portal_findings();
}

// The account's Billing Portal: an older configuration, deactivated, and the
// active one, the default unless the options say otherwise. The active one
// still offers an archived price next to the current ones (the portal keeps
// offering what it was configured with).
void generator::configure_portal() {
    portal_configuration old{new_id("bpc_"), "Portal 2023", false, false, now_ - 380 * day, now_ - 90 * day,
                             {&archived_pro_price, &team_price}};
    portal_configuration current{new_id("bpc_"), "Self-service plans", true, portal_default_, now_ - 90 * day,
                                 now_ - 40 * day, {&pro_price, &archived_pro_price, &team_price}};
    portal_configurations = {std::move(old), std::move(current)};
}

const std::string& generator::session_configuration() const {
    for (const auto& c : portal_configurations)
        if (c.active) return c.id;
    throw std::logic_error("generator: no active billing portal configuration for sessions");
}

void generator::record_unknown_price_use(const price_def& p, const std::string& customer, const std::string& invoice,
                                         const std::string& subscription) {
    auto& uses = unknown_prices_[p.id];
    uses.customers.insert(customer);
    if (!invoice.empty()) uses.invoices.insert(invoice);
    if (!subscription.empty()) uses.subscriptions.insert(subscription);
}

// unknown_price: one finding per price the reconciler does not map that the
// window's paid invoices or subscriptions use. The hosting noise scripts
// promise two customers with invoice and subscription on price_pro_yearly
// and one subscription, no invoice, on price_team_yearly: fail loudly if a
// script stops delivering that.
void generator::record_unknown_price_findings() {
    const auto uses_of = [&](const price_def& p) {
        const auto it = unknown_prices_.find(p.id);
        return it == unknown_prices_.end() ? unknown_price_uses{} : it->second;
    };
    const auto pro = uses_of(pro_yearly_price), team = uses_of(team_yearly_price);
    if (pro.customers.size() < 2 || pro.invoices.size() < 2 || pro.subscriptions.size() < 2 ||
        team.subscriptions.size() != 1 || !team.invoices.empty())
        throw std::logic_error("generator: the unknown_price scripts lost their shape");
    for (const auto& p : price_table) {
        const auto it = unknown_prices_.find(p.id);
        if (p.mapped || it == unknown_prices_.end()) continue;
        json::object f = new_finding("unknown_price", "price", p.id);
        f["scenario"] = "unknown_price";
        f["evidence"] = json::object{{"price", p.id},
                                     {"nickname", p.nickname},
                                     {"product", product_of(p)},
                                     {"customers", it->second.customers.size()},
                                     {"invoices", it->second.invoices.size()},
                                     {"subscriptions", it->second.subscriptions.size()}};
        findings_.push_back(std::move(f));
    }
}

// billing_portal_misconfigured, as the reconciler audits the portal: no
// active default configuration; else the default's subscription_update
// prices that are archived (stripe_support) or not in the price map
// (billing_engineering), one finding each, listing the prices sorted.
void generator::record_portal_findings() {
    const portal_configuration* def = nullptr;
    for (const auto& c : portal_configurations)
        if (c.active && c.is_default) def = &c;
    if (!def) {
        json::object f = new_finding("billing_portal_misconfigured", "billing_portal", "no_default_configuration");
        f["scenario"] = "billing_portal_no_default";
        findings_.push_back(std::move(f));
        return;
    }
    std::set<std::string_view> archived, unmapped;
    for (const price_def* p : def->prices) {
        if (!p->active) archived.insert(p->id);
        if (!p->mapped) unmapped.insert(p->id);
    }
    const auto add = [&](const std::set<std::string_view>& prices, std::string_view suffix, std::string_view team) {
        if (prices.empty()) return;
        json::object f = new_finding("billing_portal_misconfigured", "billing_portal_configuration", def->id + std::string(suffix),
                                     team);
        f["scenario"] = "billing_portal_archived_price";
        json::array ids;
        for (const auto id : prices) ids.push_back(json::value(id));
        f["evidence"] = json::object{{"configuration", def->id}, {"prices", std::move(ids)}};
        findings_.push_back(std::move(f));
    };
    add(archived, "#archived_prices", "stripe_support");
    add(unmapped, "#unmapped_prices", "billing_engineering");
}

// missed_webhook: every dropped webhook of a type the app handles, in the
// window and older than the grace at its end. Each names the finding whose
// correction repairs its effect.
void generator::record_missed_webhooks() {
    std::vector<json::object> missed;
    for (const auto& d : dropped) {
        if (!app_handles(d.type)) continue;  // invoice.payment_succeeded: never a finding
        if (d.created < window_start_ + window_margin() || d.created >= now_ - window_margin())
            throw std::logic_error("generator: dropped webhook " + d.id + " outside the window");
        const std::int64_t age = now_ - d.created;
        if (age > webhook_grace - 5 * minute && age < webhook_grace + 5 * minute)
            throw std::logic_error("generator: dropped webhook " + d.id + " too near the grace");
        if (age < webhook_grace) continue;  // not missed yet
        std::string fixed_by;
        for (const auto& f : findings_) {
            const auto& kind = f.at("kind").as_string();
            if ((kind == "credits_not_granted" || kind == "tier_mismatch") && f.at("subject_id").as_string() == d.object_id)
                fixed_by = std::string(kind);
        }
        if (fixed_by.empty()) throw std::logic_error("generator: dropped webhook " + d.id + " repairs nothing");
        json::object f = new_finding("missed_webhook", "event", d.id);
        f["user_email"] = d.email;
        f["customer"] = d.customer;
        f["event_type"] = d.type;
        f["event_created"] = d.created;
        f["object_id"] = d.object_id;
        f["corrected_by"] = json::object{{"kind", fixed_by}, {"subject_id", d.object_id}};
        missed.push_back(std::move(f));
    }
    for (auto& f : missed) findings_.push_back(std::move(f));
}

void generator::record_credits_finding(const customer_sim& c, const sim_invoice& inv, bool payment_missing,
                                       std::string_view scenario) {
    json::object f = new_finding("credits_not_granted", "invoice", inv.id);
    about(f, c);
    f["correction"] =
        json::object{{"kind", "grant_credits"}, {"credits", inv.credits()}, {"record_payment", payment_missing}};
    f["credits"] = inv.credits();
    f["payment_missing"] = payment_missing;
    f["amount"] = inv.total();
    f["currency"] = "usd";
    f["paid_at"] = *inv.paid_at;
    f["scenario"] = scenario;
    findings_.push_back(std::move(f));
}

void generator::record_tier_finding(const customer_sim& c, std::string_view from, std::string_view to,
                                    const std::string& newest_event, std::string_view scenario) {
    // The app model decided the plan; a script that no longer produces the
    // drift it claims must fail loudly rather than record a wrong truth.
    if (c.app_plan() != from)
        throw std::logic_error("generator: scenario " + std::string(scenario) + " left plan " + c.app_plan() +
                               ", expected " + std::string(from));
    json::object f = new_finding("tier_mismatch", "subscription", c.subscription_id());
    about(f, c);
    f["correction"] = json::object{{"kind", "set_tier"}, {"to", to}};
    f["from"] = from;
    f["to"] = to;
    f["newest_event"] = newest_event;
    f["scenario"] = scenario;
    findings_.push_back(std::move(f));
}

// Writes via a temporary file and rename, so a reader never sees half a file.
void write_file(const std::filesystem::path& path, const std::string& head, const std::vector<const std::string*>& items,
                const std::string& tail) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("generator: cannot write " + tmp.string());
        out << head;
        for (std::size_t i = 0; i < items.size(); ++i) out << *items[i] << (i + 1 < items.size() ? ",\n" : "\n");
        out << tail;
        out.flush();
        if (!out) throw std::runtime_error("generator: write failed for " + tmp.string());
    }
    std::filesystem::rename(tmp, path);
}

// In creation order (created, then the order objects were made): the list
// engine (dataset.hpp) takes file order as insertion order and lists
// same-second objects later-added first, which then matches Stripe's order.
// `text` picks the rendition: every rendition file lists the same objects in
// the same order, as the list engine requires.
void write_list(const std::filesystem::path& path, const std::vector<record>& records,
                std::string record::*text = &record::text) {
    std::vector<const record*> sorted;
    sorted.reserve(records.size());
    for (const auto& r : records) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](const record* a, const record* b) {
        return a->created != b->created ? a->created < b->created : a->seq < b->seq;
    });
    std::vector<const std::string*> items;
    items.reserve(sorted.size());
    for (const auto* r : sorted) items.push_back(&(r->*text));
    write_file(path, "[\n", items, "]\n");
}

void generator::write_files(const std::filesystem::path& out_dir) const {
    std::filesystem::create_directories(out_dir);
    write_list(out_dir / "customers.json", customers_out);
    write_list(out_dir / "events.json", events_out);
    write_list(out_dir / "invoice_payments.json", invoice_payments_out);
    // Account-level objects: the same at every API version.
    std::vector<record> prices, configurations;
    for (const auto& p : price_table)
        prices.push_back({price_created(p), prices.size(), json::serialize(render_price(*this, p)), {}});
    for (const auto& c : portal_configurations)
        configurations.push_back(
            {c.created, configurations.size(), json::serialize(render_portal_configuration(*this, c)), {}});
    write_list(out_dir / dataset::rendition_file_name("prices", basil_version), prices);
    write_list(out_dir / dataset::rendition_file_name("billing_portal/configurations", basil_version),
               configurations);
    const std::pair<std::string_view, const std::vector<record>*> versioned[] = {
        {"subscriptions", &subscriptions_out}, {"invoices", &invoices_out}, {"charges", &charges_out}};
    for (const auto& [resource, records] : versioned) {
        write_list(out_dir / dataset::rendition_file_name(resource, basil_version), *records, &record::text);
        write_list(out_dir / dataset::rendition_file_name(resource, legacy_version), *records, &record::legacy);
    }

    json::object price_map;
    for (const auto& p : price_table) {
        if (!p.mapped) continue;
        price_map[p.id] = json::object{{"tier", p.tier.empty() ? json::value(nullptr) : json::value(p.tier)},
                                    {"credits", p.credits},
                                    {"unit_amount", p.unit_amount},
                                    {"currency", "usd"}};
    }
    std::vector<json::object> findings = findings_;
    std::sort(findings.begin(), findings.end(), [](const json::object& a, const json::object& b) {
        const auto key = [](const json::object& f) {
            return std::make_pair(std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string()));
        };
        return key(a) < key(b);
    });
    std::vector<std::string> texts;
    texts.reserve(findings.size());
    for (const auto& f : findings) texts.push_back(json::serialize(f));
    std::vector<const std::string*> items;
    for (const auto& t : texts) items.push_back(&t);
    const json::object window{{"start", window_start_}, {"end", now_}};
    const json::object policy{{"webhook_grace_seconds", webhook_grace},
                              {"signature_failure_threshold", signature_failure_threshold},
                              {"refund_or_dispute", "clawback"},
                              {"past_due_tier", "keep"}};
    std::string head = "{\"seed\":" + std::to_string(seed_) + ",\"now\":" + std::to_string(now_) +
                       ",\"customers\":" + std::to_string(customer_count_) +
                       ",\"window\":" + json::serialize(window) +
                       ",\"events_since\":" + std::to_string(now_ - event_retention) +
                       ",\n\"api_versions\":[\"" + std::string(legacy_version) + "\",\"" +
                       std::string(basil_version) + "\"]" +
                       ",\n\"prices\":" + json::serialize(price_map) +
                       ",\n\"portal_sessions\":" + std::to_string(portal_sessions_) +
                       ",\n\"policy\":" + json::serialize(policy) + ",\n\"findings\":[\n";
    write_file(out_dir / "ground_truth.json", head, items, "]}\n");
}

void generator::write_app_db(const std::filesystem::path& db_path) const {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(std::string(reconciler::store::app_schema_sql()));
    SQLite::Transaction tx(db);

    SQLite::Statement ins_user(db,
                               "INSERT INTO users(id,email,plan,stripe_customer_id,plan_metadata,created_at) "
                               "VALUES(?,?,?,?,?,?)");
    for (const auto& u : users) {
        json::array events;
        std::int64_t balance = 0;
        for (const auto& e : u.credit_events) {
            balance += e.delta;
            json::object o{{"id", e.id}, {"delta", e.delta}, {"kind", e.kind}, {"reason", e.reason}, {"source", e.source}};
            if (e.correlation_id) o["correlation_id"] = *e.correlation_id;
            o["at"] = rfc3339(e.at);
            events.push_back(std::move(o));
        }
        const json::object meta{{"ai_credits", balance + u.balance_offset}, {"credit_events", std::move(events)}};
        ins_user.bind(1, u.id);
        ins_user.bind(2, u.email);
        ins_user.bind(3, u.plan);
        if (u.stripe_customer_id.empty()) ins_user.bind(4);
        else ins_user.bind(4, u.stripe_customer_id);
        ins_user.bind(5, json::serialize(meta));
        ins_user.bind(6, rfc3339(u.created_at));
        ins_user.exec();
        ins_user.reset();
    }

    SQLite::Statement ins_payment(db,
                                  "INSERT INTO payments(stripe_invoice_id,stripe_customer_id,user_id,amount,currency,"
                                  "status,paid_at) VALUES(?,?,?,?,?,'paid',?)");
    for (const auto& p : payments) {
        ins_payment.bind(1, p.invoice_id);
        ins_payment.bind(2, p.customer_id);
        ins_payment.bind(3, p.user_id);
        ins_payment.bind(4, p.amount);
        ins_payment.bind(5, p.currency);
        ins_payment.bind(6, rfc3339(p.paid_at));
        ins_payment.exec();
        ins_payment.reset();
    }

    SQLite::Statement ins_usage(db, "INSERT INTO ai_usage(user_id,credits,request_id,created_at) VALUES(?,?,?,?)");
    for (const auto& u : usage) {
        ins_usage.bind(1, u.user_id);
        ins_usage.bind(2, u.credits);
        ins_usage.bind(3, u.request_id);
        ins_usage.bind(4, rfc3339(u.at));
        ins_usage.exec();
        ins_usage.reset();
    }

    SQLite::Statement ins_hook(db,
                               "INSERT INTO webhook_events(stripe_event_id,type,received_at,status,attempts,last_error) "
                               "VALUES(?,?,?,?,?,?)");
    for (const auto& w : webhooks) {
        ins_hook.bind(1, w.event_id);
        ins_hook.bind(2, w.type);
        ins_hook.bind(3, rfc3339(w.received_at));
        ins_hook.bind(4, w.status);
        ins_hook.bind(5, w.attempts);
        if (w.last_error.empty()) ins_hook.bind(6);
        else ins_hook.bind(6, w.last_error);
        ins_hook.exec();
        ins_hook.reset();
    }
    tx.commit();
}

generation_summary generator::summary() const {
    return {customers_out.size(), subscriptions_out.size(), invoices_out.size(), events_out.size(),
            findings_.size(),     window_start_,           now_,           charges_out.size(),
            invoice_payments_out.size()};
}

void validate(const generator_options& opts, std::int64_t now) {
    const auto bad = [](const std::string& what) { throw std::invalid_argument("stripe-sim generate: " + what); };
    if (opts.out_dir.empty()) bad("out_dir is empty");
    if (opts.app_db.empty()) bad("app_db is empty");
    if (opts.customers < min_customers())
        bad("customers must be at least " + std::to_string(min_customers()) + " to seed every kind twice, got " +
            std::to_string(opts.customers));
    if (opts.window_hours < 1 || opts.window_hours > max_window_hours)
        bad("window_hours must be in 1.." + std::to_string(max_window_hours) + ", got " +
            std::to_string(opts.window_hours));
    if (now < min_now) bad("now must be a unix time after 1971, got " + std::to_string(now));
}

// Creates the file exclusively (fopen "x"), so an existing database is never
// touched, even if it appears between a check and the create.
void create_exclusive(const std::filesystem::path& path) {
    if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path());
    std::FILE* f = std::fopen(path.c_str(), "wx");
    if (!f) {
        if (errno == EEXIST)
            throw std::runtime_error("stripe-sim generate: app database " + path.string() +
                                     " already exists; refusing to overwrite it (remove it or pick another path)");
        throw std::system_error(errno, std::generic_category(), "stripe-sim generate: cannot create " + path.string());
    }
    std::fclose(f);
}

}  // namespace

generation_summary generate_dataset(const generator_options& opts) {
    const std::int64_t now =
        opts.now != 0 ? opts.now
                      : std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    validate(opts, now);
    create_exclusive(opts.app_db);
    try {
        generator g(opts, now);
        g.run();
        g.write_app_db(opts.app_db);
        g.write_files(opts.out_dir);
        return g.summary();
    } catch (...) {
        // The database is ours (created above): leave nothing half-written.
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
            std::filesystem::remove(opts.app_db.string() + suffix, ec);
        throw;
    }
}

}  // namespace reconciler::sim
