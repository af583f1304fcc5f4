// The dataset generator's ground truth must be exactly what the reconciler's
// rules find in the data. These tests hold an independent oracle of those
// rules (written against the raw JSON in both API shapes and the SQLite rows,
// not against the generator's internals) and compare it with
// ground_truth.json, besides the direct properties of the contract.
#include "stripe_sim/generator.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <filesystem>
#include <fstream>
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

const std::vector<std::string> dataset_files{"customers.json", "subscriptions.json", "invoices.json", "events.json",
                                             "ground_truth.json"};

struct credit_event {
    std::int64_t delta = 0;
    std::string kind, source, at;
};
struct user_row {
    std::int64_t id = 0;
    std::string email, plan, customer;
    std::int64_t ai_credits = 0;
    std::vector<credit_event> events;
};
struct payment_row {
    std::string customer;
    std::int64_t user_id = 0, amount = 0;
    std::string currency, status, paid_at;
};
struct usage_row {
    std::int64_t user_id = 0, credits = 0;
    std::string created_at;
};

// One generated dataset, loaded.
struct generated {
    temp_dir dir;
    generator_options opts;
    generation_summary summary{};
    json::array customers, subscriptions, invoices, events;
    json::object truth;
    std::map<std::int64_t, user_row> users;
    std::map<std::string, std::int64_t> user_by_customer;
    std::map<std::string, payment_row> payments;
    std::map<std::string, usage_row> usage;  // by request_id
    std::set<std::string> webhook_events;

    generated(int customer_count, std::uint64_t seed, std::int64_t window_hours = 24) {
        opts.out_dir = dir.path / "out";
        opts.app_db = dir.path / "app.db";
        opts.customers = customer_count;
        opts.seed = seed;
        opts.now = test_now;
        opts.window_hours = window_hours;
        summary = generate_dataset(opts);
        customers = load(opts.out_dir / "customers.json");
        subscriptions = load(opts.out_dir / "subscriptions.json");
        invoices = load(opts.out_dir / "invoices.json");
        events = load(opts.out_dir / "events.json");
        truth = json::parse(slurp(opts.out_dir / "ground_truth.json")).as_object();
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
                row.events.push_back({o.at("delta").as_int64(), std::string(o.at("kind").as_string()),
                                      std::string(o.at("source").as_string()), std::string(o.at("at").as_string())});
            }
            if (!row.customer.empty()) user_by_customer[row.customer] = row.id;
            users[row.id] = std::move(row);
        }
        SQLite::Statement p(db,
                            "SELECT stripe_invoice_id,stripe_customer_id,user_id,amount,currency,status,paid_at "
                            "FROM payments");
        while (p.executeStep()) {
            payments[p.getColumn(0).getString()] = {p.getColumn(1).getString(), p.getColumn(2).getInt64(),
                                                    p.getColumn(3).getInt64(), p.getColumn(4).getString(),
                                                    p.getColumn(5).getString(), p.getColumn(6).getString()};
        }
        SQLite::Statement a(db, "SELECT request_id,user_id,credits,created_at FROM ai_usage");
        while (a.executeStep()) {
            usage[a.getColumn(0).getString()] = {a.getColumn(1).getInt64(), a.getColumn(2).getInt64(),
                                                 a.getColumn(3).getString()};
        }
        SQLite::Statement w(db, "SELECT stripe_event_id FROM webhook_events WHERE status='processed' AND attempts=1");
        while (w.executeStep()) webhook_events.insert(w.getColumn(0).getString());
    }

    std::int64_t window_start() const { return truth.at("window").at("start").as_int64(); }
    std::int64_t window_end() const { return truth.at("window").at("end").as_int64(); }
    bool in_window(std::int64_t t) const { return t >= window_start() && t < window_end(); }

    const user_row* user_of(const std::string& customer) const {
        const auto it = user_by_customer.find(customer);
        return it == user_by_customer.end() ? nullptr : &users.at(it->second);
    }

    std::vector<json::object> findings(std::string_view kind) const {
        std::vector<json::object> out;
        for (const auto& f : truth.at("findings").as_array())
            if (f.at("kind").as_string() == kind) out.push_back(f.as_object());
        return out;
    }
};

