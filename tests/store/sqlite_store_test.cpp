// The SQLite store on real database files.
#include "core/timeutil.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <ostream>
#include <random>
#include <thread>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace reconciler;

namespace reconciler::store {
std::ostream& operator<<(std::ostream& os, apply_outcome o) { return os << to_string(o); }
}  // namespace reconciler::store

namespace {

struct temp_db {
    fs::path dir;
    fs::path path;
    temp_db() {
        dir = fs::temp_directory_path() / ("recon-store-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir);
        path = dir / "app.db";
        store::create_app_schema(path);
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES"
                " (1, 'a@example.com', 'pro', 'cus_1', '{\"ai_credits\":50,\"credit_events\":[],\"theme\":\"dark\"}', '2026-01-01T00:00:00Z'),"
                " (2, 'b@example.com', 'free', NULL, '{\"ai_credits\":0,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
    }
    ~temp_db() { fs::remove_all(dir); }
    std::unique_ptr<store::store> open() {
        auto s = store::open_sqlite_store({path, std::chrono::milliseconds(5000), false});
        s->migrate();
        return s;
    }
    json::object metadata(int user_id) {
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT plan_metadata FROM users WHERE id = ?");
        q.bind(1, user_id);
        q.executeStep();
        return json::parse(q.getColumn(0).getString()).as_object();
    }
    long long count(const std::string& sql) {
        SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }
};

proposed_correction grant(std::int64_t credits = 1000) {
    proposed_correction c;
    c.kind = correction_kind::grant_credits;
    c.ledger_key = "in_1";
    c.user_id = 1;
    c.credits = credits;
    c.source = "in_1";
    c.reason = "test";
    c.record_payment = local_payment{"in_1", "cus_1", 1, 2000, "usd", "paid", "2026-11-24T00:00:00Z"};
    return c;
}

std::string message_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_store)

BOOST_AUTO_TEST_CASE(schema_checks_name_the_fix) {
    temp_db t;
    auto s = store::open_sqlite_store({t.path, std::chrono::milliseconds(1000), false});
    auto msg = message_of([&] { s->check_schema(); });
    BOOST_TEST(msg.find("reconciler migrate") != std::string::npos);
    BOOST_TEST(s->migrate() == s->latest_schema_version());
    BOOST_TEST(s->migrate() == 0);  // idempotent
    BOOST_CHECK_NO_THROW(s->check_schema());
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO recon_schema_migrations VALUES (99, 'future', '2030-01-01T00:00:00Z')");
    }
    msg = message_of([&] { s->check_schema(); });
    BOOST_TEST(msg.find("newer than this build") != std::string::npos);

    const fs::path other = t.dir / "other.db";
    { SQLite::Database db(other.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); db.exec("CREATE TABLE x(a)"); }
    auto o = store::open_sqlite_store({other, std::chrono::milliseconds(1000), false});
    msg = message_of([&] { o->migrate(); });
    BOOST_TEST(msg.find("not the app's database") != std::string::npos);

    msg = message_of([&] { store::open_sqlite_store({t.dir / "missing.db", std::chrono::milliseconds(1), false}); });
    BOOST_TEST(msg.find("missing.db") != std::string::npos);
    BOOST_TEST(!fs::exists(t.dir / "missing.db"));  // never created by a typo
}

BOOST_AUTO_TEST_CASE(grant_is_applied_once_with_its_payment) {
    temp_db t;
    auto s = t.open();
    auto r = s->apply(grant(), 0, "corr-1");
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(r.payment_recorded);
    BOOST_TEST(r.balance_after == 1050);

    auto m = t.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 1050);
    BOOST_TEST(m.at("theme").as_string() == "dark");  // the app's other keys survive
    const auto& events = m.at("credit_events").as_array();
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_TEST(events[0].at("source").as_string() == "in_1");
    BOOST_TEST(events[0].at("kind").as_string() == "grant");
    BOOST_TEST(events[0].at("correlation_id").as_string() == "corr-1");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = 'in_1'") == 1);

    // Again, from another run with another correlation id: nothing changes.
    auto again = s->apply(grant(), 0, "corr-2");
    BOOST_TEST(again.outcome == store::apply_outcome::already_applied);
    BOOST_TEST(again.correlation_id == "corr-1");
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 1050);
    BOOST_TEST(t.metadata(1).at("credit_events").as_array().size() == 1u);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 1);
}

