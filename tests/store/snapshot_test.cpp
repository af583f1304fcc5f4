// The store (either backend), snapshot: load_local: the app's side of a window.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_snapshot)

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
        t.exec(R"(UPDATE users SET plan_metadata = '{"ai_credits":30,"credit_events":[)"
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
        // Users 3..12: usage in the window (3, 6, 9, 12), a credit event in it
        // (4, 7, 10), a broken balance (5), nothing (8, 11). 1 has a broken balance, 2 is idle.
        for (int id = 3; id <= 12; ++id) {
            const std::string n = std::to_string(id);
            std::string meta = "{\"ai_credits\":0,\"credit_events\":[]}";
            if (id % 3 == 1) meta = "{\"ai_credits\":10,\"credit_events\":[{\"id\":\"ce" + n +
                                    "\",\"kind\":\"grant\",\"delta\":10,\"at\":\"2026-03-01T00:00:00Z\"}]}";
            if (id == 5) meta = "{\"ai_credits\":7,\"credit_events\":[]}";
            t.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at)"
                   " VALUES (" + n + ", 'u" + n + "@example.com', 'free', NULL, '" + meta + "', '2026-01-01T00:00:00Z')");
            if (id % 3 == 0)
                t.exec("INSERT INTO ai_usage(user_id, credits, request_id, created_at) VALUES"
                       " (" + n + ", 1, 'req_" + n + "', '2026-03-02T00:00:00Z'), (" + n +
                       ", 1, 'req_old', '2025-01-01T00:00:00Z')");
        }
        t.exec("INSERT INTO webhook_events(stripe_event_id, type, received_at, status, attempts, last_error) VALUES"
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

BOOST_AUTO_TEST_SUITE_END()