const generated& standard() {
    static generated g(50, 7);
    return g;
}

// ------------------------------------------------ the rules, independently

// The app stores RFC 3339 UTC text; formatted here with the C library so the
// generator's own formatter is checked against an independent one.
std::string rfc3339(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

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

std::int64_t invoice_credits(const json::object& inv, const json::object& prices) {
    std::int64_t credits = 0;
    for (const auto& l : inv.at("lines").at("data").as_array()) {
        const auto& line = l.as_object();
        if (const auto* p = prices.if_contains(line_price(line)))
            credits += p->at("credits").as_int64() * line.at("quantity").as_int64();
    }
    return credits;
}

std::optional<std::string> target_tier(const json::object& sub, const json::object& prices) {
    const std::string status = str(sub.at("status"));
    const std::string price = str(sub.at("items").at("data").at(0).at("price").at("id"));
    if (status == "active" || status == "trialing" || status == "past_due") return str(prices.at(price).at("tier"));
    if (status == "canceled" || status == "unpaid" || status == "incomplete_expired") return std::string("free");
    return std::nullopt;
}

bool has_grant(const user_row& u, const std::string& invoice) {
    return std::any_of(u.events.begin(), u.events.end(),
                       [&](const credit_event& e) { return e.kind == "grant" && e.source == invoice; });
}

// (invoice, credits, payment_missing, amount)
using credits_key = std::tuple<std::string, std::int64_t, bool, std::int64_t>;
// (subscription, from, to, newest event)
using tier_key = std::tuple<std::string, std::string, std::string, std::string>;

std::set<credits_key> oracle_credits(const generated& g) {
    const auto& prices = g.truth.at("prices").as_object();
    std::map<std::string, json::object> invoices;  // list object, else the newest event's
    std::map<std::string, bool> paid_event_in_window;
    for (const auto& v : g.invoices) invoices[str(v.at("id"))] = v.as_object();
    for (const auto& v : g.events) {
        const auto& ev = v.as_object();
        const auto& obj = ev.at("data").at("object").as_object();
        if (obj.at("object") != "invoice") continue;
        invoices.emplace(str(obj.at("id")), obj);
        if (ev.at("type") == "invoice.paid" || ev.at("type") == "invoice.payment_succeeded")
            paid_event_in_window[str(obj.at("id"))] |= g.in_window(ev.at("created").as_int64());
    }
    std::set<credits_key> found;
    for (const auto& [id, inv] : invoices) {
        if (!invoice_paid(inv)) continue;
        const auto& paid_at = inv.at("status_transitions").at("paid_at");
        const bool in_scope = g.in_window(inv.at("created").as_int64()) ||
                              (paid_at.is_int64() && g.in_window(paid_at.as_int64())) || paid_event_in_window[id];
        if (!in_scope) continue;
        const user_row* u = g.user_of(str(inv.at("customer")));
        if (!u) continue;
        const std::int64_t credits = invoice_credits(inv, prices);
        if (credits <= 0 || has_grant(*u, id)) continue;
        found.insert({id, credits, !g.payments.count(id), inv.at("amount_paid").as_int64()});
    }
    return found;
}

std::set<tier_key> oracle_tiers(const generated& g) {
    const auto& prices = g.truth.at("prices").as_object();
    std::map<std::string, std::vector<const json::object*>> by_sub;
    for (const auto& v : g.events) {
        const auto& ev = v.as_object();
        if (!str(ev.at("type")).starts_with("customer.subscription.")) continue;
        if (!g.in_window(ev.at("created").as_int64())) continue;
        by_sub[str(ev.at("data").at("object").at("id"))].push_back(&ev);
    }
    std::set<tier_key> found;
    for (const auto& [sub, evs] : by_sub) {
        std::int64_t newest = 0;
        for (const auto* e : evs) newest = std::max(newest, e->at("created").as_int64());
        std::vector<const json::object*> tied;
        for (const auto* e : evs)
            if (e->at("created").as_int64() == newest) tied.push_back(e);
        const user_row* u = g.user_of(str(tied.front()->at("data").at("object").at("customer")));
        if (!u) continue;
        // Same-second events must not disagree: whichever a reconciler picks,
        // the outcome is the same.
        std::set<std::string> targets;
        for (const auto* e : tied)
            if (auto t = target_tier(e->at("data").at("object").as_object(), prices)) targets.insert(*t);
        BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(targets.size() <= 1u); }
        if (targets.empty() || *targets.begin() == u->plan) continue;
        BOOST_TEST_CONTEXT("subscription " << sub) { BOOST_TEST(tied.size() == 1u); }
        found.insert({sub, u->plan, *targets.begin(), str(tied.front()->at("id"))});
    }
    return found;
}