BOOST_AUTO_TEST_CASE(grant_the_app_made_meanwhile_supersedes) {
    temp_db t;
    auto s = t.open();
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE users SET plan_metadata = '{\"ai_credits\":1050,\"credit_events\":[{\"id\":\"ce_app\",\"delta\":1000,"
                "\"kind\":\"grant\",\"source\":\"in_1\",\"correlation_id\":\"x\"}]}' WHERE id = 1");
    }
    auto r = s->apply(grant(), 0, "corr-1");
    BOOST_TEST(r.outcome == store::apply_outcome::superseded);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 1050);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM payments") == 0);
}

BOOST_AUTO_TEST_CASE(tier_change_checks_the_current_plan) {
    temp_db t;
    auto s = t.open();
    proposed_correction c;
    c.kind = correction_kind::set_tier;
    c.ledger_key = "sub_1#evt_1";
    c.user_id = 1;
    c.tier_from = "free";  // stale: the user is on pro now
    c.tier_to = "team";
    BOOST_TEST(s->apply(c, 0, "c1").outcome == store::apply_outcome::conflict);
    c.tier_from = "pro";
    BOOST_TEST(s->apply(c, 0, "c2").outcome == store::apply_outcome::applied);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM users WHERE id = 1 AND plan = 'team'") == 1);
    BOOST_TEST(s->apply(c, 0, "c3").outcome == store::apply_outcome::already_applied);
    c.ledger_key = "sub_1#evt_2";
    BOOST_TEST(s->apply(c, 0, "c4").outcome == store::apply_outcome::superseded);
}

BOOST_AUTO_TEST_CASE(waits_for_the_apps_write_lock) {
    temp_db t;
    auto s = t.open();
    SQLite::Database app(t.path.string(), SQLite::OPEN_READWRITE, 5000);
    auto tx = std::make_unique<SQLite::Transaction>(app, SQLite::TransactionBehavior::IMMEDIATE);
    app.exec("INSERT INTO ai_usage(user_id, credits, request_id, created_at) VALUES (1, 5, 'r1', '2026-11-24T00:00:00Z')");
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        tx->commit();
    });
    auto r = s->apply(grant(), 0, "corr-1");  // blocks on the lock, then proceeds
    release.join();
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(t.count("SELECT COUNT(*) FROM ai_usage") == 1);  // the app's write is kept too
}

// Migration 3's index makes an email match a lookup (not a scan of every
// user per query); a database whose owners dropped it is matched as before.
BOOST_AUTO_TEST_CASE(email_matching_uses_the_migrated_index_and_works_without_it) {
    temp_db t;
    auto s = t.open();
    const auto plan = [&] {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "EXPLAIN QUERY PLAN SELECT id FROM users WHERE email COLLATE NOCASE IN ('x@y.z', 'B@example.com')");
        std::string text;
        while (q.executeStep()) text += q.getColumn(3).getString() + "\n";
        return text;
    };
    BOOST_TEST(plan().find("INDEX recon_users_email_nocase") != std::string::npos, plan());
    store::local_query q;
    q.emails = {"B@EXAMPLE.com"};
    q.window_rules = false;
    q.window_payments = false;
    BOOST_REQUIRE_EQUAL(s->load_local(q).users.size(), 1u);
    { SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE); db.exec("DROP INDEX recon_users_email_nocase"); }
    BOOST_TEST(plan().find("recon_users_email_nocase") == std::string::npos);
    auto snap = s->load_local(q);
    BOOST_REQUIRE_EQUAL(snap.users.size(), 1u);
    BOOST_TEST(snap.users[0].id == 2);
    BOOST_TEST(s->schema_version() == s->latest_schema_version());  // a dropped index is not a schema to redo
}

