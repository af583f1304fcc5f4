// The dataset generator's ground truth must be exactly what the reconciler's
// rules (docs/findings.md) find in the data. These tests hold an independent
// oracle of every rule (written against the raw JSON in both API shapes and
// the SQLite rows, not against the generator's internals) and compare it
// with ground_truth.json, besides the direct properties of the contract.
#include "stripe_sim/generator.hpp"

#include "stripe_sim/dataset.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using reconciler::sim::generate_dataset;
using reconciler::sim::generation_summary;
using reconciler::sim::generator_options;

constexpr std::int64_t test_now = 1795000000;  // 2026-11-18T11:06:40Z
constexpr std::int64_t day = 86400;
constexpr std::string_view legacy_version = "2024-06-20";
constexpr std::string_view basil_version = "2025-03-31.basil";

// The spec's defaults (docs/findings.md), typed here independently.
constexpr std::int64_t grace = 3600;
constexpr std::int64_t signature_threshold = 3;
const std::map<std::string, std::string> teams{
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
};
const std::set<std::string> fetched_types{"invoice.paid",
                                          "invoice.payment_succeeded",
                                          "customer.subscription.created",
                                          "customer.subscription.updated",
                                          "customer.subscription.deleted",
                                          "charge.refunded",
                                          "charge.dispute.created",
                                          "customer.created"};

// A directory removed with everything in it when the test ends.
struct temp_dir {
    fs::path path;
    temp_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("generator_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::vector<std::string> dataset_files{"customers.json",
                                             "subscriptions.json",
                                             "subscriptions@2024-06-20.json",
                                             "invoices.json",
                                             "invoices@2024-06-20.json",
                                             "charges.json",
                                             "charges@2024-06-20.json",
                                             "invoice_payments.json",
                                             "prices.json",
                                             "billing_portal_configurations.json",
                                             "events.json",
                                             "ground_truth.json"};

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// RFC 3339 UTC text -> unix seconds, with the C library (not the generator's code).
std::int64_t parse_time(const std::string& s) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) throw std::runtime_error("bad time " + s);
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::string rfc3339(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

struct credit_event {
    std::string id;
    std::int64_t delta = 0;
    std::string kind, reason, source, at;
    std::int64_t t = 0;
    std::optional<std::string> correlation;  // nullopt: key absent
};
struct user_row {
    std::int64_t id = 0;
    std::string email, plan, customer;
    std::int64_t ai_credits = 0;
    std::vector<credit_event> events;
    std::int64_t sum() const {
        std::int64_t s = 0;
        for (const auto& e : events) s += e.delta;
        return s;
    }
};
struct payment_row {
    std::string invoice, customer;
    std::int64_t user_id = 0, amount = 0;
    std::string currency, status, paid_at;
    std::int64_t t = 0;
};
struct usage_row {
    std::int64_t user_id = 0, credits = 0;
    std::string request_id, created_at;
    std::int64_t t = 0;
};
struct webhook_row {
    std::string type, received_at, status;
    std::int64_t t = 0, attempts = 0;
    std::optional<std::string> last_error;
};

using finding_key = std::pair<std::string, std::string>;  // kind, subject_id

// One generated dataset, loaded.
struct generated {
    temp_dir dir;
    generator_options opts;
    generation_summary summary{};
    json::array customers, subscriptions, invoices, charges, events, invoice_payments, prices, portal_configurations;
    std::map<std::string, const json::object*> price_by_id;
    // The same objects at 2024-06-20 (<resource>@2024-06-20.json).
    json::array subscriptions_legacy, invoices_legacy, charges_legacy;
    json::object truth;
    std::map<std::string, const json::object*> customer_by_id, invoice_by_id, charge_by_id, event_by_id;
    std::map<std::string, const json::object*> legacy_charge_by_id, legacy_invoice_by_id;
    std::map<std::string, std::vector<const json::object*>> payments_of_invoice, payments_of_intent;
    std::map<std::int64_t, user_row> users;
    std::map<std::string, std::int64_t> user_by_customer, user_by_email;
    std::map<std::string, payment_row> payments;
    std::vector<usage_row> usage;
    std::map<std::string, const usage_row*> usage_by_request;
    std::map<std::string, webhook_row> webhooks;

    generated(int customer_count, std::uint64_t seed, std::int64_t window_hours = 24, bool portal_default = true) {
        opts.out_dir = dir.path / "out";
        opts.app_db = dir.path / "app.db";
        opts.customers = customer_count;
        opts.seed = seed;
        opts.now = test_now;
        opts.window_hours = window_hours;
        opts.portal_default_configuration = portal_default;
        summary = generate_dataset(opts);
        prices = load(opts.out_dir / "prices.json");
        portal_configurations = load(opts.out_dir / "billing_portal_configurations.json");
        for (const auto& v : prices) price_by_id[str(v.at("id"))] = &v.as_object();
        customers = load(opts.out_dir / "customers.json");
        subscriptions = load(opts.out_dir / "subscriptions.json");
        invoices = load(opts.out_dir / "invoices.json");
        charges = load(opts.out_dir / "charges.json");
        events = load(opts.out_dir / "events.json");
        invoice_payments = load(opts.out_dir / "invoice_payments.json");
        subscriptions_legacy = load(opts.out_dir / "subscriptions@2024-06-20.json");
        invoices_legacy = load(opts.out_dir / "invoices@2024-06-20.json");
        charges_legacy = load(opts.out_dir / "charges@2024-06-20.json");
        truth = json::parse(slurp(opts.out_dir / "ground_truth.json")).as_object();
        for (const auto& v : customers) customer_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : invoices) invoice_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : charges) charge_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : events) event_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : charges_legacy) legacy_charge_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : invoices_legacy) legacy_invoice_by_id[str(v.at("id"))] = &v.as_object();
        for (const auto& v : invoice_payments) {
            payments_of_invoice[str(v.at("invoice"))].push_back(&v.as_object());
            if (v.at("payment").at("type") == "payment_intent")
                payments_of_intent[str(v.at("payment").at("payment_intent"))].push_back(&v.as_object());
        }
        load_db();
    }

    static json::array load(const fs::path& p) { return json::parse(slurp(p)).as_array(); }

    void load_db() {
        SQLite::Database db(opts.app_db.string(), SQLite::OPEN_READONLY);
        SQLite::Statement u(db, "SELECT id,email,plan,stripe_customer_id,plan_metadata FROM users");
        while (u.executeStep()) {
            user_row row;
            row.id = u.getColumn(0).getInt64();
            row.email = u.getColumn(1).getString();
            row.plan = u.getColumn(2).getString();
            if (!u.getColumn(3).isNull()) row.customer = u.getColumn(3).getString();
            const auto meta = json::parse(u.getColumn(4).getString()).as_object();
            row.ai_credits = meta.at("ai_credits").as_int64();
            for (const auto& e : meta.at("credit_events").as_array()) {
                const auto& o = e.as_object();
                credit_event ce{str(o.at("id")),     o.at("delta").as_int64(), str(o.at("kind")), str(o.at("reason")),
                                str(o.at("source")), str(o.at("at")),          0,                 std::nullopt};
                ce.t = parse_time(ce.at);
                if (const auto* c = o.if_contains("correlation_id")) ce.correlation = str(*c);
                row.events.push_back(std::move(ce));
            }
            if (!row.customer.empty()) user_by_customer[row.customer] = row.id;
            user_by_email[row.email] = row.id;
            users[row.id] = std::move(row);
        }
        SQLite::Statement p(db,
                            "SELECT stripe_invoice_id,stripe_customer_id,user_id,amount,currency,status,paid_at "
                            "FROM payments");
        while (p.executeStep()) {
            payment_row row{p.getColumn(0).getString(), p.getColumn(1).getString(), p.getColumn(2).getInt64(),
                            p.getColumn(3).getInt64(),  p.getColumn(4).getString(), p.getColumn(5).getString(),
                            p.getColumn(6).getString(), 0};
            row.t = parse_time(row.paid_at);
            payments[row.invoice] = row;
        }
        SQLite::Statement a(db, "SELECT user_id,credits,request_id,created_at FROM ai_usage ORDER BY id");
        while (a.executeStep()) {
            usage_row row{a.getColumn(0).getInt64(), a.getColumn(1).getInt64(), a.getColumn(2).getString(),
                          a.getColumn(3).getString(), 0};
            row.t = parse_time(row.created_at);
            usage.push_back(row);
        }
        for (const auto& row : usage) usage_by_request[row.request_id] = &row;
        SQLite::Statement w(db, "SELECT stripe_event_id,type,received_at,status,attempts,last_error FROM webhook_events");
        while (w.executeStep()) {
            webhook_row row{w.getColumn(1).getString(), w.getColumn(2).getString(), w.getColumn(3).getString(), 0,
                            w.getColumn(4).getInt64(),  std::nullopt};
            row.t = parse_time(row.received_at);
            if (!w.getColumn(5).isNull()) row.last_error = w.getColumn(5).getString();
            webhooks[w.getColumn(0).getString()] = row;
        }
    }

    std::int64_t window_start() const { return truth.at("window").at("start").as_int64(); }
    std::int64_t window_end() const { return truth.at("window").at("end").as_int64(); }
    bool in_window(std::int64_t t) const { return t >= window_start() && t < window_end(); }
    // The generator's promise: seeded things keep this far from the edges.
    std::int64_t margin() const { return std::min<std::int64_t>(300, (window_end() - window_start()) / 10); }
    bool well_inside(std::int64_t t) const { return t >= window_start() + margin() && t < window_end() - margin(); }
    // Not within the margin of either edge (times are all before the end).
    bool clear_of_edges(std::int64_t t) const { return t < window_start() - margin() || well_inside(t); }

    const user_row* user_of(const std::string& customer) const {
        const auto it = user_by_customer.find(customer);
        return it == user_by_customer.end() ? nullptr : &users.at(it->second);
    }
    const user_row* user_by_mail(const std::string& email) const {
        const auto it = user_by_email.find(email);
        return it == user_by_email.end() ? nullptr : &users.at(it->second);
    }

    // The invoice a charge pays: the one it names before basil, else the one
    // whose paid InvoicePayment is by its PaymentIntent; "" for none.
    std::string invoice_of(const json::object& charge) const {
        if (const auto* named = charge.if_contains("invoice")) return str(*named);
        const auto it = payments_of_intent.find(str(charge.at("payment_intent")));
        if (it == payments_of_intent.end()) return {};
        for (const auto* p : it->second)
            if (p->at("status") == "paid") return str(p->at("invoice"));
        return {};
    }

    std::vector<json::object> findings(std::string_view kind) const {
        std::vector<json::object> out;
        for (const auto& f : truth.at("findings").as_array())
            if (f.at("kind").as_string() == kind) out.push_back(f.as_object());
        return out;
    }
    std::set<std::string> subjects(std::string_view kind) const {
        std::set<std::string> out;
        for (const auto& f : findings(kind)) out.insert(str(f.at("subject_id")));
        return out;
    }
    std::set<std::string> seeded_user_emails(std::string_view kind) const {
        std::set<std::string> out;
        for (const auto& f : findings(kind)) out.insert(str(f.at("user_email")));
        return out;
    }
};

const generated& standard() {
    static generated g(50, 7);
    return g;
}

// ------------------------------------------------ the rules, independently

bool invoice_paid(const json::object& inv) {
    if (const auto* p = inv.if_contains("paid"); p && p->is_bool() && p->as_bool()) return true;
    return inv.at("status").as_string() == "paid";
}

std::string line_price(const json::object& line) {
    if (const auto* p = line.if_contains("price"); p && p->is_object()) return str(p->at("id"));
    if (const auto* p = line.if_contains("pricing"); p && p->is_object() && p->at("type") == "price_details")
        return str(p->at("price_details").at("price"));
    return {};
}

bool line_proration(const json::object& line) {
    if (const auto* p = line.if_contains("proration")) return p->as_bool();
    const auto& parent = line.at("parent");
    for (const char* k : {"subscription_item_details", "invoice_item_details"})
        if (const auto* d = parent.as_object().if_contains(k); d && d->is_object()) return d->at("proration").as_bool();
    return false;
}

// The prices of an invoice's non-proration lines.
std::vector<std::string> line_prices(const json::object& inv) {
    std::vector<std::string> out;
    for (const auto& l : inv.at("lines").at("data").as_array())
        if (!line_proration(l.as_object())) out.push_back(line_price(l.as_object()));
    return out;
}

bool has_unknown_price(const json::object& inv, const json::object& prices) {
    for (const auto& p : line_prices(inv))
        if (!prices.contains(p)) return true;
    return false;
}

