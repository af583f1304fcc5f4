// The simulator's list engine, without a network: paging, filters, cursors
// and the error envelope, checked against Stripe's documented semantics.
#include "stripe_sim/dataset.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using reconciler::sim::dataset;
using reconciler::sim::http_result;

namespace {

boost::json::object obj(const std::string& id, std::int64_t created) {
    return boost::json::object{{"id", id}, {"created", created}};
}

boost::json::object event(const std::string& id, std::int64_t created, const std::string& type) {
    auto o = obj(id, created);
    o["object"] = "event";
    o["type"] = type;
    return o;
}

dataset numbered_events(int n, std::int64_t base = 1000) {
    dataset ds;
    for (int i = 0; i < n; ++i) ds.add("events", event("evt_" + std::to_string(i), base + i, "invoice.paid"));
    ds.finalize();
    return ds;
}

struct page {
    unsigned status;
    boost::json::object body;
    std::vector<std::string> ids() const {
        std::vector<std::string> out;
        for (const auto& v : body.at("data").as_array()) out.emplace_back(v.as_object().at("id").as_string());
        return out;
    }
    bool has_more() const { return body.at("has_more").as_bool(); }
};

page get(const dataset& ds, const std::string& target) {
    http_result r = ds.handle_get(target);
    return {r.status, boost::json::parse(r.body).as_object()};
}

// Follows starting_after until has_more is false; returns every id in order.
std::vector<std::string> page_all(const dataset& ds, const std::string& base, int* pages = nullptr) {
    std::vector<std::string> all;
    std::string cursor;
    int n = 0;
    for (;;) {
        std::string sep = base.find('?') == std::string::npos ? "?" : "&";
        auto p = get(ds, base + (cursor.empty() ? "" : sep + "starting_after=" + cursor));
        BOOST_REQUIRE_EQUAL(p.status, 200u);
        auto ids = p.ids();
        all.insert(all.end(), ids.begin(), ids.end());
        ++n;
        if (!p.has_more()) break;
        BOOST_REQUIRE(!ids.empty());
        cursor = ids.back();
    }
    if (pages) *pages = n;
    return all;
}

void check_error(const page& p, unsigned status, const std::string& code, const std::string& param) {
    BOOST_TEST(p.status == status);
    const auto& err = p.body.at("error").as_object();
    BOOST_TEST(err.at("type").as_string() == "invalid_request_error");
    BOOST_TEST(err.at("code").as_string() == code);
    BOOST_TEST(err.at("param").as_string() == param);
    BOOST_TEST(!err.at("message").as_string().empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_dataset)

BOOST_AUTO_TEST_CASE(empty_list_has_exact_envelope) {
    dataset ds;
    ds.finalize();
    auto r = ds.handle_get("/v1/events");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body == R"({"object":"list","data":[],"has_more":false,"url":"/v1/events"})");
    BOOST_TEST(ds.handle_get("/v1/invoices?limit=100").body ==
               R"({"object":"list","data":[],"has_more":false,"url":"/v1/invoices"})");
}

BOOST_AUTO_TEST_CASE(default_limit_is_ten_newest_first) {
    auto ds = numbered_events(15);
    auto p = get(ds, "/v1/events");
    BOOST_TEST(p.ids().size() == 10u);
    BOOST_TEST(p.ids().front() == "evt_14");
    BOOST_TEST(p.ids().back() == "evt_5");
    BOOST_TEST(p.has_more());
    BOOST_TEST(!p.body.contains("total_count"));
}

BOOST_AUTO_TEST_CASE(exactly_one_hundred_fit_one_page) {
    auto ds = numbered_events(100);
    auto p = get(ds, "/v1/events?limit=100");
    BOOST_TEST(p.ids().size() == 100u);
    BOOST_TEST(!p.has_more());
}

BOOST_AUTO_TEST_CASE(one_hundred_and_one_take_two_pages_without_loss_or_repeat) {
    auto ds = numbered_events(101);
    int pages = 0;
    auto all = page_all(ds, "/v1/events?limit=100", &pages);
    BOOST_TEST(pages == 2);
    BOOST_TEST(all.size() == 101u);
    BOOST_TEST(std::set<std::string>(all.begin(), all.end()).size() == 101u);
    BOOST_TEST(all.back() == "evt_0");
}

BOOST_AUTO_TEST_CASE(same_second_objects_across_page_boundaries) {
    dataset ds;
    ds.add("invoices", obj("in_old", 10));
    for (int i = 0; i < 7; ++i) ds.add("invoices", obj("in_same_" + std::to_string(i), 50));
    ds.add("invoices", obj("in_new", 90));
    ds.finalize();
    int pages = 0;
    auto all = page_all(ds, "/v1/invoices?limit=2", &pages);
    BOOST_TEST(pages == 5);
    const std::vector<std::string> expected{"in_new", "in_same_6", "in_same_5", "in_same_4", "in_same_3",
                                            "in_same_2", "in_same_1", "in_same_0", "in_old"};
    BOOST_TEST(all == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(finalize_again_merges_later_additions) {
    dataset ds;
    ds.add("customers", obj("cus_a", 5));
    ds.finalize();
    ds.add("customers", obj("cus_b", 1));
    BOOST_TEST(get(ds, "/v1/customers").ids().size() == 1u);  // not visible before finalize()
    BOOST_TEST(get(ds, "/v1/customers/cus_b").status == 404u);
    ds.finalize();
    BOOST_TEST(get(ds, "/v1/customers").ids() == (std::vector<std::string>{"cus_a", "cus_b"}),
               boost::test_tools::per_element());
    BOOST_TEST(get(ds, "/v1/customers/cus_a").status == 200u);
    BOOST_CHECK_THROW(ds.add("customers", obj("cus_a", 9)), std::invalid_argument);
    BOOST_CHECK_THROW(ds.add("refunds", obj("re_1", 9)), std::invalid_argument);
    BOOST_CHECK_THROW(ds.add("customers", boost::json::object{{"id", "cus_c"}}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(created_filters_plain_and_percent_encoded) {
    auto ds = numbered_events(20, 100);  // created 100..119
    BOOST_TEST(page_all(ds, "/v1/events?created[gte]=110").size() == 10u);
    BOOST_TEST(page_all(ds, "/v1/events?created%5Bgte%5D=110").size() == 10u);
    BOOST_TEST(page_all(ds, "/v1/events?created%5bgt%5d=110").size() == 9u);
    BOOST_TEST(page_all(ds, "/v1/events?created[lt]=105").size() == 5u);
    BOOST_TEST(page_all(ds, "/v1/events?created[lte]=105").size() == 6u);
    auto both = page_all(ds, "/v1/events?created[gte]=103&created[lt]=106");
    BOOST_TEST(both == (std::vector<std::string>{"evt_5", "evt_4", "evt_3"}), boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/events?created=107") == std::vector<std::string>{"evt_7"},
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/events?created[gt]=200").empty());
    BOOST_TEST(page_all(ds, "/v1/events?created[gt]=110&created[lt]=105").empty());
    check_error(get(ds, "/v1/events?created[gte]=abc"), 400, "parameter_invalid_integer", "created[gte]");
    check_error(get(ds, "/v1/events?created[between]=1"), 400, "parameter_unknown", "created[between]");
}

BOOST_AUTO_TEST_CASE(starting_after_and_ending_before_are_exclusive) {
    auto ds = numbered_events(10);  // list order: evt_9 .. evt_0
    BOOST_TEST(get(ds, "/v1/events?limit=3&starting_after=evt_7").ids() ==
                   (std::vector<std::string>{"evt_6", "evt_5", "evt_4"}),
               boost::test_tools::per_element());
    auto before = get(ds, "/v1/events?limit=3&ending_before=evt_3");
    BOOST_TEST(before.ids() == (std::vector<std::string>{"evt_6", "evt_5", "evt_4"}), boost::test_tools::per_element());
    BOOST_TEST(before.has_more());  // evt_7.. are newer still
    auto newest = get(ds, "/v1/events?limit=3&ending_before=evt_7");
    BOOST_TEST(newest.ids() == (std::vector<std::string>{"evt_9", "evt_8"}), boost::test_tools::per_element());
    BOOST_TEST(!newest.has_more());
    auto last = get(ds, "/v1/events?limit=3&starting_after=evt_2");
    BOOST_TEST(last.ids() == (std::vector<std::string>{"evt_1", "evt_0"}), boost::test_tools::per_element());
    BOOST_TEST(!last.has_more());
    BOOST_TEST(get(ds, "/v1/events?starting_after=evt_0").ids().empty());
    // A cursor combined with a created window stays inside the window.
    BOOST_TEST(get(ds, "/v1/events?created[gte]=1005&starting_after=evt_8").ids() ==
                   (std::vector<std::string>{"evt_7", "evt_6", "evt_5"}),
               boost::test_tools::per_element());

    check_error(get(ds, "/v1/events?starting_after=evt_3&ending_before=evt_5"), 400, "parameter_invalid_string",
                "ending_before");
    check_error(get(ds, "/v1/events?starting_after=evt_nope"), 400, "resource_missing", "starting_after");
    check_error(get(ds, "/v1/events?ending_before=evt_nope"), 400, "resource_missing", "ending_before");
}

BOOST_AUTO_TEST_CASE(bad_limits_are_rejected) {
    auto ds = numbered_events(3);
    for (const char* bad : {"0", "101", "-1", "abc", "10abc", "", "1e2"})
        check_error(get(ds, std::string("/v1/events?limit=") + bad), 400, "parameter_invalid_integer", "limit");
    BOOST_TEST(get(ds, "/v1/events?limit=1").ids().size() == 1u);
    BOOST_TEST(get(ds, "/v1/events?limit=100").ids().size() == 3u);
    check_error(get(ds, "/v1/events?colour=red"), 400, "parameter_unknown", "colour");
    check_error(get(ds, "/v1/events?limit=%zz"), 400, "parameter_invalid_string", "");
}

BOOST_AUTO_TEST_CASE(event_type_filters) {
    dataset ds;
    const std::vector<std::string> types{"invoice.paid", "invoice.payment_failed", "customer.subscription.updated",
                                         "charge.refunded", "invoiceitem.created"};
    for (int i = 0; i < 50; ++i)
        ds.add("events", event("evt_" + std::to_string(i), 100 + i, types[static_cast<std::size_t>(i) % types.size()]));
    ds.finalize();

    auto paid = page_all(ds, "/v1/events?type=invoice.paid&limit=3");
    BOOST_TEST(paid.size() == 10u);
    BOOST_TEST(paid.front() == "evt_45");
    // The wildcard keeps the dot: invoice.* must not match invoiceitem.created.
    BOOST_TEST(page_all(ds, "/v1/events?type=invoice.*&limit=7").size() == 20u);
    BOOST_TEST(page_all(ds, "/v1/events?types[0]=invoice.paid&types[1]=charge.refunded&limit=4").size() == 20u);
    BOOST_TEST(page_all(ds, "/v1/events?types%5B0%5D=customer.subscription.updated").size() == 10u);
    BOOST_TEST(page_all(ds, "/v1/events?types[]=charge.refunded").size() == 10u);
    BOOST_TEST(page_all(ds, "/v1/events?type=nothing.happened").empty());
    check_error(get(ds, "/v1/events?type=invoice.paid&types[0]=charge.refunded"), 400, "parameter_invalid_string",
                "types");
    std::string many = "/v1/events?";
    for (int i = 0; i < 21; ++i) many += "types[" + std::to_string(i) + "]=t" + std::to_string(i) + "&";
    check_error(get(ds, many), 400, "parameter_invalid_array", "types");
    check_error(get(ds, "/v1/invoices?type=invoice.paid"), 400, "parameter_unknown", "type");
}

BOOST_AUTO_TEST_CASE(invoice_filters_read_both_api_shapes) {
    dataset ds;
    auto a = obj("in_a", 1);
    a["status"] = "paid";
    a["customer"] = "cus_1";
    a["subscription"] = "sub_1";
    auto b = obj("in_b", 2);
    b["status"] = "open";
    b["customer"] = boost::json::object{{"id", "cus_2"}};  // expanded
    b["parent"] = boost::json::object{
        {"type", "subscription_details"},
        {"subscription_details", boost::json::object{{"subscription", "sub_1"}}}};
    auto c = obj("in_c", 3);
    c["status"] = "paid";
    c["customer"] = "cus_2";
    ds.add("invoices", a);
    ds.add("invoices", b);
    ds.add("invoices", c);
    ds.finalize();
    using v = std::vector<std::string>;
    BOOST_TEST(page_all(ds, "/v1/invoices?status=paid") == (v{"in_c", "in_a"}), boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/invoices?customer=cus_2") == (v{"in_c", "in_b"}), boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/invoices?subscription=sub_1") == (v{"in_b", "in_a"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/invoices?subscription=sub_1&status=open") == v{"in_b"},
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/invoices?customer=cus_unknown").empty());
    check_error(get(ds, "/v1/invoices?status=bogus"), 400, "parameter_invalid_string", "status");
    check_error(get(ds, "/v1/invoices?customer="), 400, "parameter_invalid_empty", "customer");
}

BOOST_AUTO_TEST_CASE(subscription_status_default_excludes_canceled) {
    dataset ds;
    const std::vector<std::string> statuses{"active", "canceled", "trialing", "incomplete_expired", "past_due"};
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        auto s = obj("sub_" + statuses[i], static_cast<std::int64_t>(i));
        s["status"] = statuses[i];
        s["customer"] = i % 2 ? "cus_odd" : "cus_even";
        ds.add("subscriptions", s);
    }
    ds.finalize();
    using v = std::vector<std::string>;
    BOOST_TEST(page_all(ds, "/v1/subscriptions") ==
                   (v{"sub_past_due", "sub_incomplete_expired", "sub_trialing", "sub_active"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/subscriptions?status=all").size() == 5u);
    BOOST_TEST(page_all(ds, "/v1/subscriptions?status=canceled") == v{"sub_canceled"},
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/subscriptions?status=ended") == (v{"sub_incomplete_expired", "sub_canceled"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/subscriptions?customer=cus_odd") == (v{"sub_incomplete_expired"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/subscriptions?customer=cus_odd&status=all").size() == 2u);
    check_error(get(ds, "/v1/subscriptions?status=gone"), 400, "parameter_invalid_string", "status");
}

BOOST_AUTO_TEST_CASE(customers_by_email_and_deleted_ones_unlisted) {
    dataset ds;
    auto a = obj("cus_a", 1);
    a["email"] = "a+tag@example.com";
    auto b = obj("cus_b", 2);
    b["email"] = "b@example.com";
    auto gone = boost::json::object{{"id", "cus_gone"}, {"created", 3}, {"object", "customer"}, {"deleted", true}};
    ds.add("customers", a);
    ds.add("customers", b);
    ds.add("customers", gone);
    ds.finalize();
    BOOST_TEST(page_all(ds, "/v1/customers").size() == 2u);
    BOOST_TEST(page_all(ds, "/v1/customers?email=a%2Btag%40example.com") == std::vector<std::string>{"cus_a"},
               boost::test_tools::per_element());
    BOOST_TEST(get(ds, "/v1/customers/cus_gone").body.at("deleted").as_bool());
}

BOOST_AUTO_TEST_CASE(retrieve_and_error_shapes) {
    dataset ds;
    auto inv = obj("in_1", 7);
    inv["object"] = "invoice";
    inv["note"] = "quote \" and unicode \xc3\xa9";
    ds.add("invoices", inv);
    ds.finalize();
    auto ok = get(ds, "/v1/invoices/in_1");
    BOOST_TEST(ok.status == 200u);
    BOOST_TEST(ok.body == inv);

    auto missing = get(ds, "/v1/invoices/in_x");
    check_error(missing, 404, "resource_missing", "id");
    BOOST_TEST(missing.body.at("error").as_object().at("message").as_string() == "No such invoice: 'in_x'");

    for (const char* path : {"/v1/refunds", "/v2/events", "/", "/v1/invoices/in_1/lines/x", "/v1/invoices/"}) {
        auto p = get(ds, path);
        BOOST_TEST(p.status == 404u, path);
        BOOST_TEST(p.body.at("error").as_object().at("type").as_string() == "invalid_request_error");
        BOOST_TEST(p.body.at("error").as_object().contains("code"));
        BOOST_TEST(p.body.at("error").as_object().contains("param"));
    }
    // A request value echoed in a message must stay valid JSON.
    auto tricky = get(ds, "/v1/invoices/in_%22%5C");
    BOOST_TEST(tricky.status == 404u);
}

BOOST_AUTO_TEST_CASE(load_reads_a_directory_and_stripe_fixtures) {
    const auto dir = std::filesystem::temp_directory_path() / ("sim_dataset_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // Stripe's own example objects, so loading copes with real shapes.
    std::ifstream in(std::string(RECONCILER_FIXTURES_DIR) + "/stripe/openapi-fixtures3.json");
    BOOST_REQUIRE(in);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto fixtures = boost::json::parse(text).as_object();
    const auto& resources = fixtures.at("resources").as_object();
    std::ofstream(dir / "events.json") << boost::json::serialize(boost::json::array{resources.at("event")});
    std::ofstream(dir / "invoices.json") << boost::json::serialize(boost::json::array{resources.at("invoice")});
    std::ofstream(dir / "ground_truth.json") << "{}";  // not a resource: ignored
    auto ds = dataset::load(dir);
    BOOST_TEST(ds.size("events") == 1u);
    BOOST_TEST(ds.size("invoices") == 1u);
    BOOST_TEST(ds.size("customers") == 0u);
    const std::string invoice_id(resources.at("invoice").as_object().at("id").as_string());
    BOOST_TEST(get(ds, "/v1/invoices/" + invoice_id).status == 200u);

    std::ofstream(dir / "customers.json") << R"([{"id":"cus_1","created":1},{"id":"cus_2"}])";
    try {
        dataset::load(dir);
        BOOST_FAIL("load accepted a customer without created");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find("customers.json element 1") != std::string::npos, e.what());
    }
    std::filesystem::remove_all(dir);
    BOOST_CHECK_THROW(dataset::load(dir), std::runtime_error);
}

boost::json::object charge(const std::string& id, std::int64_t created, std::int64_t amount,
                           const std::string& invoice) {
    auto c = obj(id, created);
    c["object"] = "charge";
    c["amount"] = amount;
    c["currency"] = "usd";
    c["customer"] = "cus_1";
    c["invoice"] = invoice;
    return c;
}

boost::json::object dispute_event(const std::string& id, std::int64_t created, const std::string& type,
                                  const std::string& dispute_id, const std::string& charge_id, std::int64_t amount) {
    auto e = event(id, created, type);
    e["data"] = boost::json::object{{"object", boost::json::object{{"id", dispute_id},
                                                                   {"object", "dispute"},
                                                                   {"amount", amount},
                                                                   {"charge", charge_id},
                                                                   {"created", created},
                                                                   {"currency", "usd"},
                                                                   {"status", "needs_response"}}}};
    return e;
}

// Two charges, two disputes (from their charge.dispute.created events) and
// events that must not add disputes.
dataset disputes_dataset() {
    dataset ds;
    ds.add("charges", charge("ch_a", 100, 1500, "in_a"));
    ds.add("charges", charge("ch_b", 110, 2500, "in_b"));
    ds.add("events", event("evt_paid", 150, "invoice.paid"));
    ds.add("events", dispute_event("evt_d1", 200, "charge.dispute.created", "dp_1", "ch_a", 1500));
    ds.add("events", dispute_event("evt_upd", 250, "charge.dispute.updated", "dp_other", "ch_a", 1500));
    ds.add("events", dispute_event("evt_d2", 300, "charge.dispute.created", "dp_2", "ch_b", 2500));
    // The same dispute announced again: kept once, as first added.
    ds.add("events", dispute_event("evt_d2_again", 310, "charge.dispute.created", "dp_2", "ch_b", 9999));
    ds.add("events", event("evt_refund", 350, "charge.refunded"));
    ds.finalize();
    return ds;
}

void check_expanded_charge(const boost::json::value& dispute, const std::string& charge_id, std::int64_t amount,
                           const std::string& invoice) {
    const auto& c = dispute.as_object().at("charge");
    BOOST_REQUIRE(c.is_object());
    BOOST_TEST(c.as_object().at("id").as_string() == charge_id);
    BOOST_TEST(c.as_object().at("amount").as_int64() == amount);
    BOOST_TEST(c.as_object().at("invoice").as_string() == invoice);
}

BOOST_AUTO_TEST_CASE(disputes_come_from_dispute_created_events) {
    auto ds = disputes_dataset();
    using v = std::vector<std::string>;
    BOOST_TEST(ds.size("disputes") == 2u);
    BOOST_TEST(ds.size("events") == 6u);
    BOOST_TEST(page_all(ds, "/v1/disputes") == (v{"dp_2", "dp_1"}), boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/disputes?limit=1") == (v{"dp_2", "dp_1"}), boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/disputes?created%5Bgte%5D=250") == v{"dp_2"}, boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/disputes?created[lt]=300") == v{"dp_1"}, boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/disputes?charge=ch_a") == v{"dp_1"}, boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/disputes?charge=ch_none").empty());
    BOOST_TEST(get(ds, "/v1/disputes?ending_before=dp_1").ids() == v{"dp_2"}, boost::test_tools::per_element());

    // Without expand the charge stays an id, as stored.
    auto plain = get(ds, "/v1/disputes");
    BOOST_TEST(plain.body.at("url").as_string() == "/v1/disputes");
    for (const auto& d : plain.body.at("data").as_array()) {
        BOOST_TEST(d.as_object().at("object").as_string() == "dispute");
        BOOST_TEST(d.as_object().at("charge").is_string());
    }
    BOOST_TEST(plain.body.at("data").as_array().at(0).as_object().at("amount").as_int64() == 2500);

    auto one = get(ds, "/v1/disputes/dp_1");
    BOOST_TEST(one.status == 200u);
    BOOST_TEST(one.body.at("charge").as_string() == "ch_a");

    auto missing = get(ds, "/v1/disputes/dp_x");
    check_error(missing, 404, "resource_missing", "id");
    BOOST_TEST(missing.body.at("error").as_object().at("message").as_string() == "No such dispute: 'dp_x'");
}

BOOST_AUTO_TEST_CASE(disputes_expand_their_charge) {
    auto ds = disputes_dataset();
    const std::string charge_a = ds.handle_get("/v1/charges/ch_a").body;
    for (const char* target : {"/v1/disputes?expand%5B%5D=data.charge", "/v1/disputes?expand%5B0%5D=data.charge",
                               "/v1/disputes?expand[]=data.charge&charge=ch_b&limit=5"}) {
        auto p = get(ds, target);
        BOOST_TEST_REQUIRE(p.status == 200u, target);
        for (const auto& d : p.body.at("data").as_array()) {
            if (d.as_object().at("id").as_string() == "dp_2") check_expanded_charge(d, "ch_b", 2500, "in_b");
            else check_expanded_charge(d, "ch_a", 1500, "in_a");
        }
    }
    BOOST_TEST(get(ds, "/v1/disputes?expand%5B%5D=data.charge&charge=ch_b").ids() == std::vector<std::string>{"dp_2"},
               boost::test_tools::per_element());

    auto one = get(ds, "/v1/disputes/dp_1?expand%5B%5D=charge");
    BOOST_TEST_REQUIRE(one.status == 200u);
    check_expanded_charge(one.body, "ch_a", 1500, "in_a");
    // The very object GET /v1/charges/ch_a answers.
    BOOST_TEST(one.body.at("charge") == boost::json::parse(charge_a));
    BOOST_TEST(get(ds, "/v1/disputes/dp_2?expand%5B0%5D=charge").body.at("charge").as_object().at("id").as_string() ==
               "ch_b");

    // Stripe's 400 for anything else that asks to expand.
    for (const char* target : {"/v1/disputes?expand%5B%5D=data.customer", "/v1/invoices?expand%5B%5D=data.charge",
                               "/v1/disputes?expand%5B%5D=charge", "/v1/disputes/dp_1?expand%5B%5D=data.charge",
                               "/v1/charges/ch_a?expand%5B%5D=customer"}) {
        auto p = get(ds, target);
        check_error(p, 400, "", "expand");
        BOOST_TEST(p.body.at("error").as_object().at("message").as_string().starts_with(
                       "This property cannot be expanded ("),
                   target);
    }
    BOOST_TEST(get(ds, "/v1/disputes?expand%5B%5D=data.customer").body.at("error").as_object().at("message") ==
               "This property cannot be expanded (data.customer).");
    check_error(get(ds, "/v1/disputes/dp_x?expand%5B%5D=charge"), 404, "resource_missing", "id");
    // Other parameters on a retrieve are still unknown.
    check_error(get(ds, "/v1/disputes/dp_1?limit=1"), 400, "parameter_unknown", "limit");
    check_error(get(ds, "/v1/disputes?expand%5Bx%5D=data.charge"), 400, "parameter_unknown", "expand[x]");

    // A charge outside the dataset stays an id.
    dataset lone;
    lone.add("events", dispute_event("evt_d", 5, "charge.dispute.created", "dp_lone", "ch_gone", 700));
    lone.finalize();
    auto kept = get(lone, "/v1/disputes?expand%5B%5D=data.charge");
    BOOST_TEST_REQUIRE(kept.status == 200u);
    BOOST_TEST(kept.body.at("data").as_array().at(0).as_object().at("charge").as_string() == "ch_gone");
}

BOOST_AUTO_TEST_CASE(disputes_json_is_loaded_before_events_derive) {
    const auto dir = std::filesystem::temp_directory_path() / ("sim_disputes_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    boost::json::array events{dispute_event("evt_d1", 200, "charge.dispute.created", "dp_1", "ch_a", 1500),
                              dispute_event("evt_d2", 300, "charge.dispute.created", "dp_2", "ch_b", 2500)};
    auto from_file = events[0].as_object().at("data").as_object().at("object").as_object();
    from_file["status"] = "won";  // the file's copy must win over the event's
    std::ofstream(dir / "events.json") << boost::json::serialize(events);
    std::ofstream(dir / "disputes.json") << boost::json::serialize(boost::json::array{from_file});
    auto ds = dataset::load(dir);
    BOOST_TEST(ds.size("disputes") == 2u);
    BOOST_TEST(get(ds, "/v1/disputes/dp_1").body.at("status").as_string() == "won");
    BOOST_TEST(get(ds, "/v1/disputes/dp_2").body.at("status").as_string() == "needs_response");

    // A charge.dispute.created event whose dispute is malformed is refused whole.
    dataset bad;
    auto e = dispute_event("evt_bad", 1, "charge.dispute.created", "dp_bad", "ch_a", 1);
    e["data"].as_object()["object"].as_object().erase("created");
    BOOST_CHECK_THROW(bad.add("events", e), std::invalid_argument);
    bad.finalize();
    BOOST_TEST(bad.size("events") == 0u);
    BOOST_TEST(bad.size("disputes") == 0u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