BOOST_AUTO_TEST_CASE(load_local_by_customer_then_email) {
    temp_db t;
    auto s = t.open();
    store::local_query q;
    q.customer_ids = {"cus_1", "cus_unknown"};
    q.emails = {"B@example.com"};
    q.invoice_ids = {"in_none"};
    auto snap = s->load_local(q);
    BOOST_REQUIRE_EQUAL(snap.users.size(), 2u);
    BOOST_TEST(snap.users[0].ai_credits == 50);
    BOOST_TEST(snap.payments.empty());
}

// A slice loads its users with only the credit events of its invoices and
// charges; a query that names no sources (the user rules) gets the whole log.
BOOST_AUTO_TEST_CASE(load_local_keeps_the_credit_events_of_the_named_sources) {
    temp_db t;
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        db.exec(R"(UPDATE users SET plan_metadata = '{"ai_credits":30,"credit_events":[)"
                R"({"id":"ce_1","delta":10,"kind":"grant","source":"in_1","at":"2026-01-01T00:00:00Z"},)"
                R"({"id":"ce_2","delta":10,"kind":"grant","source":"in_2","at":"2026-01-02T00:00:00Z"},)"
                R"({"id":"ce_3","delta":10,"kind":"grant","source":"support","at":"2026-01-03T00:00:00Z"},)"
                R"({"id":"ce_4","delta":5,"kind":"consume"}]}' WHERE id = 1)");
    }
    auto s = t.open();
    store::local_query q;
    q.customer_ids = {"cus_1"};
    BOOST_REQUIRE_EQUAL(s->load_local(q).users.at(0).credit_events.size(), 4u);
    q.credit_event_sources = std::unordered_set<std::string_view>{"in_2", "ch_9"};
    const auto slice = s->load_local(q);
    BOOST_REQUIRE_EQUAL(slice.users.at(0).credit_events.size(), 1u);
    BOOST_TEST(slice.users.at(0).credit_events[0].id == "ce_2");
    BOOST_TEST(slice.users.at(0).ai_credits == 30);  // the balance is the app's, whatever the filter
    q.credit_event_sources.emplace();
    BOOST_TEST(s->load_local(q).users.at(0).credit_events.empty());
}

