// The dataset generator (see generator.hpp for the contract).
//
// How it works: every customer's life is played as a small script against a
// customer_sim, in time order. The sim emits the Stripe side (objects and
// events, rendered per API shape) and, for every event, a webhook delivery to
// a model of the app. After the script, the deliveries are applied in arrival
// order the way the app's webhook handler would (set plan from a subscription
// snapshot, record payment + grant credits on invoice.paid), so the app
// database is consistent by construction. A seeded discrepancy is a fault in
// that delivery (dropped, late, grant lost), scripted inside the window by one
// function per kind, which also records the expected finding.
#include "stripe_sim/generator.hpp"

#include "store/embedded_sql.hpp"

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
#include <optional>
#include <random>
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
// A billing month is 30 days here: calendar months add nothing the reconciler
// looks at, and a fixed length keeps renewal times easy to reason about.
constexpr std::int64_t billing_period = 30 * day;
constexpr std::int64_t trial_length = 14 * day;
constexpr std::int64_t max_window_hours = 28 * 24;  // seeded subscriptions need pre-window history
constexpr std::int64_t min_now = 400 * day;         // prices are dated 400 days back

constexpr std::string_view legacy_version = "2024-06-20";
constexpr std::string_view basil_version = "2025-03-31.basil";

enum class api_shape { legacy, basil };

std::string_view version_of(api_shape s) { return s == api_shape::legacy ? legacy_version : basil_version; }

// ------------------------------------------------------------------ prices

struct price_def {
    std::string_view id;
    std::string_view tier;  // empty: a credit pack, no tier
    std::int64_t credits;   // per unit of quantity
    std::int64_t unit_amount;
    std::string_view nickname;
    bool recurring;
};

// The demo configuration uses exactly this map; ground_truth.json repeats it.
constexpr std::array<price_def, 3> price_table{{
    {"price_pro_monthly", "pro", 1000, 2000, "Pro monthly", true},
    {"price_team_monthly", "team", 5000, 1000, "Team monthly (per seat)", true},
    {"price_credits_500", "", 500, 900, "500 AI credits", false},
}};
const price_def& pro_price = price_table[0];
const price_def& team_price = price_table[1];
const price_def& pack_price = price_table[2];

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
    std::string text;
};

// ------------------------------------------------------------- app objects

struct credit_event {
    std::int64_t at = 0;
    std::string id;
    std::int64_t delta = 0;
    std::string kind;
    std::string reason;
    std::string source;
    std::string correlation_id;
};

struct app_user {
    std::int64_t id = 0;
    std::string email;
    std::string plan = "free";
    std::string stripe_customer_id;  // empty: NULL
    std::int64_t created_at = 0;
    std::vector<credit_event> credit_events;
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
};

// What handling an event does to the app.
struct app_effect {
    std::optional<std::string> plan;           // tier to store from a subscription snapshot
    std::optional<std::size_t> paid_invoice;   // index into the customer's invoices
    bool skip_grant = false;                   // seeded: payment recorded, grant lost
};

struct delivery {
    enum class kind { normal, dropped, late } how = kind::normal;
    std::int64_t received_at = 0;  // for late
    static delivery dropped() { return {kind::dropped, 0}; }
    static delivery late(std::int64_t at) { return {kind::late, at}; }
};

enum class pay_fault { none, grant_missing, webhook_missing };
enum class sub_start { active, incomplete_then_active, trialing };
enum class pack_outcome { paid, open, voided };

struct pending_delivery {
    std::int64_t received_at = 0;
    std::uint64_t seq = 0;
    std::string event_id;
    std::string type;
    app_effect effect;
};

constexpr std::array<std::string_view, 16> first_names{
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
    "Margaret", "Dennis", "Radia", "Linus", "Shafi", "Tim", "Hedy", "John"};
constexpr std::array<std::string_view, 16> last_names{
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
    "Hamilton", "Ritchie", "Perlman", "Torvalds", "Goldwasser", "Berners-Lee", "Lamarr", "Backus"};