// Credits a paid invoice should have granted: none when a line's price is
// unknown (no grant expected), else the sum over its lines.
std::int64_t invoice_credits(const json::object& inv, const json::object& prices) {
    if (has_unknown_price(inv, prices)) return 0;
    std::int64_t credits = 0;
    for (const auto& l : inv.at("lines").at("data").as_array()) {
        const auto& line = l.as_object();
        if (line_proration(line)) continue;
        credits += prices.at(line_price(line)).at("credits").as_int64() * line.at("quantity").as_int64();
    }
    return credits;
}

std::string item_price(const json::object& sub) { return str(sub.at("items").at("data").at(0).at("price").at("id")); }

bool entitling(const std::string& status) {
    return status == "active" || status == "trialing" || status == "past_due";
}

std::optional<std::string> target_tier(const json::object& sub, const json::object& prices) {
    const std::string status = str(sub.at("status"));
    const std::string price = item_price(sub);
    // past_due: policy.past_due_tier, default "keep" (the price's tier).
    if (entitling(status)) {
        if (!prices.contains(price)) return std::nullopt;  // unknown price: no tier opinion
        return str(prices.at(price).at("tier"));
    }
    if (status == "canceled" || status == "unpaid" || status == "incomplete_expired") return std::string("free");
    return std::nullopt;
}

bool has_event(const user_row& u, std::string_view kind, const std::string& source) {
    return std::any_of(u.events.begin(), u.events.end(),
                       [&](const credit_event& e) { return e.kind == kind && e.source == source; });
}
bool has_grant(const user_row& u, const std::string& invoice) { return has_event(u, "grant", invoice); }

json::object make(const std::string& kind, std::string_view subject_type, const std::string& subject) {
    return {{"kind", kind}, {"subject_type", subject_type}, {"subject_id", subject}, {"team", teams.at(kind)},
            {"correction", nullptr}};
}
void involve_customer(json::object& f, const generated& g, const std::string& customer) {
    f["customer"] = customer;
    if (const user_row* u = g.user_of(customer)) f["user_email"] = u->email;
}
void involve_user(json::object& f, const user_row& u) {
    f["user_email"] = u.email;
    if (!u.customer.empty()) f["customer"] = u.customer;
}

// Everything the rules find over the window, keyed by (kind, subject). The
// objects hold the fields the ground truth must repeat exactly.
std::map<finding_key, json::object> oracle(const generated& g) {
    const auto& prices = g.truth.at("prices").as_object();
    std::map<finding_key, json::object> found;
    const auto add = [&](json::object f) {
        const finding_key k{str(f.at("kind")), str(f.at("subject_id"))};
        BOOST_TEST_CONTEXT("oracle " << k.first << " " << k.second) { BOOST_TEST(found.emplace(k, std::move(f)).second); }
    };

    // Stripe inputs: the window's events of the fetched types; invoices paid
    // and created in the window, carried by those events, or paid per the
    // app in the window (retrieved one by one; absent = 404).
    std::vector<const json::object*> window_events;
    for (const auto& v : g.events)
        if (g.in_window(v.at("created").as_int64()) && fetched_types.count(str(v.at("type"))))
            window_events.push_back(&v.as_object());
    std::map<std::string, const json::object*> invoices;
    for (const auto& v : g.invoices)
        if (invoice_paid(v.as_object()) && g.in_window(v.at("created").as_int64())) invoices[str(v.at("id"))] = &v.as_object();
    for (const auto* ev : window_events) {
        const auto& obj = ev->at("data").at("object").as_object();
        if (obj.at("object") != "invoice") continue;
        const std::string id = str(obj.at("id"));
        BOOST_REQUIRE(g.invoice_by_id.count(id));
        // The event's snapshot (in its own shape) and the list agree on what matters.
        BOOST_TEST(invoice_paid(obj) == invoice_paid(*g.invoice_by_id.at(id)));
        BOOST_TEST(invoice_credits(obj, prices) == invoice_credits(*g.invoice_by_id.at(id), prices));
        invoices[id] = g.invoice_by_id.at(id);
    }
    for (const auto& [id, p] : g.payments)
        if (g.in_window(p.t) && !invoices.count(id) && g.invoice_by_id.count(id)) invoices[id] = g.invoice_by_id.at(id);

    // credits_not_granted, paid_without_entitlement_change
    for (const auto& [id, inv] : invoices) {
        if (!invoice_paid(*inv)) continue;
        const std::string customer = str(inv->at("customer"));
        const user_row* u = g.user_of(customer);
        if (!u) continue;
        const std::int64_t credits = invoice_credits(*inv, prices);
        if (credits <= 0 || has_grant(*u, id)) continue;
        const bool missing = !g.payments.count(id);
        json::object f = make("credits_not_granted", "invoice", id);
        involve_customer(f, g, customer);
        f["correction"] = json::object{{"kind", "grant_credits"}, {"credits", credits}, {"record_payment", missing}};
        f["credits"] = credits;
        f["payment_missing"] = missing;
        f["amount"] = inv->at("amount_paid").as_int64();
        add(std::move(f));
        bool delivered = false;
        for (const auto& v : g.events)
            if (v.at("type") == "invoice.paid" && str(v.at("data").at("object").at("id")) == id)
                delivered |= g.webhooks.count(str(v.at("id"))) > 0;
        if (missing && !delivered) {
            json::object p = make("paid_without_entitlement_change", "invoice", id);
            involve_customer(p, g, customer);
            add(std::move(p));
        }
    }

    // tier_mismatch: the newest subscription state in the window.
    std::map<std::string, std::vector<const json::object*>> by_sub;
    for (const auto* ev : window_events)
        if (str(ev->at("type")).starts_with("customer.subscription."))
            by_sub[str(ev->at("data").at("object").at("id"))].push_back(ev);
    for (const auto& [sub, evs] : by_sub) {
        std::int64_t newest = 0;
        for (const auto* e : evs) newest = std::max(newest, e->at("created").as_int64());
        std::vector<const json::object*> tied;
        for (const auto* e : evs)
            if (e->at("created").as_int64() == newest) tied.push_back(e);
        const std::string customer = str(tied.front()->at("data").at("object").at("customer"));
        const user_row* u = g.user_of(customer);
        if (!u) continue;
        // Same-second events must not disagree: whichever a reconciler picks,
        // the outcome is the same.
        std::set<std::string> targets;
        for (const auto* e : tied)
            if (auto t = target_tier(e->at("data").at("object").as_object(), prices)) targets.insert(*t);
        BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(targets.size() <= 1u); }
        if (targets.empty() || *targets.begin() == u->plan) continue;
        BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(tied.size() == 1u); }
        json::object f = make("tier_mismatch", "subscription", sub);
        involve_customer(f, g, customer);
        f["correction"] = json::object{{"kind", "set_tier"}, {"to", *targets.begin()}};
        f["from"] = u->plan;
        f["to"] = *targets.begin();
        f["newest_event"] = str(tied.front()->at("id"));
        add(std::move(f));
    }

    // amount_mismatch, currency_mismatch: payment rows of the invoices above.
    for (const auto& [id, p] : g.payments) {
        const auto it = invoices.find(id);
        if (it == invoices.end()) continue;
        const auto& inv = *it->second;
        if (p.amount != inv.at("amount_paid").as_int64()) {
            json::object f = make("amount_mismatch", "invoice", id);
            involve_customer(f, g, str(inv.at("customer")));
            add(std::move(f));
        }
        if (lower(p.currency) != lower(str(inv.at("currency")))) {
            json::object f = make("currency_mismatch", "invoice", id);
            involve_customer(f, g, str(inv.at("customer")));
            add(std::move(f));
        }
    }

    // orphan_local_payment
    for (const auto& [id, p] : g.payments) {
        if (!g.in_window(p.t)) continue;
        const auto it = g.invoice_by_id.find(id);
        const std::string status = it == g.invoice_by_id.end() ? "" : str(it->second->at("status"));
        if (it != g.invoice_by_id.end() && status != "void" && status != "uncollectible") continue;
        json::object f = make("orphan_local_payment", "invoice", id);
        involve_customer(f, g, p.customer);
        add(std::move(f));
    }

    // refund_or_dispute (policy clawback) and charge_without_invoice: the
    // charge's invoice as the event's charge names it (before basil) or as
    // its InvoicePayment links it (basil).
    for (const auto* ev : window_events) {
        const std::string type = str(ev->at("type"));
        const auto& obj = ev->at("data").at("object").as_object();
        const json::object* charge = nullptr;
        std::int64_t taken = 0;
        if (type == "charge.refunded") {
            BOOST_TEST(obj.at("object") == "charge");
            charge = &obj;
            taken = obj.at("amount_refunded").as_int64();
            if (taken <= 0) continue;
        } else if (type == "charge.dispute.created") {
            BOOST_TEST(obj.at("object") == "dispute");
            BOOST_REQUIRE(g.charge_by_id.count(str(obj.at("charge"))));
            charge = g.charge_by_id.at(str(obj.at("charge")));
            taken = obj.at("amount").as_int64();
        } else {
            continue;
        }
        const std::string charge_id = str(charge->at("id"));
        const std::string invoice = g.invoice_of(*charge);
        BOOST_TEST_CONTEXT("charge " << charge_id) {
            // Both links agree: the legacy charge's own and the InvoicePayment's.
            BOOST_TEST(str(g.legacy_charge_by_id.at(charge_id)->at("invoice")) == invoice);
            BOOST_TEST(g.invoice_of(*g.charge_by_id.at(charge_id)) == invoice);
        }
        if (invoice.empty()) {
            json::object f = make("charge_without_invoice", "charge", charge_id);
            involve_customer(f, g, str(charge->at("customer")));
            f["charge"] = charge_id;
            f["reason"] = type == "charge.refunded" ? "refund" : "dispute";
            f["amount"] = charge->at("amount");
            add(std::move(f));
            continue;
        }
        const user_row* u = g.user_of(str(charge->at("customer")));
        if (!u) continue;
        std::int64_t granted = 0;
        for (const auto& e : u->events)
            if (e.kind == "grant" && e.source == invoice) granted += e.delta;
        if (granted <= 0 || has_event(*u, "revoke", charge_id)) continue;
        const std::int64_t due = granted * taken / charge->at("amount").as_int64();
        if (due <= 0) continue;
        const std::int64_t revoke = std::min(due, std::max<std::int64_t>(0, u->ai_credits));
        json::object f = make("refund_or_dispute", "charge", charge_id);
        involve_customer(f, g, str(charge->at("customer")));
        // Nothing to revoke: flagged only.
        if (revoke > 0)
            f["correction"] =
                json::object{{"kind", "revoke_credits"}, {"credits", revoke}, {"unrecovered", due - revoke}};
        f["granted"] = granted;
        f["credits_due"] = due;
        f["invoice"] = invoice;
        add(std::move(f));
    }

    // unknown_customer: customers created in the window or referenced by the
    // window's invoices / subscriptions.
    std::set<std::string> referenced, scope_customers;
    for (const auto& [id, inv] : invoices) referenced.insert(str(inv->at("customer")));
    for (const auto& [sub, evs] : by_sub) referenced.insert(str(evs.front()->at("data").at("object").at("customer")));
    scope_customers = referenced;
    for (const auto& v : g.customers)
        if (g.in_window(v.at("created").as_int64())) scope_customers.insert(str(v.at("id")));
    for (const auto& id : scope_customers) {
        BOOST_REQUIRE(g.customer_by_id.count(id));
        const std::string email = str(g.customer_by_id.at(id)->at("email"));
        // Unambiguous: a customer whose invoices or subscriptions the rules
        // look at maps to the same user (or none) by id and by email.
        if (referenced.count(id))
            BOOST_TEST_CONTEXT("customer " << id) { BOOST_TEST(g.user_of(id) == g.user_by_mail(email)); }
        if (g.user_of(id) || g.user_by_mail(email)) continue;
        json::object f = make("unknown_customer", "customer", id);
        f["customer"] = id;
        add(std::move(f));
    }

    // User-level kinds, over every user; each finding's user must be one the
    // reconciler reads (of the customers above, or with usage / credit
    // events in the window).
    std::set<std::int64_t> read;
    for (const auto& id : scope_customers) {
        if (const user_row* u = g.user_of(id)) read.insert(u->id);
        if (const user_row* u = g.user_by_mail(str(g.customer_by_id.at(id)->at("email")))) read.insert(u->id);
    }
    for (const auto& row : g.usage)
        if (g.in_window(row.t)) read.insert(row.user_id);
    for (const auto& [uid, u] : g.users)
        for (const auto& e : u.events)
            if (g.in_window(e.t)) read.insert(uid);
    for (const auto& [uid, u] : g.users) {
        std::vector<const usage_row*> usage_w;
        for (const auto& row : g.usage)
            if (row.user_id == uid && g.in_window(row.t)) usage_w.push_back(&row);
        std::vector<const credit_event*> consumes_w;
        std::set<std::string> consume_sources;
        for (const auto& e : u.events) {
            if (e.kind != "consume") continue;
            consume_sources.insert(e.source);
            if (g.in_window(e.t)) consumes_w.push_back(&e);
        }
        std::vector<json::object> user_findings;
        const bool negative_or_stuck = u.ai_credits < 0 || (!usage_w.empty() && consumes_w.empty());
        if (negative_or_stuck) {
            user_findings.push_back(make("negative_or_stuck_balance", "user", u.email));
        } else if (!usage_w.empty() && !consumes_w.empty()) {
            bool mismatch = false;
            for (const auto* row : usage_w) mismatch |= !consume_sources.count(row->request_id);
            for (const auto* e : consumes_w) mismatch |= !g.usage_by_request.count(e->source);
            if (mismatch) user_findings.push_back(make("credits_not_decrementing", "user", u.email));
        }
        if (u.ai_credits != u.sum()) user_findings.push_back(make("balance_drift", "user", u.email));
        for (const auto& e : u.events)
            if (g.in_window(e.t) && (!e.correlation || e.correlation->empty()))
                user_findings.push_back(make("missing_correlation_id", "credit_event", e.id));
        for (auto& f : user_findings) {
            BOOST_TEST_CONTEXT("user " << u.email) { BOOST_TEST(read.count(uid) == 1u); }
            involve_user(f, u);
            add(std::move(f));
        }
    }

    // webhook_failed_twice
    for (const auto& [id, w] : g.webhooks) {
        if (w.status != "failed" || w.attempts < 2 || !g.in_window(w.t)) continue;
        json::object f = make("webhook_failed_twice", "event", id);
        if (const auto it = g.event_by_id.find(id); it != g.event_by_id.end())
            involve_customer(f, g, str(it->second->at("data").at("object").at("customer")));
        add(std::move(f));
    }

    // missed_webhook: handled types, older than the grace, no row at all.
    for (const auto* ev : window_events) {
        const std::string type = str(ev->at("type"));
        if (type != "invoice.paid" && !type.starts_with("customer.subscription.")) continue;
        if (g.window_end() - ev->at("created").as_int64() <= grace || g.webhooks.count(str(ev->at("id")))) continue;
        const auto& obj = ev->at("data").at("object");
        json::object f = make("missed_webhook", "event", str(ev->at("id")));
        involve_customer(f, g, str(obj.at("customer")));
        const std::string fixer = type == "invoice.paid" ? "credits_not_granted" : "tier_mismatch";
        // The effect is repaired by that finding of the same object.
        BOOST_TEST_CONTEXT("missed " << str(ev->at("id"))) { BOOST_TEST(found.count({fixer, str(obj.at("id"))}) == 1u); }
        f["corrected_by"] = json::object{{"kind", fixer}, {"subject_id", str(obj.at("id"))}};
        add(std::move(f));
    }

    // webhook_signature_failures
    std::int64_t signature_failures = 0;
    for (const auto& [id, w] : g.webhooks) signature_failures += w.status == "signature_failed" && g.in_window(w.t);
    if (signature_failures >= signature_threshold) {
        json::object f = make("webhook_signature_failures", "webhook_endpoint", "webhook_endpoint");
        f["count"] = signature_failures;
        add(std::move(f));
    }

    // unknown_price: one per price the map lacks, used by the paid invoices
    // above (a non-proration line) or by a subscription whose newest state
    // in the window is entitling.
    struct price_use {
        std::set<std::string> customers, invoices, subscriptions;
    };
    std::map<std::string, price_use> unknown;
    for (const auto& [id, inv] : invoices) {
        if (!invoice_paid(*inv)) continue;
        for (const auto& p : line_prices(*inv)) {
            if (prices.contains(p)) continue;
            unknown[p].invoices.insert(id);
            unknown[p].customers.insert(str(inv->at("customer")));
        }
    }
    for (const auto& [sub, evs] : by_sub) {
        std::int64_t newest = 0;
        for (const auto* e : evs) newest = std::max(newest, e->at("created").as_int64());
        std::set<std::string> uses;  // per tied event: "<price>" when it counts, "" when not
        for (const auto* e : evs) {
            if (e->at("created").as_int64() != newest) continue;
            const auto& obj = e->at("data").at("object").as_object();
            const bool counts = entitling(str(obj.at("status"))) && !prices.contains(item_price(obj));
            uses.insert(counts ? item_price(obj) : "");
        }
        // Whichever tied event a reconciler takes, the count is the same.
        BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(uses.size() == 1u); }
        if (uses.begin()->empty()) continue;
        unknown[*uses.begin()].subscriptions.insert(sub);
        unknown[*uses.begin()].customers.insert(str(evs.front()->at("data").at("object").at("customer")));
    }
    for (const auto& [price, use] : unknown) {
        json::object f = make("unknown_price", "price", price);
        BOOST_REQUIRE(g.price_by_id.count(price));
        const auto& p = *g.price_by_id.at(price);
        f["evidence"] = json::object{{"price", price},
                                     {"nickname", p.at("nickname")},
                                     {"product", p.at("product")},
                                     {"customers", use.customers.size()},
                                     {"invoices", use.invoices.size()},
                                     {"subscriptions", use.subscriptions.size()}};
        add(std::move(f));
    }

    // billing_portal_misconfigured: the active default configuration's
    // subscription_update prices, as GET /v1/prices/{id} shows them.
    const json::object* default_configuration = nullptr;
    for (const auto& v : g.portal_configurations)
        if (v.at("active") == true && v.at("is_default") == true) default_configuration = &v.as_object();
    if (!default_configuration) {
        add(make("billing_portal_misconfigured", "billing_portal", "no_default_configuration"));
    } else if (const auto& update = default_configuration->at("features").at("subscription_update");
               update.at("enabled") == true) {
        const std::string id = str(default_configuration->at("id"));
        std::set<std::string> archived, unmapped;
        for (const auto& product : update.at("products").as_array())
            for (const auto& pv : product.at("prices").as_array()) {
                const std::string price = str(pv);
                BOOST_REQUIRE(g.price_by_id.count(price));
                if (g.price_by_id.at(price)->at("active") == false) archived.insert(price);
                if (!prices.contains(price)) unmapped.insert(price);
            }
        const auto portal = [&](const std::set<std::string>& ids, const std::string& suffix, const char* team) {
            if (ids.empty()) return;
            json::object f = make("billing_portal_misconfigured", "billing_portal_configuration", id + suffix);
            f["team"] = team;
            json::array list;
            for (const auto& p : ids) list.push_back(json::value(p));
            f["evidence"] = json::object{{"configuration", id}, {"prices", std::move(list)}};
            add(std::move(f));
        };
        portal(archived, "#archived_prices", "stripe_support");
        portal(unmapped, "#unmapped_prices", "billing_engineering");
    }
    return found;
}

