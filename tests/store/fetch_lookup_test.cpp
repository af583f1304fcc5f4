// The store (either backend), fetch_lookup: what the fetch stage reads: the subscription scratch, payments, the webhook log.
#include "store/store_fixture.hpp"

BOOST_AUTO_TEST_SUITE(store_fetch_lookup)

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
        BOOST_TEST(fs::exists(scratch) == !on_postgres());  // PostgreSQL's is a temporary table
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

// The fetch stage sees the store through this port only.
std::vector<std::string> paid_and_delivered(store::fetch_lookup& lookup) {
    auto ids = lookup.payments_paid_between(parse_rfc3339("2026-03-01T00:00:00Z"), parse_rfc3339("2026-04-01T00:00:00Z"));
    for (auto& id : lookup.delivered_event_ids({"evt_1", "evt_2", "evt_none"})) ids.push_back(std::move(id));
    return ids;
}

BOOST_AUTO_TEST_CASE(payments_in_the_window_and_delivered_events) {
    temp_db t;
    {
        t.exec("INSERT INTO payments(stripe_invoice_id, stripe_customer_id, user_id, amount, currency, status, paid_at)"
               " VALUES ('in_before', 'cus_1', 1, 100, 'usd', 'paid', '2026-02-28T23:59:59Z'),"
               " ('in_start', 'cus_1', 1, 100, 'usd', 'paid', '2026-03-01T00:00:00Z'),"
               " ('in_end', 'cus_1', 1, 100, 'usd', 'paid', '2026-04-01T00:00:00Z')");
        t.exec("INSERT INTO webhook_events(stripe_event_id, type, received_at, status, attempts, last_error) VALUES"
               " ('evt_1', 'invoice.paid', '2026-03-01T00:00:00Z', 'processed', 1, NULL),"
               " ('evt_2', 'invoice.paid', '2026-03-01T00:00:00Z', 'failed', 2, 'timeout')");
    }
    auto s = t.open();
    const auto ids = paid_and_delivered(*s);
    BOOST_TEST((std::set<std::string>(ids.begin(), ids.end()) == std::set<std::string>{"in_start", "evt_1", "evt_2"}));
    BOOST_TEST(s->delivered_event_ids({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