class customer_sim;

// ---------------------------------------------------------------- generator

class generator {
public:
    generator(const generator_options& opts, std::int64_t now)
        : rng_(opts.seed),
          seed_(opts.seed),
          now_(now),
          window_start_(now - opts.window_hours * hour),
          customer_count_(opts.customers) {}

    void run();
    void write_files(const std::filesystem::path& out_dir) const;
    void write_app_db(const std::filesystem::path& db_path) const;
    generation_summary summary() const;

    // Shared services for customer_sim and the scripts.
    rng& random() { return rng_; }
    std::int64_t now() const { return now_; }
    std::int64_t window_start() const { return window_start_; }
    std::uint64_t next_seq() { return seq_++; }
    std::string new_id(std::string_view prefix) {
        for (;;) {
            std::string id = std::string(prefix) + rng_.alnum(14);
            if (ids_.insert(id).second) return id;
        }
    }
    const std::string& product_of(const price_def& p) const {
        return products_[static_cast<std::size_t>(&p - price_table.data())];
    }
    std::int64_t price_created() const { return now_ - 400 * day; }

    // A time inside the window, between lo and hi per mille of it, kept a
    // margin away from both edges so that an off-by-one in the reconciler's
    // window arithmetic cannot move a seeded finding in or out.
    std::int64_t window_time(std::int64_t lo_pm, std::int64_t hi_pm) {
        const std::int64_t span = now_ - window_start_;
        const std::int64_t margin = std::min<std::int64_t>(5 * minute, span / 10);
        const std::int64_t usable = span - 2 * margin;
        return rng_.between(window_start_ + margin + usable * lo_pm / 1000, window_start_ + margin + usable * hi_pm / 1000);
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

    void record_credits_finding(const customer_sim& c, const sim_invoice& inv, bool payment_missing,
                                std::string_view scenario);
    void record_tier_finding(const customer_sim& c, std::string_view from, std::string_view to,
                             const std::string& newest_event, std::string_view scenario);

    // Output sinks.
    std::vector<record> customers_out, subscriptions_out, invoices_out, events_out;
    std::vector<app_user> users;
    std::vector<app_payment> payments;
    std::vector<app_usage> usage;
    std::vector<app_webhook> webhooks;

private:
    void run_generic(customer_sim& c);

    rng rng_;
    std::uint64_t seed_;
    std::int64_t now_;
    std::int64_t window_start_;
    int customer_count_;
    std::uint64_t seq_ = 0;
    std::unordered_set<std::string> ids_;
    std::array<std::string, price_table.size()> products_;
    std::optional<std::int64_t> same_second_;
    std::vector<json::object> findings_;
};

// -------------------------------------------------------------- renderers

json::object render_price(const generator& g, const price_def& p) {
    json::value recurring = nullptr;
    if (p.recurring) {
        recurring = json::object{{"aggregate_usage", nullptr}, {"interval", "month"}, {"interval_count", 1},
                                 {"meter", nullptr}, {"trial_period_days", nullptr}, {"usage_type", "licensed"}};
    }
    return {{"id", p.id},
            {"object", "price"},
            {"active", true},
            {"billing_scheme", "per_unit"},
            {"created", g.price_created()},
            {"currency", "usd"},
            {"custom_unit_amount", nullptr},
            {"livemode", false},
            {"lookup_key", p.id.substr(6)},
            {"metadata", json::object{}},
            {"nickname", p.nickname},
            {"product", g.product_of(p)},
            {"recurring", std::move(recurring)},
            {"tax_behavior", "unspecified"},
            {"tiers_mode", nullptr},
            {"transform_quantity", nullptr},
            {"type", p.recurring ? "recurring" : "one_time"},
            {"unit_amount", p.unit_amount},
            {"unit_amount_decimal", std::to_string(p.unit_amount)}};
}

// The legacy `plan` object that pre-basil subscriptions and lines still carry.
json::object render_plan(const generator& g, const price_def& p) {
    return {{"id", p.id},
            {"object", "plan"},
            {"active", true},
            {"amount", p.unit_amount},
            {"amount_decimal", std::to_string(p.unit_amount)},
            {"billing_scheme", "per_unit"},
            {"created", g.price_created()},
            {"currency", "usd"},
            {"interval", "month"},
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

json::value opt(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value opt(const std::string& v) { return v.empty() ? json::value(nullptr) : json::value(v); }

// ------------------------------------------------------------ customer_sim

// Plays one customer's life; see the file comment.
class customer_sim {
public:
    customer_sim(generator& g, std::size_t index) : g_(g), r_(g.random()) {
        id_ = g_.new_id("cus_");
        email_ = "user" + std::to_string(index + 1) + "@example.com";
        name_ = std::string(first_names[static_cast<std::size_t>(r_.between(0, first_names.size() - 1))]) + ' ' +
                std::string(last_names[static_cast<std::size_t>(r_.between(0, last_names.size() - 1))]);
        invoice_prefix_ = r_.chars(8, "0123456789ABCDEF");
        user_.id = static_cast<std::int64_t>(index) + 1;
        user_.email = email_;
        user_.stripe_customer_id = id_;
    }

    const std::string& id() const { return id_; }
    const std::string& email() const { return email_; }
    const std::string& subscription_id() const { return sub_->id; }
    const std::string& app_plan() const { return app_plan_; }  // after finish()
    const sim_invoice& invoice(const std::string& id) const {
        for (const auto& inv : invoices_)
            if (inv.id == id) return inv;
        throw std::logic_error("generator: unknown invoice " + id);
    }
    std::int64_t created() const { return created_; }

    // Seeded scripts pin their events to one shape so that each variant is
    // covered in both shapes; everything else picks per event.
    void force_shape(api_shape s) { forced_shape_ = s; }

    void create_customer(std::int64_t at) {
        created_ = at;
        user_.created_at = at - r_.between(0, day);  // signed up in the app before checkout
        emit("customer.created", at, pick_shape(), render_customer(true), nullptr, {}, {});
    }

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
        s.period_end = at + billing_period;
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
    std::string buy_pack(std::int64_t at, std::int64_t qty, pack_outcome outcome, pay_fault fault = pay_fault::none) {
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
            settle_invoice(idx, std::min(at + r_.between(0, 2 * minute), g_.now() - 1), fault);
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
        g_.customers_out.push_back({created_, g_.next_seq(), json::serialize(render_customer(false))});
        if (sub_) {
            g_.subscriptions_out.push_back(
                {sub_->created, g_.next_seq(), json::serialize(render_subscription(api_shape::basil))});
        }
        for (const auto& inv : invoices_) {
            g_.invoices_out.push_back({inv.created, g_.next_seq(), json::serialize(render_invoice(inv, api_shape::basil))});
        }
        apply_deliveries();
        add_usage();
        app_plan_ = user_.plan;
        g_.users.push_back(std::move(user_));
    }

private:
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
            st.period_end = b + billing_period;
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

    // Paid at `at`: invoice.paid and invoice.payment_succeeded, both carrying
    // the paid invoice; the app acts on invoice.paid.
    void settle_invoice(std::size_t idx, std::int64_t at, pay_fault fault) {
        auto& inv = invoices_[idx];
        finalize(inv, at);
        inv.status = "paid";
        inv.paid_at = at;
        inv.attempt_count = 1;
        const delivery d = fault == pay_fault::webhook_missing ? delivery::dropped() : delivery{};
        app_effect effect;
        effect.paid_invoice = idx;
        effect.skip_grant = fault == pay_fault::grant_missing;
        invoice_event("invoice.paid", at, idx, d, effect);
        invoice_event("invoice.payment_succeeded", at, idx, d, {});
    }

    void invoice_event(std::string_view type, std::int64_t at, std::size_t idx, delivery d, app_effect effect) {
        const api_shape shape = pick_shape();
        emit(type, at, shape, render_invoice(invoices_[idx], shape), nullptr, d, std::move(effect));
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
            g_.events_out.push_back({at, seq, json::serialize(ev)});
        }
        switch (d.how) {
        case delivery::kind::dropped:
            break;
        case delivery::kind::normal: {
            // Webhooks of one customer arrive in order, a few seconds late at
            // most, and all before `now`: anything else would be drift.
            const std::int64_t received =
                std::min(std::max(at + r_.between(0, 4), last_received_), g_.now() - 1);
            last_received_ = received;
            deliveries_.push_back({received, seq, id, std::string(type), std::move(effect)});
            break;
        }
        case delivery::kind::late:
            if (d.received_at <= at || d.received_at >= g_.now())
                throw std::logic_error("generator: late delivery outside (created, now)");
            deliveries_.push_back({d.received_at, seq, id, std::string(type), std::move(effect)});
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
            o["plan"] = l.price->recurring ? json::value(render_plan(g_, *l.price)) : json::value(nullptr);
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
        if (shape == api_shape::legacy) o["charge"] = nullptr;  // charges are not simulated yet
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
            o["paid"] = paid;
            o["paid_out_of_band"] = false;
            o["payment_intent"] = nullptr;
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

    // The app's webhook handler, applied in arrival order. Idempotent per
    // invoice like the real handler: a payment row and a grant at most once.
    void apply_deliveries() {
        std::stable_sort(deliveries_.begin(), deliveries_.end(), [](const auto& a, const auto& b) {
            return a.received_at != b.received_at ? a.received_at < b.received_at : a.seq < b.seq;
        });
        std::unordered_set<std::string> paid_seen, granted;
        for (auto& d : deliveries_) {
            g_.webhooks.push_back({d.event_id, d.type, d.received_at});
            if (d.effect.plan) user_.plan = *d.effect.plan;
            if (!d.effect.paid_invoice) continue;
            const auto& inv = invoices_[*d.effect.paid_invoice];
            if (paid_seen.insert(inv.id).second) {
                g_.payments.push_back({inv.id, id_, user_.id, inv.total(), "usd", *inv.paid_at});
            }
            if (!d.effect.skip_grant && inv.credits() > 0 && granted.insert(inv.id).second) {
                user_.credit_events.push_back({d.received_at, g_.new_id("ce_"), inv.credits(), "grant",
                                               "invoice.paid", inv.id, r_.uuid()});
            }
        }
    }

    // AI usage spends what the app granted, never below zero.
    void add_usage() {
        auto& events = user_.credit_events;
        if (events.empty()) return;
        const std::int64_t first = events.front().at + minute;
        if (first > g_.now() - 1) return;
        std::vector<std::int64_t> times(static_cast<std::size_t>(r_.between(0, 4)));
        for (auto& t : times) t = r_.between(first, g_.now() - 1);
        std::sort(times.begin(), times.end());
        std::vector<credit_event> merged;
        std::int64_t balance = 0;
        std::size_t gi = 0;
        for (const std::int64_t t : times) {
            while (gi < events.size() && events[gi].at <= t) {
                balance += events[gi].delta;
                merged.push_back(std::move(events[gi++]));
            }
            const std::int64_t spend = std::min(r_.between(5, 250), balance);
            if (spend <= 0) continue;
            balance -= spend;
            const std::string request_id = r_.uuid();
            g_.usage.push_back({user_.id, spend, request_id, t});
            merged.push_back({t, g_.new_id("ce_"), -spend, "consume", "ai_usage", request_id, r_.uuid()});
        }
        while (gi < events.size()) merged.push_back(std::move(events[gi++]));
        events = std::move(merged);
    }

    generator& g_;
    rng& r_;
    std::string id_, email_, name_, invoice_prefix_;
    std::int64_t created_ = 0;
    int next_invoice_number_ = 1;
    std::optional<sim_subscription> sub_;
    std::vector<sim_invoice> invoices_;
    std::vector<pending_delivery> deliveries_;
    std::int64_t last_sub_event_ = std::numeric_limits<std::int64_t>::min();
    std::int64_t last_received_ = 0;
    std::optional<api_shape> forced_shape_;
    app_user user_;
    std::string app_plan_;
};

// ----------------------------------------------------------- seeded kinds
//
// One function per seeded kind (and per noise kind). Each gets a fresh
// customer and its instance number; even instances use the legacy API
// shape, odd ones basil, so every kind is seen in both shapes. To add a kind:
// write its function and add a row to `scenarios`.

api_shape shape_for(int instance) { return instance % 2 == 0 ? api_shape::legacy : api_shape::basil; }

const price_def& plan_for(int instance) { return instance % 2 == 0 ? pro_price : team_price; }

std::int64_t seats(generator& g, const price_def& p) { return &p == &team_price ? g.random().between(1, 5) : 1; }

// A paid invoice in the window whose grant is missing; `flavor_pack` picks a
// credit pack (free user with earlier purchases) or a brand-new subscription.
std::string paid_invoice_in_window(generator& g, customer_sim& c, bool flavor_pack, pay_fault fault) {
    rng& r = g.random();
    if (flavor_pack) {
        c.create_customer(g.now() - r.between(5 * day, 35 * day));
        c.buy_pack(c.created() + r.between(hour, 2 * day), r.between(1, 3), pack_outcome::paid);
        return c.buy_pack(g.window_time(100, 900), r.between(1, 3), pack_outcome::paid, fault);
    }
    const std::int64_t at = g.window_time(100, 900);
    c.create_customer(std::max(g.window_start() + minute, at - r.between(0, 10 * minute)));
    const price_def& p = r.percent(50) ? pro_price : team_price;
    return c.subscribe(at, p, seats(g, p), sub_start::active, fault);
}

// credits_not_granted: the app recorded the payment, then lost the grant.
void seed_grant_missing_payment_recorded(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const std::string inv = paid_invoice_in_window(g, c, instance % 2 == 0, pay_fault::grant_missing);
    c.finish();
    g.record_credits_finding(c, c.invoice(inv), false, "grant_missing_payment_recorded");
}

// credits_not_granted: the invoice's webhooks never arrived (no payment, no
// grant, no webhook_events rows).
void seed_grant_and_payment_missing(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const std::string inv = paid_invoice_in_window(g, c, instance % 2 == 1, pay_fault::webhook_missing);
    c.finish();
    g.record_credits_finding(c, c.invoice(inv), true, "grant_and_payment_missing");
}

void start_quiet_subscription(generator& g, customer_sim& c, const price_def& p, std::int64_t qty) {
    const std::int64_t t0 = g.quiet_subscription_start();
    c.create_customer(t0 - g.random().between(0, 2 * day));
    c.subscribe(t0, p, qty, sub_start::active);
}

// tier_mismatch: an upgrade pro -> team whose webhook never arrived.
void seed_missed_upgrade(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    start_quiet_subscription(g, c, pro_price, 1);
    const std::string ev = c.change_plan(g.window_time(100, 900), team_price, seats(g, team_price), delivery::dropped());
    c.finish();
    g.record_tier_finding(c, "pro", "team", ev, "missed_upgrade");
}

// tier_mismatch: a cancellation whose webhook never arrived.
void seed_missed_cancellation(generator& g, customer_sim& c, int instance) {
    c.force_shape(shape_for(instance));
    const price_def& p = plan_for(instance);
    start_quiet_subscription(g, c, p, seats(g, p));
    const std::string ev = c.cancel(g.window_time(100, 900), delivery::dropped());
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
// its paid invoice all in one second, shared by every instance.
void noise_same_second_signup(generator& g, customer_sim& c, int instance) {
    const std::int64_t at = g.same_second();
    c.create_customer(at);
    const price_def& p = plan_for(instance);
    c.subscribe(at, p, seats(g, p), sub_start::incomplete_then_active);
    c.finish();
}

// Noise: unpaid invoices. Even: a free user's open and void credit packs
// (next to a paid one in the window); odd: a renewal whose payment failed,
// leaving an open invoice and a past_due subscription (keeps its tier).
void noise_unpaid_invoices(generator& g, customer_sim& c, int instance) {
    rng& r = g.random();
    if (instance % 2 == 0) {
        c.create_customer(g.now() - r.between(10 * day, 35 * day));
        c.buy_pack(c.created() + r.between(hour, 3 * day), r.between(1, 3), pack_outcome::open);
        c.buy_pack(g.window_time(0, 400), 1, pack_outcome::voided);
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

struct scenario_def {
    std::string_view name;
    void (*run)(generator&, customer_sim&, int);
};

constexpr std::array<scenario_def, 8> scenarios{{
    {"grant_missing_payment_recorded", seed_grant_missing_payment_recorded},
    {"grant_and_payment_missing", seed_grant_and_payment_missing},
    {"missed_upgrade", seed_missed_upgrade},
    {"missed_cancellation", seed_missed_cancellation},
    {"late_older_event", seed_late_older_event},
    {"noise_flapping_subscription", noise_flapping_subscription},
    {"noise_same_second_signup", noise_same_second_signup},
    {"noise_unpaid_invoices", noise_unpaid_invoices},
}};

// At least 2 of each, about 1% of customers per scenario (5% for the five
// seeded kinds together).
int instances_per_scenario(int customers) { return std::max(2, customers / 100); }

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

void generator::run() {
    for (auto& p : products_) p = new_id("prod_");

    // Which customers play which seeded scenario: a seeded shuffle.
    const int per = instances_per_scenario(customer_count_);
    std::vector<std::size_t> order(static_cast<std::size_t>(customer_count_));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[static_cast<std::size_t>(rng_.between(0, static_cast<std::int64_t>(i) - 1))]);
    std::vector<std::pair<int, int>> role(order.size(), {-1, 0});  // scenario, instance
    std::size_t next = 0;
    for (std::size_t s = 0; s < scenarios.size(); ++s)
        for (int k = 0; k < per; ++k) role[order[next++]] = {static_cast<int>(s), k};

    for (std::size_t i = 0; i < order.size(); ++i) {
        customer_sim c(*this, i);
        if (role[i].first < 0) run_generic(c);
        else scenarios[static_cast<std::size_t>(role[i].first)].run(*this, c, role[i].second);
    }

    // A few app users who never reached checkout: no Stripe customer.
    const int app_only = std::max(2, customer_count_ / 50);
    for (int k = 0; k < app_only; ++k) {
        app_user u;
        u.id = static_cast<std::int64_t>(users.size()) + 1;
        u.email = "user" + std::to_string(users.size() + 1) + "@example.com";
        u.created_at = rng_.between(now_ - history, now_ - 1);
        users.push_back(std::move(u));
    }
}

void generator::record_credits_finding(const customer_sim& c, const sim_invoice& inv, bool payment_missing,
                                       std::string_view scenario) {
    findings_.push_back(json::object{{"kind", "credits_not_granted"},
                                     {"subject_type", "invoice"},
                                     {"subject_id", inv.id},
                                     {"customer", c.id()},
                                     {"user_email", c.email()},
                                     {"credits", inv.credits()},
                                     {"payment_missing", payment_missing},
                                     {"amount", inv.total()},
                                     {"currency", "usd"},
                                     {"paid_at", *inv.paid_at},
                                     {"scenario", scenario}});
}

void generator::record_tier_finding(const customer_sim& c, std::string_view from, std::string_view to,
                                    const std::string& newest_event, std::string_view scenario) {
    // The app model decided the plan; a script that no longer produces the
    // drift it claims must fail loudly rather than record a wrong truth.
    if (c.app_plan() != from)
        throw std::logic_error("generator: scenario " + std::string(scenario) + " left plan " + c.app_plan() +
                               ", expected " + std::string(from));
    findings_.push_back(json::object{{"kind", "tier_mismatch"},
                                     {"subject_type", "subscription"},
                                     {"subject_id", c.subscription_id()},
                                     {"customer", c.id()},
                                     {"user_email", c.email()},
                                     {"from", from},
                                     {"to", to},
                                     {"newest_event", newest_event},
                                     {"scenario", scenario}});
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
void write_list(const std::filesystem::path& path, const std::vector<record>& records) {
    std::vector<const record*> sorted;
    sorted.reserve(records.size());
    for (const auto& r : records) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](const record* a, const record* b) {
        return a->created != b->created ? a->created < b->created : a->seq < b->seq;
    });
    std::vector<const std::string*> items;
    items.reserve(sorted.size());
    for (const auto* r : sorted) items.push_back(&r->text);
    write_file(path, "[\n", items, "]\n");
}

void generator::write_files(const std::filesystem::path& out_dir) const {
    std::filesystem::create_directories(out_dir);
    write_list(out_dir / "customers.json", customers_out);
    write_list(out_dir / "subscriptions.json", subscriptions_out);
    write_list(out_dir / "invoices.json", invoices_out);
    write_list(out_dir / "events.json", events_out);

    json::object prices;
    for (const auto& p : price_table) {
        prices[p.id] = json::object{{"tier", p.tier.empty() ? json::value(nullptr) : json::value(p.tier)},
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
    std::string head = "{\"seed\":" + std::to_string(seed_) + ",\"now\":" + std::to_string(now_) +
                       ",\"customers\":" + std::to_string(customer_count_) +
                       ",\"window\":" + json::serialize(window) +
                       ",\"events_since\":" + std::to_string(now_ - event_retention) +
                       ",\n\"api_versions\":[\"" + std::string(legacy_version) + "\",\"" +
                       std::string(basil_version) + "\"]" +
                       ",\n\"prices\":" + json::serialize(prices) + ",\n\"findings\":[\n";
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
            events.push_back(json::object{{"id", e.id},
                                          {"delta", e.delta},
                                          {"kind", e.kind},
                                          {"reason", e.reason},
                                          {"source", e.source},
                                          {"correlation_id", e.correlation_id},
                                          {"at", rfc3339(e.at)}});
        }
        const json::object meta{{"ai_credits", balance}, {"credit_events", std::move(events)}};
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
                               "INSERT INTO webhook_events(stripe_event_id,type,received_at,status,attempts) "
                               "VALUES(?,?,?,'processed',1)");
    for (const auto& w : webhooks) {
        ins_hook.bind(1, w.event_id);
        ins_hook.bind(2, w.type);
        ins_hook.bind(3, rfc3339(w.received_at));
        ins_hook.exec();
        ins_hook.reset();
    }
    tx.commit();
}

generation_summary generator::summary() const {
    return {customers_out.size(), subscriptions_out.size(), invoices_out.size(), events_out.size(),
            findings_.size(),     window_start_,           now_};
}

void validate(const generator_options& opts, std::int64_t now) {
    const auto bad = [](const std::string& what) { throw std::invalid_argument("stripe-sim generate: " + what); };
    if (opts.out_dir.empty()) bad("out_dir is empty");
    if (opts.app_db.empty()) bad("app_db is empty");
    const int min_customers = static_cast<int>(scenarios.size()) * 2;
    if (opts.customers < min_customers)
        bad("customers must be at least " + std::to_string(min_customers) + " to seed every kind twice, got " +
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