void check_oracle_matches_truth(const generated& g) {
    const auto expected = oracle(g);
    std::map<finding_key, const json::object*> truth;
    for (const auto& v : g.truth.at("findings").as_array()) {
        const finding_key k{str(v.at("kind")), str(v.at("subject_id"))};
        BOOST_TEST_CONTEXT("truth " << k.first << " " << k.second) { BOOST_TEST(truth.emplace(k, &v.as_object()).second); }
    }
    BOOST_TEST(expected.size() == truth.size());
    for (const auto& [k, want] : expected) {
        BOOST_TEST_CONTEXT("found by the rules: " << k.first << " " << k.second) {
            const auto it = truth.find(k);
            BOOST_TEST((it != truth.end()));
            if (it == truth.end()) continue;
            const json::object& got = *it->second;
            for (const auto& kv : want)
                BOOST_TEST_CONTEXT("field " << kv.key()) {
                    BOOST_TEST(got.contains(kv.key()));
                    if (got.contains(kv.key())) BOOST_TEST(json::serialize(got.at(kv.key())) == json::serialize(kv.value()));
                }
            // user_email / customer exactly when the rules know them.
            for (const char* key : {"user_email", "customer"})
                BOOST_TEST_CONTEXT("field " << key) { BOOST_TEST(got.contains(key) == want.contains(key)); }
        }
    }
    for (const auto& [k, f] : truth)
        BOOST_TEST_CONTEXT("seeded: " << k.first << " " << k.second) { BOOST_TEST(expected.count(k) == 1u); }
}

std::map<std::string, int> count_by(const generated& g, const char* field) {
    std::map<std::string, int> out;
    for (const auto& f : g.truth.at("findings").as_array())
        if (const auto* v = f.as_object().if_contains(field)) ++out[str(*v)];
    return out;
}

// Every kind at least twice (webhook_signature_failures: once per window;
// missed_webhook: none in a 1 h window, where nothing is older than the grace).
void check_kind_counts(const generated& g) {
    const auto by_kind = count_by(g, "kind");
    const bool short_window = g.window_end() - g.window_start() < 2 * 3600;
    for (const auto& [kind, team] : teams) {
        BOOST_TEST_CONTEXT("kind " << kind) {
            if (kind == "webhook_signature_failures") BOOST_TEST(by_kind.count(kind) == 1u);
            else if (kind == "billing_portal_misconfigured" && !g.opts.portal_default_configuration)
                BOOST_TEST(by_kind.at(kind) == 1);
            else if (kind == "missed_webhook" && short_window) BOOST_TEST(by_kind.count(kind) == 0u);
            else BOOST_TEST((by_kind.count(kind) ? by_kind.at(kind) : 0) >= 2);
        }
    }
    for (const auto& [kind, n] : by_kind) BOOST_TEST_CONTEXT("kind " << kind) { BOOST_TEST(teams.count(kind) == 1u); }
    const auto by_scenario = count_by(g, "scenario");
    for (const char* s : {"grant_missing_payment_recorded", "grant_and_payment_missing", "missed_upgrade",
                          "missed_cancellation", "late_older_event"})
        BOOST_TEST_CONTEXT("scenario " << s) { BOOST_TEST(by_scenario.at(s) >= 2); }
    for (const char* s : {"refund_credits_unused", "refund_credits_spent", "refund_partial_credits_unused",
                          "refund_credits_all_spent", "dispute_clustered", "dispute_lone", "one_off_refunded",
                          "one_off_disputed", "invoice_unknown_to_stripe",
                          "invoice_void", "created_in_window", "invoice_in_window", "negative_balance", "stuck_usage",
                          "usage_without_consume", "consume_without_usage", "empty_correlation_id",
                          "absent_correlation_id", "invoice_paid_replayed", "subscription_updated_replayed"})
        BOOST_TEST_CONTEXT("scenario " << s) { BOOST_TEST(by_scenario.count(s) == 1u); }
    // One unknown_price per price (pro and team yearly); the portal's
    // archived price twice (archived, unmapped) or no default at all.
    BOOST_TEST(by_scenario.at("unknown_price") == 2);
    if (g.opts.portal_default_configuration) BOOST_TEST(by_scenario.at("billing_portal_archived_price") == 2);
    else BOOST_TEST(by_scenario.at("billing_portal_no_default") == 1);
    BOOST_TEST(g.summary.seeded_findings == g.truth.at("findings").as_array().size());
}

// Whatever the rules see of a seeded finding sits well inside the window.
void check_margins(const generated& g) {
    for (const auto& v : g.truth.at("findings").as_array()) {
        const auto& f = v.as_object();
        const std::string kind = str(f.at("kind")), id = str(f.at("subject_id"));
        BOOST_TEST_CONTEXT(kind << " " << id) {
            if (f.at("subject_type") == "invoice" && kind != "orphan_local_payment") {
                const auto& inv = *g.invoice_by_id.at(id);
                BOOST_TEST(g.well_inside(inv.at("created").as_int64()));
                BOOST_TEST(g.well_inside(inv.at("status_transitions").at("paid_at").as_int64()));
            }
            if (kind == "orphan_local_payment") BOOST_TEST(g.well_inside(g.payments.at(id).t));
            if (kind == "tier_mismatch") BOOST_TEST(g.well_inside(g.event_by_id.at(str(f.at("newest_event")))->at("created").as_int64()));
            if (kind == "refund_or_dispute" || kind == "charge_without_invoice")
                BOOST_TEST(g.well_inside(g.event_by_id.at(str(f.at("event")))->at("created").as_int64()));
            if (kind == "unknown_customer") {
                const std::int64_t created = g.customer_by_id.at(id)->at("created").as_int64();
                if (f.at("invoice").is_null()) BOOST_TEST(g.well_inside(created));
                else BOOST_TEST(g.well_inside(g.invoice_by_id.at(str(f.at("invoice")))->at("created").as_int64()));
            }
            if (kind == "missed_webhook") {
                const std::int64_t created = g.event_by_id.at(id)->at("created").as_int64();
                BOOST_TEST(g.well_inside(created));
                BOOST_TEST(g.window_end() - created >= grace + 300);
            }
            if (kind == "webhook_failed_twice") BOOST_TEST(g.well_inside(g.webhooks.at(id).t));
            if (kind == "unknown_price") {
                // Its invoices and its subscriptions' events in the window.
                for (const auto& v : g.invoices) {
                    const auto ps = line_prices(v.as_object());
                    if (std::find(ps.begin(), ps.end(), id) == ps.end() || !g.in_window(v.at("created").as_int64()))
                        continue;
                    BOOST_TEST(g.well_inside(v.at("created").as_int64()));
                    BOOST_TEST(g.well_inside(v.at("status_transitions").at("paid_at").as_int64()));
                }
                for (const auto& v : g.events)
                    if (str(v.at("type")).starts_with("customer.subscription.") &&
                        item_price(v.at("data").at("object").as_object()) == id)
                        BOOST_TEST(g.clear_of_edges(v.at("created").as_int64()));
            }
            if (kind == "webhook_signature_failures")
                for (const auto& e : f.at("event_ids").as_array()) BOOST_TEST(g.well_inside(g.webhooks.at(str(e)).t));
            if (f.at("subject_type") == "user" || f.at("subject_type") == "credit_event") {
                const user_row& u = g.users.at(g.user_by_email.at(str(f.at("user_email"))));
                for (const auto& e : u.events) BOOST_TEST(g.clear_of_edges(e.t));
                for (const auto& row : g.usage)
                    if (row.user_id == u.id) BOOST_TEST(g.clear_of_edges(row.t));
            }
        }
    }
    // Dropped webhooks inside the grace (short windows) keep clear of its edge.
    for (const auto& v : g.events) {
        const std::string type = str(v.at("type"));
        if (g.webhooks.count(str(v.at("id"))) || (type != "invoice.paid" && !type.starts_with("customer.subscription.")))
            continue;
        const std::int64_t age = g.window_end() - v.at("created").as_int64();
        BOOST_TEST((age >= grace + 300 || age <= grace - 300));
    }
}