std::set<credits_key> truth_credits(const generated& g) {
    std::set<credits_key> out;
    for (const auto& f : g.findings("credits_not_granted"))
        out.insert({str(f.at("subject_id")), f.at("credits").as_int64(), f.at("payment_missing").as_bool(),
                    f.at("amount").as_int64()});
    return out;
}

std::set<tier_key> truth_tiers(const generated& g) {
    std::set<tier_key> out;
    for (const auto& f : g.findings("tier_mismatch"))
        out.insert({str(f.at("subject_id")), str(f.at("from")), str(f.at("to")), str(f.at("newest_event"))});
    return out;
}

void check_oracle_matches_truth(const generated& g) {
    const auto oc = oracle_credits(g);
    const auto tc = truth_credits(g);
    BOOST_TEST(oc.size() == tc.size());
    for (const auto& k : tc) BOOST_TEST_CONTEXT("seeded invoice " << std::get<0>(k)) { BOOST_TEST(oc.count(k) == 1u); }
    for (const auto& k : oc) BOOST_TEST_CONTEXT("found invoice " << std::get<0>(k)) { BOOST_TEST(tc.count(k) == 1u); }
    const auto ot = oracle_tiers(g);
    const auto tt = truth_tiers(g);
    BOOST_TEST(ot.size() == tt.size());
    for (const auto& k : tt) BOOST_TEST_CONTEXT("seeded subscription " << std::get<0>(k)) { BOOST_TEST(ot.count(k) == 1u); }
    for (const auto& k : ot) BOOST_TEST_CONTEXT("found subscription " << std::get<0>(k)) { BOOST_TEST(tt.count(k) == 1u); }
}