// The window rules read the app in pages (users by id, with their usage) and
// only the deliveries they can flag: together the pages hold exactly the
// users the whole-window query holds, each once, and all of their usage.
BOOST_AUTO_TEST_CASE(window_rules_pages_cover_every_active_user_once) {
    temp_db t;
    {
        SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE);
        // Users 3..12: usage in the window (3, 6, 9, 12), a credit event in it
        // (4, 7, 10), a broken balance (5), nothing (8, 11). 1 has a broken balance, 2 is idle.
        for (int id = 3; id <= 12; ++id) {
            std::string meta = "{\"ai_credits\":0,\"credit_events\":[]}";
            if (id % 3 == 1) meta = "{\"ai_credits\":10,\"credit_events\":[{\"id\":\"ce" + std::to_string(id) +
                                    "\",\"kind\":\"grant\",\"delta\":10,\"at\":\"2026-03-01T00:00:00Z\"}]}";
            if (id == 5) meta = "{\"ai_credits\":7,\"credit_events\":[]}";
            SQLite::Statement ins(db, "INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at)"
                                      " VALUES (?, ?, 'free', NULL, ?, '2026-01-01T00:00:00Z')");
            ins.bind(1, id);
            ins.bind(2, "u" + std::to_string(id) + "@example.com");
            ins.bind(3, meta);
            ins.exec();
            if (id % 3 == 0) {
                SQLite::Statement u(db, "INSERT INTO ai_usage(user_id, credits, request_id, created_at) VALUES"
                                        " (?, 1, ?, '2026-03-02T00:00:00Z'), (?, 1, 'req_old', '2025-01-01T00:00:00Z')");
                u.bind(1, id);
                u.bind(2, "req_" + std::to_string(id));
                u.bind(3, id);
                u.exec();
            }
        }
        db.exec("INSERT INTO webhook_events(stripe_event_id, type, received_at, status, attempts, last_error) VALUES"
                " ('evt_ok', 'invoice.paid', '2026-03-01T00:00:00Z', 'processed', 1, NULL),"
                " ('evt_fail', 'invoice.paid', '2026-03-01T00:00:00Z', 'failed', 2, 'timeout'),"
                " ('evt_forged', 'invoice.paid', '2026-03-01T00:00:00Z', 'signature_failed', 1, NULL),"
                " ('evt_old', 'invoice.paid', '2025-01-01T00:00:00Z', 'failed', 2, 'timeout')");
    }
    auto s = t.open();
    store::local_query whole;
    whole.start = parse_rfc3339("2026-02-01T00:00:00Z");
    whole.end = parse_rfc3339("2026-04-01T00:00:00Z");
    const auto all = s->load_local(whole);

    std::vector<std::int64_t> paged_users;
    std::size_t paged_usage = 0, pages = 0;
    for (std::int64_t after = 0;;) {
        store::local_query q;
        q.start = whole.start;
        q.end = whole.end;
        q.window_rules = false;
        q.window_payments = false;
        q.active_users_after = after;
        q.active_users_limit = 3;
        const auto page = s->load_local(q);
        if (page.users.empty()) break;
        ++pages;
        for (const auto& u : page.users) paged_users.push_back(u.id);
        for (const auto& r : page.usage) {
            BOOST_TEST(r.request_id != "req_old");  // the window's usage only
            BOOST_TEST(std::any_of(page.users.begin(), page.users.end(),
                                   [&](const local_user& u) { return u.id == r.user_id; }));
        }
        paged_usage += page.usage.size();
        BOOST_TEST(page.webhooks.empty());
        after = page.users.back().id;
        if (page.users.size() < 3) break;
    }
    std::vector<std::int64_t> whole_users;
    for (const auto& u : all.users) whole_users.push_back(u.id);
    std::sort(whole_users.begin(), whole_users.end());
    BOOST_TEST(paged_users == (std::vector<std::int64_t>{1, 3, 4, 5, 6, 7, 9, 10, 12}), boost::test_tools::per_element());
    BOOST_TEST(paged_users == whole_users, boost::test_tools::per_element());
    BOOST_TEST(pages == 3u);
    BOOST_TEST(paged_usage == all.usage.size());
    BOOST_TEST(paged_usage == 4u);

    store::local_query hooks;
    hooks.start = whole.start;
    hooks.end = whole.end;
    hooks.window_rules = false;
    hooks.flaggable_deliveries = true;
    const auto flagged = s->load_local(hooks);
    std::set<std::string> ids;
    for (const auto& w : flagged.webhooks) ids.insert(w.event_id);
    BOOST_TEST((ids == std::set<std::string>{"evt_fail", "evt_forged"}));
    BOOST_TEST(flagged.users.empty());

    const auto delivered = s->delivered_event_ids({"evt_ok", "evt_old", "evt_missing"});
    BOOST_TEST((std::set<std::string>(delivered.begin(), delivered.end()) == std::set<std::string>{"evt_ok", "evt_old"}));
}