void check_everything(const generated& g) {
    check_kind_counts(g);
    check_oracle_matches_truth(g);
    check_margins(g);
}

std::string dump_db(const fs::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    std::string out;
    for (const char* q : {"SELECT * FROM users ORDER BY id", "SELECT * FROM payments ORDER BY id",
                          "SELECT * FROM ai_usage ORDER BY id", "SELECT * FROM webhook_events ORDER BY stripe_event_id"}) {
        SQLite::Statement s(db, q);
        while (s.executeStep()) {
            for (int i = 0; i < s.getColumnCount(); ++i) out += s.getColumn(i).getString() + '|';
            out += '\n';
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_generator)

BOOST_AUTO_TEST_CASE(summary_matches_files) {
    const auto& g = standard();
    BOOST_TEST(g.summary.customers == 50u);
    BOOST_TEST(g.summary.customers == g.customers.size());
    BOOST_TEST(g.summary.subscriptions == g.subscriptions.size());
    BOOST_TEST(g.summary.invoices == g.invoices.size());
    BOOST_TEST(g.summary.events == g.events.size());
    BOOST_TEST(g.summary.charges == g.charges.size());
    BOOST_TEST(g.summary.invoice_payments == g.invoice_payments.size());
    BOOST_TEST(g.summary.window_end == test_now);
    BOOST_TEST(g.summary.window_start == test_now - 24 * 3600);
    BOOST_TEST(g.window_start() == g.summary.window_start);
    BOOST_TEST(g.truth.at("seed").as_int64() == 7);
    BOOST_TEST(g.truth.at("now").as_int64() == test_now);
    const auto& prices = g.truth.at("prices").as_object();
    BOOST_TEST(prices.at("price_pro_monthly").at("tier") == "pro");
    BOOST_TEST(prices.at("price_pro_monthly").at("credits").as_int64() == 1000);
    BOOST_TEST(prices.at("price_team_monthly").at("tier") == "team");
    BOOST_TEST(prices.at("price_team_monthly").at("credits").as_int64() == 5000);
    BOOST_TEST(prices.at("price_credits_500").at("tier").is_null());
    BOOST_TEST(prices.at("price_credits_500").at("credits").as_int64() == 500);
    const auto& policy = g.truth.at("policy").as_object();
    BOOST_TEST(policy.at("webhook_grace_seconds").as_int64() == grace);
    BOOST_TEST(policy.at("signature_failure_threshold").as_int64() == signature_threshold);
    BOOST_TEST(policy.at("refund_or_dispute") == "clawback");
    // ~70% paying customers; every known customer has an app user; plus app-only users.
    BOOST_TEST(g.subscriptions.size() >= 25u);
    BOOST_TEST(g.users.size() > 50u);
    BOOST_TEST(g.user_by_customer.size() == 50u - g.findings("unknown_customer").size() - 1u);  // 1: matched by email
}

BOOST_AUTO_TEST_CASE(deterministic) {
    const auto& a = standard();
    generated b(50, 7);
    for (const auto& f : dataset_files)
        BOOST_TEST_CONTEXT(f) { BOOST_TEST((slurp(a.opts.out_dir / f) == slurp(b.opts.out_dir / f))); }
    BOOST_TEST((dump_db(a.opts.app_db) == dump_db(b.opts.app_db)));
    // And the seed matters.
    generated c(50, 8);
    BOOST_TEST((slurp(a.opts.out_dir / "events.json") != slurp(c.opts.out_dir / "events.json")));
}

BOOST_AUTO_TEST_CASE(ground_truth_is_exactly_what_the_rules_find) { check_everything(standard()); }

BOOST_AUTO_TEST_CASE(smallest_dataset_still_seeds_everything) {
    for (const std::uint64_t seed : {1234u, 1u, 77u}) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            generated g(30, seed);
            check_everything(g);
        }
    }
}

BOOST_AUTO_TEST_CASE(larger_datasets_scale_kinds_and_stay_exact) {
    generated g(400, 99);
    const auto by_scenario = count_by(g, "scenario");
    BOOST_TEST(by_scenario.at("missed_upgrade") == 4);
    // Four instances: variants 0, 1, 2 (with the extra lone dispute), 0 again.
    BOOST_TEST(count_by(g, "kind").at("refund_or_dispute") == 11);
    BOOST_TEST(count_by(g, "kind").at("charge_without_invoice") == 2);
    BOOST_TEST(count_by(g, "kind").at("balance_drift") == 4);
    check_everything(g);
    generated h(200, 42);
    check_everything(h);
}

BOOST_AUTO_TEST_CASE(shortest_and_longest_windows_stay_exact) {
    for (const std::int64_t hours : {1, 2, 28 * 24}) {
        BOOST_TEST_CONTEXT("window_hours " << hours) {
            generated g(30, 5, hours);
            BOOST_TEST(g.summary.window_start == test_now - hours * 3600);
            check_everything(g);
        }
    }
}