void check_scenario_counts(const generated& g) {
    std::map<std::string, int> by_scenario, by_kind;
    for (const auto& f : g.truth.at("findings").as_array()) {
        ++by_scenario[str(f.at("scenario"))];
        ++by_kind[str(f.at("kind"))];
    }
    for (const char* s : {"grant_missing_payment_recorded", "grant_and_payment_missing", "missed_upgrade",
                          "missed_cancellation", "late_older_event"})
        BOOST_TEST_CONTEXT("scenario " << s) { BOOST_TEST(by_scenario[s] >= 2); }
    BOOST_TEST(by_kind["credits_not_granted"] >= 4);
    BOOST_TEST(by_kind["tier_mismatch"] >= 6);
    BOOST_TEST(g.summary.seeded_findings == g.truth.at("findings").as_array().size());
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
    // ~70% paying customers; every customer has an app user; plus app-only users.
    BOOST_TEST(g.subscriptions.size() >= 25u);
    BOOST_TEST(g.users.size() > 50u);
    BOOST_TEST(g.user_by_customer.size() == 50u);
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

BOOST_AUTO_TEST_CASE(every_seeded_kind_at_least_twice) { check_scenario_counts(standard()); }

BOOST_AUTO_TEST_CASE(ground_truth_is_exactly_what_the_rules_find) { check_oracle_matches_truth(standard()); }

BOOST_AUTO_TEST_CASE(small_dataset_still_seeds_everything) {
    generated g(20, 1234);
    check_scenario_counts(g);
    check_oracle_matches_truth(g);
}

BOOST_AUTO_TEST_CASE(larger_dataset_scales_kinds_and_stays_exact) {
    generated g(400, 99);
    std::map<std::string, int> by_scenario;
    for (const auto& f : g.truth.at("findings").as_array()) ++by_scenario[str(f.at("scenario"))];
    BOOST_TEST(by_scenario["missed_upgrade"] == 4);
    check_oracle_matches_truth(g);
}

BOOST_AUTO_TEST_CASE(shortest_and_longest_windows_stay_exact) {
    for (const std::int64_t hours : {1, 28 * 24}) {
        BOOST_TEST_CONTEXT("window_hours " << hours) {
            generated g(30, 5, hours);
            BOOST_TEST(g.summary.window_start == test_now - hours * 3600);
            check_scenario_counts(g);
            check_oracle_matches_truth(g);
        }
    }
}

BOOST_AUTO_TEST_CASE(seeded_credit_invoices_are_paid_without_grant) {
    const auto& g = standard();
    std::map<std::string, const json::object*> invoices;
    for (const auto& v : g.invoices) invoices[str(v.at("id"))] = &v.as_object();
    for (const auto& f : g.findings("credits_not_granted")) {
        const std::string id = str(f.at("subject_id"));
        BOOST_TEST_CONTEXT("invoice " << id) {
            BOOST_REQUIRE(invoices.count(id));
            const auto& inv = *invoices.at(id);
            BOOST_TEST(invoice_paid(inv));
            BOOST_TEST(g.in_window(inv.at("created").as_int64()));
            BOOST_TEST(g.in_window(inv.at("status_transitions").at("paid_at").as_int64()));
            BOOST_TEST(str(inv.at("customer")) == str(f.at("customer")));
            BOOST_TEST(str(inv.at("customer_email")) == str(f.at("user_email")));
            BOOST_TEST(inv.at("amount_paid").as_int64() == f.at("amount").as_int64());
            const user_row* u = g.user_of(str(f.at("customer")));
            BOOST_REQUIRE(u);
            BOOST_TEST(u->email == str(f.at("user_email")));
            BOOST_TEST(!has_grant(*u, id));
            const bool payment_missing = f.at("payment_missing").as_bool();
            BOOST_TEST(g.payments.count(id) == (payment_missing ? 0u : 1u));
            // The webhook never arrived: no webhook_events row for any of its events.
            for (const auto& v : g.events) {
                const auto& obj = v.at("data").at("object").as_object();
                if (obj.at("object") == "invoice" && str(obj.at("id")) == id)
                    BOOST_TEST(g.webhook_events.count(str(v.at("id"))) == (payment_missing ? 0u : 1u));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(other_paid_invoices_are_consistent) {
    const auto& g = standard();
    std::set<std::string> seeded;
    for (const auto& f : g.findings("credits_not_granted")) seeded.insert(str(f.at("subject_id")));
    int in_window = 0;
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        const std::string id = str(inv.at("id"));
        if (!invoice_paid(inv) || seeded.count(id)) {
            if (!invoice_paid(inv)) BOOST_TEST(g.payments.count(id) == 0u);
            continue;
        }
        BOOST_TEST_CONTEXT("invoice " << id) {
            const user_row* u = g.user_of(str(inv.at("customer")));
            BOOST_REQUIRE(u);
            BOOST_TEST(has_grant(*u, id));
            BOOST_REQUIRE(g.payments.count(id));
            const auto& p = g.payments.at(id);
            BOOST_TEST(p.amount == inv.at("amount_paid").as_int64());
            BOOST_TEST(p.currency == str(inv.at("currency")));
            BOOST_TEST(p.status == "paid");
            BOOST_TEST(p.user_id == u->id);
            BOOST_TEST(p.customer == u->customer);
            BOOST_TEST(p.paid_at == rfc3339(inv.at("status_transitions").at("paid_at").as_int64()));
            if (g.in_window(inv.at("status_transitions").at("paid_at").as_int64())) ++in_window;
        }
    }
    BOOST_TEST(in_window >= 1);  // the check above had something to check in the window
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
            } else {
                const auto target = target_tier(sub, prices);
                BOOST_REQUIRE(target);
                BOOST_TEST(u->plan == *target);
            }
        }
    }
    for (const auto& [id, u] : g.users)
        if (!with_sub.count(u.customer)) BOOST_TEST(u.plan == "free");
}

BOOST_AUTO_TEST_CASE(balances_equal_sum_of_deltas_and_usage_matches) {
    const auto& g = standard();
    std::size_t consumes = 0;
    for (const auto& [id, u] : g.users) {
        BOOST_TEST_CONTEXT("user " << u.email) {
            std::int64_t sum = 0;
            std::string last_at;
            for (const auto& e : u.events) {
                sum += e.delta;
                BOOST_TEST(sum >= 0);         // never spends credits it does not have
                BOOST_TEST(e.at >= last_at);  // RFC 3339 UTC sorts as text
                last_at = e.at;
                if (e.kind == "consume") {
                    ++consumes;
                    BOOST_REQUIRE(g.usage.count(e.source));
                    const auto& row = g.usage.at(e.source);
                    BOOST_TEST(row.user_id == u.id);
                    BOOST_TEST(row.credits == -e.delta);
                    BOOST_TEST(row.created_at == e.at);
                } else {
                    BOOST_TEST(e.kind == "grant");
                    BOOST_TEST(e.delta > 0);
                }
            }
            BOOST_TEST(u.ai_credits == sum);
        }
    }
    BOOST_TEST(consumes == g.usage.size());
    BOOST_TEST(consumes > 0u);
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
        if (str(ev.at("type")) == "customer.subscription.updated")
            BOOST_TEST(ev.at("data").as_object().contains("previous_attributes"));
    }
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
    std::map<std::string, std::set<std::string>> types;
    for (const auto& v : g.events) types[str(v.at("data").at("object").at("id"))].insert(str(v.at("type")));
    for (const auto& v : g.invoices) {
        const auto& inv = v.as_object();
        if (!invoice_paid(inv) || inv.at("status_transitions").at("paid_at").as_int64() < test_now - 30 * day) continue;
        BOOST_TEST(types[str(inv.at("id"))].count("invoice.paid") == 1u);
        BOOST_TEST(types[str(inv.at("id"))].count("invoice.payment_succeeded") == 1u);
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
        if (!legacy && !inv.at("parent").is_null()) {
            BOOST_TEST(inv.at("parent").at("type") == "subscription_details");
            BOOST_TEST(str(inv.at("parent").at("subscription_details").at("subscription")).starts_with("sub_"));
        }
        if (legacy && inv.at("status") == "paid") BOOST_TEST(inv.at("paid") == true);
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
    // Lists are rendered at the newest shape.
    for (const auto& v : g.invoices) check_invoice(v.as_object(), false);
    for (const auto& v : g.subscriptions) check_subscription(v.as_object(), false);
    std::set<std::string> statuses;
    for (const auto& v : g.subscriptions) statuses.insert(str(v.at("status")));
    BOOST_TEST(statuses.count("active") == 1u);
    BOOST_TEST(statuses.count("canceled") == 1u);
}

BOOST_AUTO_TEST_CASE(customers_and_ids_look_like_stripe) {
    const auto& g = standard();
    std::set<std::string> emails;
    for (const auto& v : g.customers) {
        const auto& c = v.as_object();
        BOOST_TEST(c.at("object") == "customer");
        BOOST_TEST(str(c.at("id")).starts_with("cus_"));
        BOOST_TEST(str(c.at("id")).size() == 18u);
        BOOST_TEST(c.at("livemode") == false);
        const std::string email = str(c.at("email"));
        BOOST_TEST(email.starts_with("user"));
        BOOST_TEST(email.ends_with("@example.com"));
        emails.insert(email);
        const user_row* u = g.user_of(str(c.at("id")));
        BOOST_REQUIRE(u);
        BOOST_TEST(u->email == email);
    }
    BOOST_TEST(emails.size() == g.customers.size());
    for (const auto& v : g.invoices) BOOST_TEST(str(v.at("id")).starts_with("in_"));
    for (const auto& v : g.subscriptions) BOOST_TEST(str(v.at("id")).starts_with("sub_"));
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
    opts.customers = 20;
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
    opts.customers = 5;
    BOOST_CHECK_THROW(generate_dataset(opts), std::invalid_argument);
    opts.customers = 20;
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
    BOOST_TEST_MESSAGE("200 customers: " << summary.events << " events, " << summary.invoices << " invoices in " << ms
                                         << " ms");
    // Generous: Debug and sanitizer builds on a shared CI box. It guards
    // against quadratic work, not against a slow machine.
    BOOST_TEST(ms < 15000);
}

BOOST_AUTO_TEST_SUITE_END()