// The window's subscription states on disk fold exactly as in memory, come
// out by customer in chunks that never split a customer, and leave no file.
BOOST_AUTO_TEST_CASE(subscription_scratch_folds_like_memory_and_is_removed) {
    temp_db t;
    auto s = t.open();
    diff_policy p;
    p.prices = {{"price_pro", {"pro", 1000}}, {"price_team", {"team", 5000}}};
    auto ev = [](std::string id, unix_seconds at, std::string sub, std::string customer, std::string status,
                 std::string price) {
        event e;
        e.id = std::move(id);
        e.type = "customer.subscription.updated";
        e.created = at;
        subscription x;
        x.id = std::move(sub);
        x.customer = std::move(customer);
        x.status = std::move(status);
        x.items.push_back(subscription_item{"si_" + x.id, std::move(price), 1, at + 100});
        e.object_id = x.id;
        e.object = x;
        return e;
    };
    std::vector<event> events;
    for (int i = 0; i < 5000; ++i) {  // more than one write-back batch
        const std::string sub = "sub_" + std::to_string(i), cus = "cus_" + std::to_string(i / 2);
        events.push_back(ev("evt_" + std::to_string(i) + "a", 100, sub, cus, "incomplete", "price_pro"));
        events.push_back(ev("evt_" + std::to_string(i) + "b", 100, sub, cus, "active", "price_pro"));
        events.push_back(ev("evt_" + std::to_string(i) + "c", 50, sub, cus, "canceled", "price_pro"));  // older
    }
    events.push_back(ev("evt_x1", 200, "sub_7", "cus_3", "active", "price_team"));  // same second, another tier
    events.push_back(ev("evt_x2", 200, "sub_7", "cus_3", "active", "price_pro"));
    const fs::path scratch = t.path.string() + ".reconciler-scratch";
    {
        subscription_folder disk(&p, s->subscription_scratch());
        subscription_folder memory(&p);
        BOOST_TEST(fs::exists(scratch));
        for (const auto& e : events) {
            disk.add(e, "req_" + e.id);
            memory.add(e, "req_" + e.id);
        }
        BOOST_TEST(disk.ambiguous() == std::vector<std::string>{"sub_7"}, boost::test_tools::per_element());
        BOOST_TEST(disk.ambiguous() == memory.ambiguous(), boost::test_tools::per_element());
        const auto a = disk.states(), b = memory.states();
        BOOST_REQUIRE_EQUAL(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            BOOST_TEST(a[i].sub.id == b[i].sub.id);
            BOOST_TEST(a[i].sub.status == b[i].sub.status);
            BOOST_TEST(a[i].event_id == b[i].event_id);
            BOOST_TEST(a[i].request_id == b[i].request_id);
            BOOST_TEST((a[i].sub.items.at(0).current_period_end == b[i].sub.items.at(0).current_period_end));
        }
        std::size_t chunks = 0, total = 0;
        std::set<std::string> customers_seen;
        disk.drain_by_customer(300, [&](std::vector<subscription_state>&& part) {
            ++chunks;
            total += part.size();
            std::set<std::string> here;
            for (const auto& st : part) here.insert(st.sub.customer);
            BOOST_TEST(here.size() <= 300u);
            for (const auto& c : here) BOOST_TEST(customers_seen.insert(c).second);  // never split
        });
        BOOST_TEST(total == 4999u);  // every state but the ambiguous one
        BOOST_TEST(chunks == 9u);    // 2,500 customers, 300 a chunk
        BOOST_TEST(disk.states().empty());
    }
    BOOST_TEST(!fs::exists(scratch));
}

BOOST_AUTO_TEST_CASE(revoke_never_goes_below_zero_and_applies_once) {
    temp_db t;  // user 1 has 50 credits
    auto s = t.open();
    proposed_correction c;
    c.kind = correction_kind::revoke_credits;
    c.ledger_key = "ch_1";
    c.user_id = 1;
    c.credits = 80;  // more than is left: only 50 can come back
    c.source = "ch_1";
    c.reason = "refund";
    auto r = s->apply(c, 0, "corr-r");
    BOOST_TEST(r.outcome == store::apply_outcome::applied);
    BOOST_TEST(r.credits_applied == 50);
    BOOST_TEST(t.metadata(1).at("ai_credits").as_int64() == 0);
    const auto m = t.metadata(1);
    const auto& events = m.at("credit_events").as_array();
    BOOST_TEST(events.at(0).at("delta").as_int64() == -50);
    BOOST_TEST(events.at(0).at("kind").as_string() == "revoke");
    BOOST_TEST(s->apply(c, 0, "corr-r2").outcome == store::apply_outcome::already_applied);
    BOOST_TEST(t.count("SELECT credits_delta FROM recon_corrections") == -50);
}