BOOST_AUTO_TEST_CASE(findings_carry_the_agreed_fields) {
    const auto& g = standard();
    const std::map<std::string, std::string> subject_types{
        {"credits_not_granted", "invoice"},       {"paid_without_entitlement_change", "invoice"},
        {"tier_mismatch", "subscription"},        {"amount_mismatch", "invoice"},
        {"currency_mismatch", "invoice"},         {"orphan_local_payment", "invoice"},
        {"refund_or_dispute", "charge"},          {"unknown_customer", "customer"},
        {"credits_not_decrementing", "user"},     {"negative_or_stuck_balance", "user"},
        {"balance_drift", "user"},                {"webhook_failed_twice", "event"},
        {"missed_webhook", "event"},              {"webhook_signature_failures", "webhook_endpoint"},
        {"missing_correlation_id", "credit_event"}, {"charge_without_invoice", "charge"},
        {"unknown_price", "price"},               {"billing_portal_misconfigured", "billing_portal"}};
    const std::map<std::string, std::string> prefixes{{"invoice", "in_"},  {"subscription", "sub_"},
                                                      {"charge", "ch_"},   {"customer", "cus_"},
                                                      {"event", "evt_"},   {"credit_event", "ce_"},
                                                      {"price", "price_"}, {"billing_portal_configuration", "bpc_"}};
    for (const auto& v : g.truth.at("findings").as_array()) {
        const auto& f = v.as_object();
        const std::string kind = str(f.at("kind")), id = str(f.at("subject_id"));
        BOOST_TEST_CONTEXT(kind << " " << id) {
            // A configuration's findings name it; the missing default names the portal.
            const bool about_configuration = id.starts_with("bpc_");
            BOOST_TEST(str(f.at("subject_type")) ==
                       (about_configuration ? "billing_portal_configuration" : subject_types.at(kind)));
            // The portal's unmapped prices are billing engineering's to map.
            const bool unmapped_portal_prices = id.ends_with("#unmapped_prices");
            BOOST_TEST(str(f.at("team")) == (unmapped_portal_prices ? "billing_engineering" : teams.at(kind)));
            if (const auto p = prefixes.find(str(f.at("subject_type"))); p != prefixes.end())
                BOOST_TEST(id.starts_with(p->second));
            if (f.at("subject_type") == "user") BOOST_TEST(id == str(f.at("user_email")));
            if (kind == "webhook_signature_failures") BOOST_TEST(id == "webhook_endpoint");
            const std::set<std::string> about_no_user{"unknown_customer", "webhook_signature_failures", "unknown_price",
                                                      "billing_portal_misconfigured"};
            BOOST_TEST(f.contains("user_email") == !about_no_user.count(kind));
            BOOST_TEST(f.contains("scenario") != (kind == "missed_webhook"));
            const auto& c = f.at("correction");
            if (kind == "credits_not_granted") {
                BOOST_TEST(c.at("kind") == "grant_credits");
                BOOST_TEST(c.at("credits") == f.at("credits"));
                BOOST_TEST(c.at("record_payment") == f.at("payment_missing"));
            } else if (kind == "tier_mismatch") {
                BOOST_TEST(c.at("kind") == "set_tier");
                BOOST_TEST(c.at("to") == f.at("to"));
            } else if (kind == "refund_or_dispute") {
                const std::int64_t due = f.at("credits_due").as_int64();
                const std::int64_t taken =
                    (f.contains("amount_refunded") ? f.at("amount_refunded") : f.at("amount_disputed")).as_int64();
                BOOST_TEST(due == f.at("granted").as_int64() * taken / f.at("amount").as_int64());
                if (c.is_null()) {
                    // Nothing left to revoke: flagged, everything due unrecovered.
                    BOOST_TEST(f.at("ai_credits").as_int64() <= 0);
                    BOOST_TEST(f.at("unrecovered").as_int64() == due);
                } else {
                    BOOST_TEST(c.at("kind") == "revoke_credits");
                    BOOST_TEST(c.at("credits").as_int64() + c.at("unrecovered").as_int64() == due);
                    BOOST_TEST(c.at("credits").as_int64() > 0);
                    BOOST_TEST(!f.contains("unrecovered"));
                }
                BOOST_TEST(str(f.at("payment_intent")).starts_with("pi_"));
            } else if (kind == "charge_without_invoice") {
                BOOST_TEST(c.is_null());
                BOOST_TEST(str(f.at("charge")) == id);
                BOOST_TEST((f.at("reason") == "refund" || f.at("reason") == "dispute"));
                BOOST_TEST(f.at("amount").as_int64() > 0);
                BOOST_TEST(str(f.at("payment_intent")).starts_with("pi_"));
            } else {
                BOOST_TEST(c.is_null());
            }
        }
    }
    // The refund variants: everything revoked, the balance revoked and the
    // rest unrecovered, or (balance 0) nothing revoked and flagged.
    for (const auto& f : g.findings("refund_or_dispute")) {
        const auto& c = f.at("correction");
        BOOST_TEST_CONTEXT(str(f.at("scenario")) << " " << str(f.at("subject_id"))) {
            if (f.at("scenario") == "refund_credits_spent") {
                BOOST_TEST(c.at("credits").as_int64() > 0);
                BOOST_TEST(c.at("unrecovered").as_int64() > 0);
                BOOST_TEST(c.at("credits").as_int64() == f.at("ai_credits").as_int64());
            } else if (f.at("scenario") == "refund_credits_all_spent" || f.at("scenario") == "dispute_lone") {
                BOOST_TEST(c.is_null());
                BOOST_TEST(f.at("ai_credits").as_int64() == 0);
                BOOST_TEST(f.at("unrecovered") == f.at("credits_due"));
            } else {
                BOOST_TEST(c.at("unrecovered").as_int64() == 0);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(seeded_credit_invoices_are_paid_without_grant) {
    const auto& g = standard();
    const auto pwec = g.subjects("paid_without_entitlement_change");
    for (const auto& f : g.findings("credits_not_granted")) {
        const std::string id = str(f.at("subject_id"));
        BOOST_TEST_CONTEXT("invoice " << id) {
            const auto& inv = *g.invoice_by_id.at(id);
            BOOST_TEST(invoice_paid(inv));
            BOOST_TEST(str(inv.at("customer")) == str(f.at("customer")));
            BOOST_TEST(str(inv.at("customer_email")) == str(f.at("user_email")));
            const user_row* u = g.user_of(str(f.at("customer")));
            BOOST_REQUIRE(u);
            BOOST_TEST(!has_grant(*u, id));
            const bool payment_missing = f.at("payment_missing").as_bool();
            BOOST_TEST(g.payments.count(id) == (payment_missing ? 0u : 1u));
            BOOST_TEST(pwec.count(id) == (payment_missing ? 1u : 0u));
            // Dropped webhooks: no webhook_events row for any of the invoice's events.
            for (const auto& v : g.events) {
                const auto& obj = v.at("data").at("object").as_object();
                if (obj.at("object") == "invoice" && str(obj.at("id")) == id)
                    BOOST_TEST(g.webhooks.count(str(v.at("id"))) == (payment_missing ? 0u : 1u));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(events_without_webhook_rows_are_exactly_the_seeded_drops) {
    for (const std::int64_t hours : {1, 24}) {
        generated g(50, 7, hours);
        std::set<std::string> expected_drops;  // event ids
        const auto pwec = g.subjects("paid_without_entitlement_change");
        std::set<std::string> dropped_newest;
        for (const auto& f : g.findings("tier_mismatch"))
            if (str(f.at("scenario")).starts_with("missed_")) dropped_newest.insert(str(f.at("newest_event")));
        for (const auto& v : g.events) {
            const std::string id = str(v.at("id"));
            const auto& obj = v.at("data").at("object");
            if (dropped_newest.count(id) || (obj.at("object") == "invoice" && pwec.count(str(obj.at("id")))))
                expected_drops.insert(id);
        }
        std::set<std::string> without_row;
        for (const auto& v : g.events)
            if (!g.webhooks.count(str(v.at("id")))) without_row.insert(str(v.at("id")));
        BOOST_TEST_CONTEXT("window_hours " << hours) {
            BOOST_TEST((without_row == expected_drops));
            BOOST_TEST(expected_drops.size() >= 6u);  // 2 x (paid + payment_succeeded), 2 x upgrade, 2 x cancellation
            // invoice.payment_succeeded is dropped too, and is never a finding.
            for (const auto& f : g.findings("missed_webhook"))
                BOOST_TEST(str(g.event_by_id.at(str(f.at("subject_id")))->at("type")) != "invoice.payment_succeeded");
        }
        // Every other row: processed at the first attempt, except the seeded ones.
        const auto failed = g.subjects("webhook_failed_twice");
        std::set<std::string> forged;
        for (const auto& f : g.findings("webhook_signature_failures"))
            for (const auto& e : f.at("event_ids").as_array()) forged.insert(str(e));
        std::size_t signature_rows = 0, failed_rows = 0;
        for (const auto& [id, w] : g.webhooks) {
            BOOST_TEST_CONTEXT("webhook " << id) {
                if (w.status == "signature_failed") {
                    ++signature_rows;
                    BOOST_TEST(!g.event_by_id.count(id));  // forged: no such Stripe event
                    BOOST_TEST(w.last_error.has_value());
                } else if (w.status == "failed") {
                    ++failed_rows;
                    BOOST_TEST(w.attempts >= 2);
                    BOOST_TEST(w.last_error.has_value());
                    BOOST_TEST((failed.count(id) == 1u || !g.in_window(w.t)));
                } else {
                    BOOST_TEST(w.status == "processed");
                    BOOST_TEST(w.attempts == 1);
                    BOOST_TEST(!w.last_error.has_value());
                }
            }
        }
        BOOST_TEST(signature_rows == forged.size() + 1);  // one before the window
        BOOST_TEST(failed_rows == failed.size() + 1);     // the subscription's earlier failure, before the window
    }
}

BOOST_AUTO_TEST_CASE(other_paid_invoices_are_consistent) {
    const auto& g = standard();
    const auto ungranted = g.subjects("credits_not_granted");
    std::set<std::string> differs = g.subjects("amount_mismatch");
    for (const auto& id : g.subjects("currency_mismatch")) differs.insert(id);
    std::set<std::string> unknown = g.subjects("unknown_customer");
    int in_window = 0, upper_case = 0;
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        const std::string id = str(inv.at("id"));
        BOOST_TEST_CONTEXT("invoice " << id) {
            if (!invoice_paid(inv)) {
                if (g.payments.count(id)) BOOST_TEST(g.subjects("orphan_local_payment").count(id) == 1u);
                continue;
            }
            if (unknown.count(str(inv.at("customer")))) {
                BOOST_TEST(!g.payments.count(id));
                continue;
            }
            const user_row* u = g.user_of(str(inv.at("customer")));
            BOOST_REQUIRE(u);
            BOOST_TEST(has_grant(*u, id) != (ungranted.count(id) == 1u));
            if (!g.payments.count(id)) {
                BOOST_TEST(g.subjects("paid_without_entitlement_change").count(id) == 1u);
                continue;
            }
            const auto& p = g.payments.at(id);
            if (!differs.count(id)) {
                BOOST_TEST(p.amount == inv.at("amount_paid").as_int64());
                BOOST_TEST(lower(p.currency) == str(inv.at("currency")));
            }
            upper_case += p.currency == "USD";
            BOOST_TEST(p.status == "paid");
            BOOST_TEST(p.user_id == u->id);
            BOOST_TEST(p.customer == u->customer);
            BOOST_TEST(p.paid_at == rfc3339(inv.at("status_transitions").at("paid_at").as_int64()));
            if (g.in_window(p.t)) ++in_window;
        }
    }
    BOOST_TEST(in_window >= 1);   // the check above had something to check in the window
    BOOST_TEST(upper_case >= 1);  // noise: "USD" is the same currency
}

BOOST_AUTO_TEST_CASE(charges_pay_every_paid_invoice) {
    const auto& g = standard();
    // The legacy rendition names each charge's invoice (null: a one-off payment).
    std::map<std::string, const json::object*> charge_of_invoice;
    std::set<std::string> one_offs;
    for (const auto& v : g.charges_legacy) {
        const auto& ch = v.as_object();
        BOOST_TEST_CONTEXT("charge " << str(ch.at("id"))) {
            BOOST_TEST(ch.at("object") == "charge");
            BOOST_TEST(str(ch.at("id")).starts_with("ch_"));
            BOOST_TEST(str(ch.at("payment_intent")).starts_with("pi_"));
            BOOST_REQUIRE(ch.contains("invoice"));
            if (ch.at("invoice").is_null()) one_offs.insert(str(ch.at("id")));
            else BOOST_TEST(charge_of_invoice.emplace(str(ch.at("invoice")), &ch).second);
            BOOST_TEST(ch.at("currency") == "usd");
            BOOST_TEST(ch.at("paid") == true);
            BOOST_TEST(ch.at("status") == "succeeded");
            BOOST_TEST(ch.at("refunded") == (ch.at("amount_refunded") == ch.at("amount")));
        }
    }
    // One-off payments are exactly the seeded charge_without_invoice subjects.
    BOOST_TEST((one_offs == g.subjects("charge_without_invoice")));
    std::set<std::string> refunded_charges, disputed_charges;
    for (const char* kind : {"refund_or_dispute", "charge_without_invoice"})
        for (const auto& f : g.findings(kind))
            (f.at("event_type") == "charge.dispute.created" ? disputed_charges : refunded_charges)
                .insert(str(f.at("subject_id")));
    for (const auto& v : g.charges)
        BOOST_TEST_CONTEXT("charge " << str(v.at("id"))) {
            BOOST_TEST(v.at("disputed").as_bool() == (disputed_charges.count(str(v.at("id"))) == 1u));
        }
    std::size_t revoked_noise = 0;
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        const std::string id = str(inv.at("id"));
        BOOST_TEST_CONTEXT("invoice " << id) {
            if (!invoice_paid(inv)) {
                BOOST_TEST(!charge_of_invoice.count(id));
                continue;
            }
            BOOST_REQUIRE(charge_of_invoice.count(id));
            const auto& ch = *charge_of_invoice.at(id);
            BOOST_TEST(ch.at("customer") == inv.at("customer"));
            BOOST_TEST(ch.at("amount") == inv.at("amount_paid"));
            BOOST_TEST(ch.at("created") == inv.at("status_transitions").at("paid_at"));
            const std::string charge = str(ch.at("id"));
            if (ch.at("amount_refunded").as_int64() > 0 && !refunded_charges.count(charge)) {
                // Noise: a refund whose credits were already revoked.
                const user_row* u = g.user_of(str(ch.at("customer")));
                BOOST_REQUIRE(u);
                BOOST_TEST(has_event(*u, "revoke", charge));
                ++revoked_noise;
            }
        }
    }
    BOOST_TEST(charge_of_invoice.size() + one_offs.size() == g.charges.size());
    BOOST_TEST(revoked_noise >= 1u);
    // Legacy invoice snapshots name their charge and its PaymentIntent.
    for (const auto& v : g.events) {
        const auto& obj = v.at("data").at("object").as_object();
        if (str(v.at("api_version")) == legacy_version && obj.at("object") == "invoice" && invoice_paid(obj)) {
            const auto& ch = *charge_of_invoice.at(str(obj.at("id")));
            BOOST_TEST(str(obj.at("charge")) == str(ch.at("id")));
            BOOST_TEST(str(obj.at("payment_intent")) == str(ch.at("payment_intent")));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_paid_invoice_has_one_invoice_payment_naming_its_payment_intent) {
    const auto& g = standard();
    std::set<std::string> ids;
    for (const auto& v : g.invoice_payments) {
        const auto& p = v.as_object();
        BOOST_TEST_CONTEXT("invoice payment " << str(p.at("id"))) {
            BOOST_TEST(str(p.at("id")).starts_with("inpay_"));
            BOOST_TEST(ids.insert(str(p.at("id"))).second);
            BOOST_TEST(p.at("object") == "invoice_payment");
            BOOST_TEST(p.at("is_default") == true);
            BOOST_TEST(p.at("livemode") == false);
            BOOST_TEST(p.at("currency") == "usd");
            BOOST_TEST(p.at("payment").at("type") == "payment_intent");
            BOOST_TEST(p.at("status_transitions").at("canceled_at").is_null());
            BOOST_TEST(g.invoice_by_id.count(str(p.at("invoice"))) == 1u);
        }
    }
    std::size_t paid = 0;
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        const std::string id = str(inv.at("id"));
        BOOST_TEST_CONTEXT("invoice " << id) {
            const auto it = g.payments_of_invoice.find(id);
            if (!invoice_paid(inv)) {
                BOOST_TEST((it == g.payments_of_invoice.end()));
                continue;
            }
            ++paid;
            BOOST_REQUIRE((it != g.payments_of_invoice.end()));
            BOOST_REQUIRE(it->second.size() == 1u);
            const auto& p = *it->second.front();
            BOOST_TEST(p.at("status") == "paid");
            BOOST_TEST(p.at("amount_paid") == inv.at("amount_paid"));
            BOOST_TEST(p.at("amount_requested") == inv.at("amount_due"));
            BOOST_TEST(p.at("status_transitions").at("paid_at") == inv.at("status_transitions").at("paid_at"));
            // Its PaymentIntent is the one the legacy invoice and its charge name.
            const std::string intent = str(p.at("payment").at("payment_intent"));
            BOOST_TEST(intent.starts_with("pi_"));
            const auto& legacy = *g.legacy_invoice_by_id.at(id);
            BOOST_TEST(str(legacy.at("payment_intent")) == intent);
            BOOST_TEST(str(g.legacy_charge_by_id.at(str(legacy.at("charge")))->at("payment_intent")) == intent);
            BOOST_TEST(g.payments_of_intent.at(intent).size() == 1u);
        }
    }
    BOOST_TEST(paid == g.invoice_payments.size());
    BOOST_TEST(paid > 0u);
}

BOOST_AUTO_TEST_CASE(refund_and_dispute_events_look_like_stripe) {
    const auto& g = standard();
    int refunds = 0, partial = 0, disputes = 0;
    std::map<std::string, int> refunds_by_version;
    for (const auto& v : g.events) {
        const auto& obj = v.at("data").at("object").as_object();
        const std::string version = str(v.at("api_version"));
        if (v.at("type") == "charge.refunded") {
            ++refunds;
            ++refunds_by_version[version];
            BOOST_TEST_CONTEXT("event " << str(v.at("id"))) {
                BOOST_TEST(obj.at("object") == "charge");
                const bool full = obj.at("amount_refunded") == obj.at("amount");
                partial += !full;
                BOOST_TEST(obj.at("amount_refunded").as_int64() > 0);
                BOOST_TEST(obj.at("amount_refunded").as_int64() <= obj.at("amount").as_int64());
                BOOST_TEST(obj.at("refunded").as_bool() == full);
                const auto& previous = v.at("data").at("previous_attributes").as_object();
                BOOST_TEST(previous.at("amount_refunded").as_int64() == 0);
                BOOST_TEST(previous.contains("refunded") == full);  // only what changed
                BOOST_TEST(g.charge_by_id.count(str(obj.at("id"))) == 1u);
                // The charge at the event's own version: basil has no invoice.
                BOOST_TEST(obj.contains("invoice") == (version == legacy_version));
                BOOST_TEST(str(obj.at("payment_intent")).starts_with("pi_"));
                BOOST_TEST(obj.at("payment_intent") == g.charge_by_id.at(str(obj.at("id")))->at("payment_intent"));
            }
        }
        if (v.at("type") == "charge.dispute.created") {
            ++disputes;
            BOOST_TEST(obj.at("object") == "dispute");
            BOOST_TEST(str(obj.at("id")).starts_with("dp_"));
            BOOST_TEST(obj.at("status") == "needs_response");
            BOOST_TEST(obj.at("currency") == "usd");
            BOOST_TEST(obj.at("created") == v.at("created"));
            const auto& ch = *g.charge_by_id.at(str(obj.at("charge")));
            BOOST_TEST(obj.at("amount") == ch.at("amount"));
            BOOST_TEST(obj.at("payment_intent") == ch.at("payment_intent"));
            BOOST_TEST(ch.at("disputed") == true);
        }
    }
    BOOST_TEST(refunds >= 7);  // seeded: 3 full, 2 partial, 1 one-off; 1 noise
    BOOST_TEST(partial >= 2);
    BOOST_TEST(refunds_by_version[std::string(legacy_version)] >= 1);
    BOOST_TEST(refunds_by_version[std::string(basil_version)] >= 1);
    BOOST_TEST(disputes >= 3);  // clustered (a pack's, a one-off's) and lone
}

BOOST_AUTO_TEST_CASE(basil_charge_refunded_events_carry_no_invoice) {
    // Every dataset, every seed: the charge in a basil charge.refunded event
    // has no invoice (basil removed it), a legacy one always names it.
    for (const std::uint64_t seed : {7u, 1u, 77u}) {
        generated g(30, seed);
        std::map<std::string, int> by_version;
        for (const auto& v : g.events) {
            if (v.at("type") != "charge.refunded") continue;
            const std::string version = str(v.at("api_version"));
            ++by_version[version];
            const auto& obj = v.at("data").at("object").as_object();
            BOOST_TEST_CONTEXT("seed " << seed << " event " << str(v.at("id")) << " at " << version) {
                BOOST_TEST(obj.contains("invoice") == (version == legacy_version));
                BOOST_TEST(obj.contains("payment_intent"));
            }
        }
        BOOST_TEST(by_version[std::string(basil_version)] >= 1);
        BOOST_TEST(by_version[std::string(legacy_version)] >= 1);
    }
}

// The seeded refund and dispute cases (generator.hpp): each kind with
// events in both API shapes, disputes clustered and lone, exact numbers.
BOOST_AUTO_TEST_CASE(refund_and_dispute_scenarios_cover_both_shapes) {
    const auto& g = standard();
    std::map<std::string, std::set<std::string>> versions;  // scenario -> api versions of its events
    std::map<std::string, std::vector<json::object>> by_scenario;
    for (const char* kind : {"refund_or_dispute", "charge_without_invoice"})
        for (const auto& f : g.findings(kind)) {
            versions[str(f.at("scenario"))].insert(str(g.event_by_id.at(str(f.at("event")))->at("api_version")));
            by_scenario[str(f.at("scenario"))].push_back(f);
        }
    const auto both = [&](std::initializer_list<const char*> scenarios) {
        std::set<std::string> seen;
        for (const char* s : scenarios) seen.insert(versions[s].begin(), versions[s].end());
        return seen.size() == 2u;
    };
    BOOST_TEST(both({"refund_partial_credits_unused"}));                        // a
    BOOST_TEST(both({"refund_credits_spent", "refund_credits_all_spent"}));    // b
    BOOST_TEST(both({"dispute_clustered", "dispute_lone", "one_off_disputed"}));  // c
    BOOST_TEST(both({"one_off_refunded", "one_off_disputed"}));                // d

    // a: partial refunds of unused packs, everything due back revoked.
    BOOST_REQUIRE(by_scenario["refund_partial_credits_unused"].size() == 2u);
    for (const auto& f : by_scenario["refund_partial_credits_unused"]) {
        const std::int64_t amount = f.at("amount").as_int64(), refunded = f.at("amount_refunded").as_int64();
        BOOST_TEST(refunded < amount);
        BOOST_TEST(f.at("credits_due").as_int64() == f.at("granted").as_int64() * refunded / amount);
        BOOST_TEST(f.at("correction").at("credits") == f.at("credits_due"));
        BOOST_TEST(f.at("correction").at("unrecovered").as_int64() == 0);
        BOOST_TEST(g.charge_by_id.at(str(f.at("subject_id")))->at("refunded") == false);
    }
    // b: balance exactly 0: flagged, every credit unrecovered.
    for (const auto& f : by_scenario["refund_credits_all_spent"]) {
        BOOST_TEST(f.at("correction").is_null());
        BOOST_TEST(f.at("ai_credits").as_int64() == 0);
        BOOST_TEST(f.at("unrecovered") == f.at("granted"));
        BOOST_TEST(g.users.at(g.user_by_email.at(str(f.at("user_email")))).ai_credits == 0);
    }
    // c: two or more disputes within minutes of each other, and one with no
    // other dispute within a tenth of the window.
    std::vector<std::int64_t> dispute_times;
    for (const auto& v : g.events)
        if (v.at("type") == "charge.dispute.created") dispute_times.push_back(v.at("created").as_int64());
    const auto nearest_other = [&](std::int64_t t) {
        std::int64_t best = std::numeric_limits<std::int64_t>::max();
        bool self = false;
        for (const std::int64_t u : dispute_times) {
            if (u == t && !self) {
                self = true;
                continue;
            }
            best = std::min(best, u > t ? u - t : t - u);
        }
        return best;
    };
    for (const auto& f : by_scenario["dispute_clustered"])
        BOOST_TEST(nearest_other(g.event_by_id.at(str(f.at("event")))->at("created").as_int64()) <= 5 * 60);
    for (const auto& f : by_scenario["one_off_disputed"])
        BOOST_TEST(nearest_other(g.event_by_id.at(str(f.at("event")))->at("created").as_int64()) <= 5 * 60);
    BOOST_REQUIRE(by_scenario["dispute_lone"].size() == 1u);
    const auto& lone = *g.event_by_id.at(str(by_scenario["dispute_lone"].front().at("event")));
    BOOST_TEST(nearest_other(lone.at("created").as_int64()) > (g.window_end() - g.window_start()) / 10);
    // d: one-off payments: no invoice at any version, no InvoicePayment.
    for (const char* s : {"one_off_refunded", "one_off_disputed"}) {
        BOOST_REQUIRE(by_scenario[s].size() == 1u);
        const auto& f = by_scenario[s].front();
        const std::string charge = str(f.at("subject_id"));
        BOOST_TEST(f.at("kind") == "charge_without_invoice");
        BOOST_TEST(f.at("team") == "billing_engineering");
        BOOST_TEST(f.at("reason") == (std::string(s) == "one_off_refunded" ? "refund" : "dispute"));
        BOOST_TEST(f.at("amount") == g.charge_by_id.at(charge)->at("amount"));
        BOOST_TEST(g.legacy_charge_by_id.at(charge)->at("invoice").is_null());
        BOOST_TEST(!g.payments_of_intent.count(str(f.at("payment_intent"))));
        BOOST_TEST(g.user_of(str(f.at("customer"))) != nullptr);  // an app user's payment
    }
}

BOOST_AUTO_TEST_CASE(plans_follow_subscriptions_except_seeded) {
    const auto& g = standard();
    const auto& prices = g.truth.at("prices").as_object();
    std::map<std::string, std::string> seeded_from;  // customer -> plan the app kept
    for (const auto& f : g.findings("tier_mismatch")) seeded_from[str(f.at("customer"))] = str(f.at("from"));
    std::set<std::string> with_sub;
    for (const auto& v : g.subscriptions) {
        const auto& sub = v.as_object();
        const std::string customer = str(sub.at("customer"));
        with_sub.insert(customer);
        const user_row* u = g.user_of(customer);
        BOOST_REQUIRE(u);
        BOOST_TEST_CONTEXT("subscription " << str(sub.at("id"))) {
            if (seeded_from.count(customer)) {
                BOOST_TEST(u->plan == seeded_from.at(customer));
            } else if (const auto target = target_tier(sub, prices)) {
                BOOST_TEST(u->plan == *target);
            } else {
                // A price the reconciler does not map: the app knows it, and
                // gives the tier of the mapped prices of the same product.
                const std::string product = str(g.price_by_id.at(item_price(sub))->at("product"));
                std::set<std::string> tiers;
                for (const auto& [id, p] : prices)
                    if (str(g.price_by_id.at(std::string(id))->at("product")) == product) tiers.insert(str(p.at("tier")));
                BOOST_TEST(entitling(str(sub.at("status"))));
                BOOST_TEST(tiers.size() == 1u);
                BOOST_TEST(tiers.count(u->plan) == 1u);
            }
        }
    }
    for (const auto& [id, u] : g.users)
        if (!with_sub.count(u.customer)) BOOST_TEST(u.plan == "free");
}

BOOST_AUTO_TEST_CASE(balances_usage_and_correlation_ids_are_consistent_except_seeded) {
    for (const auto* g : {&standard()}) {
        const auto drift = g->seeded_user_emails("balance_drift");
        const auto negative_or_stuck = g->seeded_user_emails("negative_or_stuck_balance");
        const auto not_decrementing = g->seeded_user_emails("credits_not_decrementing");
        const auto no_correlation = g->subjects("missing_correlation_id");
        std::set<std::string> adjusted;  // users with a seeded support adjustment
        for (const auto& f : g->findings("missing_correlation_id"))
            if (f.at("credit_event_kind") == "adjust") adjusted.insert(str(f.at("user_email")));
        std::set<std::string> consume_sources;
        std::size_t consumes = 0;
        for (const auto& [id, u] : g->users) {
            const bool usage_seeded = negative_or_stuck.count(u.email) || not_decrementing.count(u.email);
            BOOST_TEST_CONTEXT("user " << u.email) {
                BOOST_TEST((u.ai_credits == u.sum()) != (drift.count(u.email) == 1u));
                if (!negative_or_stuck.count(u.email)) BOOST_TEST(u.ai_credits >= 0);
                std::int64_t sum = 0;
                std::string last_at;
                for (const auto& e : u.events) {
                    sum += e.delta;
                    if (!negative_or_stuck.count(u.email)) BOOST_TEST(sum >= 0);  // never spends what it has not
                    BOOST_TEST(e.at >= last_at);  // RFC 3339 UTC sorts as text
                    last_at = e.at;
                    BOOST_TEST(e.id.starts_with("ce_"));
                    BOOST_TEST((e.correlation && !e.correlation->empty()) != (no_correlation.count(e.id) == 1u));
                    if (e.kind == "consume") {
                        ++consumes;
                        consume_sources.insert(e.source);
                        BOOST_TEST(e.delta < 0);
                        const auto it = g->usage_by_request.find(e.source);
                        if (it == g->usage_by_request.end()) {
                            BOOST_TEST(usage_seeded);
                            continue;
                        }
                        BOOST_TEST(it->second->user_id == u.id);
                        BOOST_TEST(it->second->credits == -e.delta);
                        BOOST_TEST(it->second->created_at == e.at);
                    } else if (e.kind == "grant") {
                        BOOST_TEST(e.delta > 0);
                        BOOST_TEST((e.source.starts_with("in_") || e.source == "signup"));
                    } else if (e.kind == "revoke") {
                        BOOST_TEST(e.delta < 0);
                        BOOST_TEST(g->charge_by_id.at(e.source)->at("amount_refunded").as_int64() > 0);
                    } else {
                        BOOST_TEST(e.kind == "adjust");
                        BOOST_TEST(adjusted.count(u.email) == 1u);
                    }
                }
            }
        }
        for (const auto& row : g->usage) {
            const std::string email = g->users.at(row.user_id).email;
            if (!consume_sources.count(row.request_id))
                BOOST_TEST_CONTEXT("usage " << row.request_id) {
                    BOOST_TEST((negative_or_stuck.count(email) + not_decrementing.count(email)) == 1u);
                }
        }
        BOOST_TEST(consumes > 0u);
    }
}

BOOST_AUTO_TEST_CASE(events_are_kept_thirty_days_only) {
    const auto& g = standard();
    std::int64_t oldest = test_now;
    for (const auto& v : g.events) {
        const std::int64_t created = v.at("created").as_int64();
        BOOST_TEST(created >= test_now - 30 * day);
        BOOST_TEST(created < test_now);
        oldest = std::min(oldest, created);
    }
    // The lists still reach further back than the events do.
    std::int64_t oldest_invoice = test_now;
    for (const auto& v : g.invoices) oldest_invoice = std::min(oldest_invoice, v.at("created").as_int64());
    BOOST_TEST(oldest_invoice < test_now - 30 * day);
    BOOST_TEST(oldest >= test_now - 30 * day);
}

BOOST_AUTO_TEST_CASE(events_are_well_formed_and_in_creation_order) {
    const auto& g = standard();
    std::set<std::string> ids;
    std::int64_t prev = 0;
    std::map<std::string, int> types;
    for (const auto& v : g.events) {
        const auto& ev = v.as_object();
        BOOST_TEST(ev.at("object") == "event");
        BOOST_TEST(str(ev.at("id")).starts_with("evt_"));
        BOOST_TEST(str(ev.at("id")).size() == 18u);
        BOOST_TEST(ids.insert(str(ev.at("id"))).second);
        BOOST_TEST(ev.at("livemode") == false);
        BOOST_TEST(ev.at("pending_webhooks").as_int64() == 0);
        BOOST_TEST(ev.at("request").at("id").is_null());
        BOOST_TEST(ev.at("request").at("idempotency_key").is_null());
        BOOST_TEST(ev.at("created").as_int64() >= prev);  // creation order, oldest first
        prev = ev.at("created").as_int64();
        ++types[str(ev.at("type"))];
        if (str(ev.at("type")) == "customer.subscription.updated")
            BOOST_TEST(ev.at("data").as_object().contains("previous_attributes"));
    }
    for (const char* t : {"customer.created", "invoice.paid", "invoice.payment_succeeded", "charge.refunded",
                          "charge.dispute.created", "customer.subscription.created", "customer.subscription.updated",
                          "customer.subscription.deleted"})
        BOOST_TEST_CONTEXT(t) { BOOST_TEST(types[t] >= 1); }
    // Every customer created within the retention has its customer.created.
    std::set<std::string> created_events;
    for (const auto& v : g.events)
        if (v.at("type") == "customer.created") created_events.insert(str(v.at("data").at("object").at("id")));
    for (const auto& v : g.customers)
        if (v.at("created").as_int64() >= test_now - 30 * day) BOOST_TEST(created_events.count(str(v.at("id"))) == 1u);
    // Same-second events keep their causal order in the file: a
    // subscription's .created precedes its .updated (incomplete -> active in
    // the same second is seeded as noise).
    std::set<std::string> has_created, seen_created;
    for (const auto& v : g.events)
        if (v.at("type") == "customer.subscription.created") has_created.insert(str(v.at("data").at("object").at("id")));
    std::map<std::string, std::int64_t> created_at;
    int same_second_pairs = 0;
    for (const auto& v : g.events) {
        const std::string type = str(v.at("type"));
        if (!type.starts_with("customer.subscription.")) continue;
        const std::string sub = str(v.at("data").at("object").at("id"));
        if (type == "customer.subscription.created") {
            seen_created.insert(sub);
            created_at[sub] = v.at("created").as_int64();
        } else if (has_created.count(sub)) {
            BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(seen_created.count(sub) == 1u); }
            if (created_at[sub] == v.at("created").as_int64()) ++same_second_pairs;
        }
    }
    BOOST_TEST(same_second_pairs >= 2);
    // Every paid invoice paid within the retention has both payment events.
    std::map<std::string, std::set<std::string>> by_object;
    for (const auto& v : g.events) by_object[str(v.at("data").at("object").at("id"))].insert(str(v.at("type")));
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        if (!invoice_paid(inv) || inv.at("status_transitions").at("paid_at").as_int64() < test_now - 30 * day) continue;
        BOOST_TEST(by_object[str(inv.at("id"))].count("invoice.paid") == 1u);
        BOOST_TEST(by_object[str(inv.at("id"))].count("invoice.payment_succeeded") == 1u);
    }
    // Some noise: unpaid invoices exist.
    std::set<std::string> statuses;
    for (const auto& v : g.invoices) statuses.insert(str(v.at("status")));
    BOOST_TEST(statuses.count("open") == 1u);
    BOOST_TEST(statuses.count("void") == 1u);
}

BOOST_AUTO_TEST_CASE(both_api_shapes_present_and_correct) {
    const auto& g = standard();
    std::map<std::string, int> by_version;
    const auto check_invoice = [](const json::object& inv, bool legacy) {
        BOOST_TEST(inv.contains("paid") == legacy);
        BOOST_TEST(inv.contains("parent") == !legacy);
        BOOST_TEST(inv.contains("subscription") == legacy);
        BOOST_TEST(inv.contains("charge") == legacy);
        BOOST_TEST(inv.contains("payment_intent") == legacy);
        BOOST_TEST(inv.contains("paid_out_of_band") == legacy);
        if (!legacy && !inv.at("parent").is_null()) {
            BOOST_TEST(inv.at("parent").at("type") == "subscription_details");
            BOOST_TEST(str(inv.at("parent").at("subscription_details").at("subscription")).starts_with("sub_"));
        }
        if (legacy && inv.at("status") == "paid") {
            BOOST_TEST(inv.at("paid") == true);
            BOOST_TEST(str(inv.at("charge")).starts_with("ch_"));
            BOOST_TEST(str(inv.at("payment_intent")).starts_with("pi_"));
        }
        if (legacy && inv.at("status") != "paid") {
            BOOST_TEST(inv.at("charge").is_null());
            BOOST_TEST(inv.at("payment_intent").is_null());
        }
        if (!legacy && inv.at("status") == "paid") BOOST_TEST(inv.at("status_transitions").at("paid_at").is_int64());
        for (const auto& l : inv.at("lines").at("data").as_array()) {
            const auto& line = l.as_object();
            BOOST_TEST(line.contains("price") == legacy);
            BOOST_TEST(line.contains("pricing") == !legacy);
            BOOST_TEST(str(line.at("id")).starts_with("il_"));
            BOOST_TEST(!line_price(line).empty());
        }
        BOOST_TEST(inv.at("amount_due") == inv.at("total"));
        if (inv.at("status") == "paid") BOOST_TEST(inv.at("amount_paid") == inv.at("total"));
        BOOST_TEST(inv.at("currency") == "usd");
        BOOST_TEST(inv.at("lines").at("has_more") == false);
    };
    const auto check_subscription = [](const json::object& sub, bool legacy) {
        BOOST_TEST(sub.contains("current_period_end") == legacy);
        const auto& item = sub.at("items").at("data").at(0).as_object();
        BOOST_TEST(item.contains("current_period_end") == !legacy);
        BOOST_TEST(str(item.at("id")).starts_with("si_"));
        BOOST_TEST(str(item.at("price").at("id")).starts_with("price_"));
        if (sub.at("status") == "canceled") {
            BOOST_TEST(sub.at("canceled_at").is_int64());
            BOOST_TEST(sub.at("ended_at").is_int64());
        }
    };
    for (const auto& v : g.events) {
        const std::string version = str(v.at("api_version"));
        BOOST_TEST((version == legacy_version || version == basil_version));
        ++by_version[version];
        const auto& obj = v.at("data").at("object").as_object();
        const bool legacy = version == legacy_version;
        if (obj.at("object") == "invoice") check_invoice(obj, legacy);
        if (obj.at("object") == "subscription") check_subscription(obj, legacy);
    }
    BOOST_TEST(by_version[std::string(legacy_version)] > 0);
    BOOST_TEST(by_version[std::string(basil_version)] > 0);
    // <resource>.json is rendered at the newest shape, <resource>@2024-06-20.json at the legacy one.
    for (const auto& v : g.invoices) check_invoice(v.as_object(), false);
    for (const auto& v : g.subscriptions) check_subscription(v.as_object(), false);
    for (const auto& v : g.invoices_legacy) check_invoice(v.as_object(), true);
    for (const auto& v : g.subscriptions_legacy) check_subscription(v.as_object(), true);
    for (const auto* list : {&g.charges, &g.charges_legacy})
        for (const auto& v : *list) {
            BOOST_TEST(v.as_object().contains("invoice") == (list == &g.charges_legacy));
            BOOST_TEST(str(v.at("payment_intent")).starts_with("pi_"));
        }
    std::set<std::string> statuses;
    for (const auto& v : g.subscriptions) statuses.insert(str(v.at("status")));
    BOOST_TEST(statuses.count("active") == 1u);
    BOOST_TEST(statuses.count("canceled") == 1u);
}

// The rendition files list the same objects in the same order, so the list
// engine loads them and serves each version its own rendition.
BOOST_AUTO_TEST_CASE(rendition_files_load_and_serve_each_version) {
    const auto& g = standard();
    const auto ids = [](const json::array& a) {
        std::vector<std::string> out;
        for (const auto& v : a) out.push_back(str(v.at("id")));
        return out;
    };
    BOOST_TEST(ids(g.invoices) == ids(g.invoices_legacy), boost::test_tools::per_element());
    BOOST_TEST(ids(g.charges) == ids(g.charges_legacy), boost::test_tools::per_element());
    BOOST_TEST(ids(g.subscriptions) == ids(g.subscriptions_legacy), boost::test_tools::per_element());

    const auto ds = reconciler::sim::dataset::load(g.opts.out_dir);
    BOOST_TEST(ds.size("charges") == g.charges.size());
    BOOST_TEST(ds.size("invoice_payments") == g.invoice_payments.size());
    const auto get = [&](const std::string& target, std::string_view version) {
        const auto r = ds.handle_get(target, version);
        BOOST_TEST_REQUIRE(r.status == 200u, target << " at " << version << ": " << r.body);
        return json::parse(r.body).as_object();
    };
    const std::string charge = str(g.charges.at(0).at("id"));
    BOOST_TEST(get("/v1/charges/" + charge, legacy_version) == g.charges_legacy.at(0).as_object());
    BOOST_TEST(get("/v1/charges/" + charge, basil_version) == g.charges.at(0).as_object());
    const std::string invoice = str(g.invoices.at(0).at("id"));
    BOOST_TEST(get("/v1/invoices/" + invoice, legacy_version) == g.invoices_legacy.at(0).as_object());
    BOOST_TEST(get("/v1/invoices/" + invoice, basil_version) == g.invoices.at(0).as_object());
    // A paid invoice's payment, found by its PaymentIntent as a basil client would.
    const auto& p = g.invoice_payments.at(0).as_object();
    const auto listed = get("/v1/invoice_payments?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=" +
                                str(p.at("payment").at("payment_intent")),
                            basil_version);
    BOOST_REQUIRE(listed.at("data").as_array().size() == 1u);
    BOOST_TEST(listed.at("data").at(0) == p);
}

BOOST_AUTO_TEST_CASE(customers_and_ids_look_like_stripe) {
    const auto& g = standard();
    const auto unknown = g.subjects("unknown_customer");
    std::set<std::string> emails;
    int by_email_only = 0;
    for (const auto& v : g.customers) {
        const auto& c = v.as_object();
        const std::string id = str(c.at("id"));
        BOOST_TEST_CONTEXT("customer " << id) {
            BOOST_TEST(c.at("object") == "customer");
            BOOST_TEST(id.starts_with("cus_"));
            BOOST_TEST(id.size() == 18u);
            BOOST_TEST(c.at("livemode") == false);
            const std::string email = str(c.at("email"));
            BOOST_TEST(email.ends_with(unknown.count(id) ? "@example.org" : "@example.com"));
            emails.insert(email);
            const user_row* u = g.user_of(id);
            if (unknown.count(id)) {
                BOOST_TEST(!u);
                BOOST_TEST(!g.user_by_mail(email));
            } else if (!u) {
                ++by_email_only;  // noise: linked by email only
                BOOST_REQUIRE(g.user_by_mail(email));
                BOOST_TEST(g.user_by_mail(email)->customer.empty());
            } else {
                BOOST_TEST(u->email == email);
            }
        }
    }
    BOOST_TEST(by_email_only == 1);
    BOOST_TEST(emails.size() == g.customers.size());
    for (const auto& v : g.invoices) BOOST_TEST(str(v.at("id")).starts_with("in_"));
    for (const auto& v : g.subscriptions) BOOST_TEST(str(v.at("id")).starts_with("sub_"));
}

BOOST_AUTO_TEST_CASE(prices_file_holds_every_price_used_and_the_map_only_mapped_ones) {
    const auto& g = standard();
    const auto& map = g.truth.at("prices").as_object();
    BOOST_TEST(map.size() == 3u);
    std::set<std::string> used;
    for (const auto& v : g.subscriptions) used.insert(item_price(v.as_object()));
    for (const auto& v : g.invoices)
        for (const auto& p : line_prices(v.as_object())) used.insert(p);
    for (const auto& p : used) BOOST_TEST_CONTEXT("price " << p) { BOOST_TEST(g.price_by_id.count(p) == 1u); }
    for (const auto& [id, p] : map) BOOST_TEST(g.price_by_id.count(std::string(id)) == 1u);
    std::int64_t prev = 0;
    for (const auto& v : g.prices) {
        const auto& p = v.as_object();
        BOOST_TEST_CONTEXT("price " << str(p.at("id"))) {
            BOOST_TEST(p.at("object") == "price");
            BOOST_TEST(str(p.at("id")).starts_with("price_"));
            BOOST_TEST(str(p.at("product")).starts_with("prod_"));
            BOOST_TEST(p.at("currency") == "usd");
            BOOST_TEST(p.at("livemode") == false);
            BOOST_TEST(p.at("unit_amount").as_int64() > 0);
            BOOST_TEST(p.at("created").as_int64() >= prev);  // creation order
            prev = p.at("created").as_int64();
            const bool recurring = !p.at("recurring").is_null();
            BOOST_TEST(p.at("type") == (recurring ? "recurring" : "one_time"));
            // The same product and amount wherever a subscription or line embeds the price.
            for (const auto& s : g.subscriptions)
                if (item_price(s.as_object()) == str(p.at("id"))) {
                    const auto& embedded = s.at("items").at("data").at(0).at("price");
                    BOOST_TEST(embedded.at("product") == p.at("product"));
                    BOOST_TEST(embedded.at("active") == p.at("active"));
                }
        }
    }
    const auto& yearly = *g.price_by_id.at("price_pro_yearly");
    BOOST_TEST(yearly.at("active") == true);
    BOOST_TEST(yearly.at("nickname") == "Pro yearly");
    BOOST_TEST(yearly.at("recurring").at("interval") == "year");
    BOOST_TEST(yearly.at("product") == g.price_by_id.at("price_pro_monthly")->at("product"));
    BOOST_TEST(g.price_by_id.at("price_team_yearly")->at("recurring").at("interval") == "year");
    BOOST_TEST(g.price_by_id.at("price_team_yearly")->at("product") ==
               g.price_by_id.at("price_team_monthly")->at("product"));
    const auto& archived = *g.price_by_id.at("price_pro_monthly_2023");
    BOOST_TEST(archived.at("active") == false);
    for (const char* id : {"price_pro_yearly", "price_team_yearly", "price_pro_monthly_2023"})
        BOOST_TEST_CONTEXT(id) { BOOST_TEST(!map.contains(id)); }
    BOOST_TEST(!used.count("price_pro_monthly_2023"));  // offered by the portal only
}

// The unknown prices' customers: a price per the spec (two customers with
// a yearly pro invoice and subscription, one yearly team subscription with
// no invoice in the window) and no other finding about them.
BOOST_AUTO_TEST_CASE(unknown_prices_raise_nothing_else) {
    for (const auto* g : {&standard()}) {
        const auto& prices = g->truth.at("prices").as_object();
        std::map<std::string, std::set<std::string>> invoice_customers, subscription_customers;
        for (const auto& v : g->invoices)
            if (invoice_paid(v.as_object()) && g->in_window(v.at("created").as_int64()) &&
                has_unknown_price(v.as_object(), prices))
                for (const auto& p : line_prices(v.as_object()))
                    invoice_customers[p].insert(str(v.at("customer")));
        for (const auto& v : g->subscriptions)
            if (!prices.contains(item_price(v.as_object())))
                subscription_customers[item_price(v.as_object())].insert(str(v.at("customer")));
        std::set<std::string> both;
        for (const auto& c : invoice_customers["price_pro_yearly"])
            if (subscription_customers["price_pro_yearly"].count(c)) both.insert(c);
        BOOST_TEST(both.size() >= 2u);
        BOOST_TEST(subscription_customers["price_team_yearly"].size() == 1u);
        BOOST_TEST(invoice_customers["price_team_yearly"].empty());
        std::set<std::string> involved = invoice_customers["price_pro_yearly"];
        for (const auto& [price, customers] : subscription_customers) involved.insert(customers.begin(), customers.end());
        for (const auto& v : g->truth.at("findings").as_array())
            if (const auto* c = v.as_object().if_contains("customer"))
                BOOST_TEST_CONTEXT(str(v.at("kind")) << " " << str(v.at("subject_id"))) {
                    BOOST_TEST(!involved.count(str(*c)));
                }
        // The app granted what it knows of the price (the reconciler expects nothing).
        for (const auto& v : g->invoices) {
            const auto& inv = v.as_object();
            if (!invoice_paid(inv) || !has_unknown_price(inv, prices)) continue;
            const user_row* u = g->user_of(str(inv.at("customer")));
            BOOST_REQUIRE(u);
            BOOST_TEST(has_grant(*u, str(inv.at("id"))));
        }
        const auto truth = g->findings("unknown_price");
        BOOST_REQUIRE(truth.size() == 2u);
        BOOST_TEST(truth[0].at("evidence").at("customers").as_int64() >= 2);
        BOOST_TEST(truth[1].at("subject_id") == "price_team_yearly");
        BOOST_TEST(truth[1].at("evidence").at("invoices").as_int64() == 0);
        BOOST_TEST(truth[1].at("evidence").at("subscriptions").as_int64() == 1);
    }
}

BOOST_AUTO_TEST_CASE(portal_configurations_and_sessions_look_like_stripe) {
    const auto& g = standard();
    BOOST_REQUIRE(g.portal_configurations.size() == 2u);
    std::set<std::string> ids;
    const json::object* active = nullptr;
    for (const auto& v : g.portal_configurations) {
        const auto& c = v.as_object();
        BOOST_TEST_CONTEXT("configuration " << str(c.at("id"))) {
            BOOST_TEST(c.at("object") == "billing_portal.configuration");
            BOOST_TEST(str(c.at("id")).starts_with("bpc_"));
            BOOST_TEST(c.at("application").is_null());
            BOOST_TEST(c.at("livemode") == false);
            BOOST_TEST(c.at("updated").as_int64() >= c.at("created").as_int64());
            BOOST_TEST(c.at("created").as_int64() < g.window_start());
            for (const char* k : {"business_profile", "default_return_url", "login_page", "metadata", "features"})
                BOOST_TEST_CONTEXT(k) { BOOST_TEST(c.contains(k)); }
            const auto& update = c.at("features").at("subscription_update");
            for (const auto& product : update.at("products").as_array()) {
                BOOST_TEST(str(product.at("product")).starts_with("prod_"));
                for (const auto& p : product.at("prices").as_array()) {
                    BOOST_REQUIRE(g.price_by_id.count(str(p)));
                    BOOST_TEST(g.price_by_id.at(str(p))->at("product") == product.at("product"));
                }
            }
            ids.insert(str(c.at("id")));
            if (c.at("active") == true) {
                BOOST_TEST(!active);
                active = &c;
            } else {
                BOOST_TEST(c.at("is_default") == false);  // the older one: never reported
            }
        }
    }
    BOOST_REQUIRE(active);
    BOOST_TEST(active->at("is_default") == true);
    const std::string bpc = str(active->at("id"));
    const auto portal = g.findings("billing_portal_misconfigured");
    BOOST_REQUIRE(portal.size() == 2u);
    BOOST_TEST(str(portal[0].at("subject_id")) == bpc + "#archived_prices");
    BOOST_TEST(portal[0].at("team") == "stripe_support");
    BOOST_TEST(str(portal[1].at("subject_id")) == bpc + "#unmapped_prices");
    BOOST_TEST(portal[1].at("team") == "billing_engineering");
    for (const auto& f : portal) {
        BOOST_TEST(f.at("correction").is_null());
        BOOST_TEST(f.at("scenario") == "billing_portal_archived_price");
        BOOST_TEST(json::serialize(f.at("evidence")) ==
                   json::serialize(json::object{{"configuration", bpc}, {"prices", json::array{"price_pro_monthly_2023"}}}));
    }

    std::int64_t sessions = 0;
    for (const auto& v : g.events) {
        if (v.at("type") != "billing_portal.session.created") continue;
        const auto& s = v.at("data").at("object").as_object();
        BOOST_TEST_CONTEXT("session " << str(s.at("id"))) {
            BOOST_TEST(s.at("object") == "billing_portal.session");
            BOOST_TEST(str(s.at("id")).starts_with("bps_"));
            BOOST_TEST(ids.count(str(s.at("configuration"))) == 1u);
            BOOST_TEST(s.at("created") == v.at("created"));
            BOOST_REQUIRE(g.customer_by_id.count(str(s.at("customer"))));
            BOOST_TEST(g.customer_by_id.at(str(s.at("customer")))->at("created").as_int64() < s.at("created").as_int64());
            for (const char* k : {"flow", "locale", "on_behalf_of"}) BOOST_TEST_CONTEXT(k) { BOOST_TEST(s.at(k).is_null()); }
            BOOST_TEST(str(s.at("url")).starts_with("https://"));
            BOOST_TEST(str(s.at("return_url")).starts_with("https://"));
            BOOST_TEST(g.webhooks.count(str(v.at("id"))) == 1u);  // delivered and recorded like every event
        }
        sessions += g.in_window(v.at("created").as_int64());
    }
    BOOST_TEST(sessions >= 1);
    BOOST_TEST(g.truth.at("portal_sessions").as_int64() == sessions);
}

// --no-portal-default: the only portal finding is the missing default, and
// nothing else in the dataset moves.
BOOST_AUTO_TEST_CASE(no_portal_default_option) {
    generated g(30, 5, 24, false);
    check_everything(g);
    const auto portal = g.findings("billing_portal_misconfigured");
    BOOST_REQUIRE(portal.size() == 1u);
    BOOST_TEST(json::serialize(portal[0]) ==
               json::serialize(json::object{{"kind", "billing_portal_misconfigured"},
                                            {"subject_type", "billing_portal"},
                                            {"subject_id", "no_default_configuration"},
                                            {"team", "stripe_support"},
                                            {"correction", nullptr},
                                            {"scenario", "billing_portal_no_default"}}));
    std::size_t active = 0;
    for (const auto& v : g.portal_configurations) {
        BOOST_TEST(v.at("is_default") == false);
        active += v.at("active") == true;
    }
    BOOST_TEST(active == 1u);

    generated with_default(30, 5, 24, true);
    const auto others = [](const generated& d) {
        std::vector<std::string> out;
        for (const auto& f : d.truth.at("findings").as_array())
            if (f.at("kind") != "billing_portal_misconfigured") out.push_back(json::serialize(f));
        return out;
    };
    BOOST_TEST((others(g) == others(with_default)));
    BOOST_TEST((slurp(g.opts.out_dir / "events.json") == slurp(with_default.opts.out_dir / "events.json")));
}

BOOST_AUTO_TEST_CASE(app_db_uses_wal) {
    const auto& g = standard();
    SQLite::Database db(g.opts.app_db.string(), SQLite::OPEN_READONLY);
    BOOST_TEST(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

BOOST_AUTO_TEST_CASE(refuses_existing_app_db) {
    temp_dir dir;
    generator_options opts;
    opts.out_dir = dir.path / "out";
    opts.app_db = dir.path / "app.db";
    opts.customers = 30;
    opts.now = test_now;
    {
        std::ofstream(opts.app_db) << "precious";
    }
    BOOST_CHECK_EXCEPTION(generate_dataset(opts), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()).find("already exists") != std::string::npos;
    });
    BOOST_TEST(slurp(opts.app_db) == "precious");
    BOOST_TEST(!fs::exists(opts.out_dir / "events.json"));
}

BOOST_AUTO_TEST_CASE(rejects_bad_options) {
    temp_dir dir;
    generator_options opts;
    opts.out_dir = dir.path / "out";
    opts.app_db = dir.path / "app.db";
    opts.now = test_now;
    opts.customers = 29;  // every customer scenario's minimum needs its own customer
    BOOST_CHECK_THROW(generate_dataset(opts), std::invalid_argument);
    opts.customers = 30;
    opts.window_hours = 0;
    BOOST_CHECK_THROW(generate_dataset(opts), std::invalid_argument);
    BOOST_TEST(!fs::exists(opts.app_db));
}

BOOST_AUTO_TEST_CASE(two_hundred_customers_is_fast) {
    temp_dir dir;
    generator_options opts;
    opts.out_dir = dir.path / "out";
    opts.app_db = dir.path / "app.db";
    opts.customers = 200;
    opts.now = test_now;
    const auto start = std::chrono::steady_clock::now();
    const auto summary = generate_dataset(opts);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE("200 customers: " << summary.events << " events, " << summary.invoices << " invoices, "
                                         << summary.charges << " charges in " << ms << " ms");
    // Generous: Debug and sanitizer builds on a shared CI box. It guards
    // against quadratic work, not against a slow machine.
    BOOST_TEST(ms < 15000);
}

BOOST_AUTO_TEST_SUITE_END()