BOOST_AUTO_TEST_CASE(revert_compensates_once) {
    temp_db t;
    auto s = t.open();
    auto r = s->apply(grant(), 0, "corr-1");
    auto rv = s->revert(r.correction_id, "corr-rev");
    BOOST_TEST(rv.credits_delta == -1000);
    auto m = t.metadata(1);
    BOOST_TEST(m.at("ai_credits").as_int64() == 50);
    BOOST_TEST(m.at("credit_events").as_array().size() == 2u);
    BOOST_TEST(m.at("credit_events").as_array().at(1).at("source").as_string() == "corr-1");
    BOOST_TEST(t.count("SELECT COUNT(*) FROM recon_corrections WHERE status = 'reverted'") == 1);
    BOOST_CHECK_THROW(s->revert(r.correction_id, "again"), store::store_error);
    BOOST_CHECK_THROW(s->revert(999, "none"), store::store_error);
    // A tier the app changed since cannot be reverted blindly.
    proposed_correction c;
    c.kind = correction_kind::set_tier;
    c.ledger_key = "sub_1#evt_1";
    c.user_id = 1;
    c.tier_from = "pro";
    c.tier_to = "team";
    auto tr = s->apply(c, 0, "c-tier");
    { SQLite::Database db(t.path.string(), SQLite::OPEN_READWRITE); db.exec("UPDATE users SET plan = 'free' WHERE id = 1"); }
    BOOST_CHECK_THROW(s->revert(tr.correction_id, "rv"), store::store_error);
}

BOOST_AUTO_TEST_CASE(escalations_count_occurrences_watch_and_resolve) {
    temp_db t;
    auto s = t.open();
    store::escalation_input e{"data_platform", "balance_drift", "a@example.com", "{}", 0};
    auto first = s->raise(e, 1, 1);
    BOOST_TEST(first.is_new);
    auto second = s->raise(e, 2, 1);
    BOOST_TEST(!second.is_new);
    BOOST_TEST(second.id == first.id);
    BOOST_TEST(second.occurrences == 2);
    // Escalated only on the second failure.
    store::escalation_input tier{"billing_engineering", "tier_mismatch", "sub_1", "{}", 1000};
    BOOST_TEST(s->raise(tier, 1, 2).status == "watching");
    auto again = s->raise(tier, 2, 2);
    BOOST_TEST(again.status == "open");
    BOOST_TEST(again.is_new);
    // A run over [0, 500) did not look at sub_1 (at 1000): only the drift resolves.
    BOOST_TEST(s->resolve_absent(3, 0, 500, {"balance_drift", "tier_mismatch"}) == 1);
    BOOST_TEST(s->open_escalations().size() == 1u);
    // Run 4 raised sub_1 again (in any part of the run): still present.
    BOOST_TEST(s->raise(tier, 4, 2).status == "open");
    BOOST_TEST(s->resolve_absent(4, 0, 2000, {"tier_mismatch"}) == 0);
    BOOST_TEST(s->resolve_absent(5, 0, 2000, {"balance_drift"}) == 0);  // not a kind run 5 resolves
    BOOST_TEST(s->open_escalations().size() == 1u);
    BOOST_TEST(s->resolve_absent(5, 0, 2000, {"tier_mismatch"}) == 1);
    BOOST_TEST(s->open_escalations().empty());
}

BOOST_AUTO_TEST_CASE(correlation_ids_are_uuid_v4) {
    auto id = store::random_correlation_id();
    BOOST_TEST(id.size() == 36u);
    BOOST_TEST(id[14] == '4');
    BOOST_TEST(id != store::random_correlation_id());
}

BOOST_AUTO_TEST_SUITE_END()
