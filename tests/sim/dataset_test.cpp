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

// ------------------------------------------------------- API versions

constexpr const char* legacy = "2024-06-20";
constexpr const char* basil = "2025-03-31.basil";

page get_at(const dataset& ds, const std::string& target, const std::string& version) {
    http_result r = ds.handle_get(target, version);
    return {r.status, boost::json::parse(r.body).as_object()};
}

// A paid invoice and its charge in both renditions: before basil they name
// each other; basil removed both links (an InvoicePayment has them).
dataset versioned_dataset() {
    dataset ds;
    auto old_charge = charge("ch_a", 100, 1500, "in_a");
    old_charge["payment_intent"] = "pi_a";
    auto new_charge = old_charge;
    new_charge.erase("invoice");
    ds.add_renditions("charges", {old_charge, new_charge});

    auto old_invoice = obj("in_a", 90);
    old_invoice["object"] = "invoice";
    old_invoice["status"] = "paid";
    old_invoice["customer"] = "cus_1";
    auto new_invoice = old_invoice;
    old_invoice["paid"] = true;
    old_invoice["paid_out_of_band"] = false;
    old_invoice["charge"] = "ch_a";
    old_invoice["payment_intent"] = "pi_a";
    old_invoice["subscription"] = "sub_1";
    new_invoice["parent"] = boost::json::object{
        {"type", "subscription_details"}, {"subscription_details", boost::json::object{{"subscription", "sub_1"}}}};
    ds.add_renditions("invoices", {old_invoice, new_invoice});
    ds.add("events", dispute_event("evt_d", 200, "charge.dispute.created", "dp_a", "ch_a", 1500));
    ds.finalize();
    return ds;
}

BOOST_AUTO_TEST_CASE(supported_api_versions_and_file_names) {
    BOOST_TEST(dataset::supported_api_versions() == (std::vector<std::string>{legacy, basil}),
               boost::test_tools::per_element());
    BOOST_TEST(dataset::is_supported_api_version(legacy));
    BOOST_TEST(dataset::is_supported_api_version(basil));
    BOOST_TEST(!dataset::is_supported_api_version("2025-03-31"));
    BOOST_TEST(dataset::rendition_file_name("charges", basil) == "charges.json");
    BOOST_TEST(dataset::rendition_file_name("charges", legacy) == "charges@2024-06-20.json");
}

BOOST_AUTO_TEST_CASE(objects_are_served_at_the_requested_version) {
    const auto ds = versioned_dataset();
    // The same charge: named invoice before basil, none at basil, the PaymentIntent at both.
    const auto old_charge = get_at(ds, "/v1/charges/ch_a", legacy);
    BOOST_TEST_REQUIRE(old_charge.status == 200u);
    BOOST_TEST(old_charge.body.at("invoice").as_string() == "in_a");
    BOOST_TEST(old_charge.body.at("payment_intent").as_string() == "pi_a");
    const auto new_charge = get_at(ds, "/v1/charges/ch_a", basil);
    BOOST_TEST_REQUIRE(new_charge.status == 200u);
    BOOST_TEST(!new_charge.body.contains("invoice"));
    BOOST_TEST(new_charge.body.at("payment_intent").as_string() == "pi_a");
    // Without a version: the default, basil.
    BOOST_TEST(get(ds, "/v1/charges/ch_a").body == new_charge.body);
    // Lists too, page by page.
    BOOST_TEST(get_at(ds, "/v1/charges?customer=cus_1", legacy).body.at("data").at(0).as_object().contains("invoice"));
    BOOST_TEST(!get_at(ds, "/v1/charges?customer=cus_1", basil).body.at("data").at(0).as_object().contains("invoice"));

    const auto old_invoice = get_at(ds, "/v1/invoices/in_a", legacy).body;
    for (const char* k : {"paid", "paid_out_of_band", "charge", "payment_intent", "subscription"})
        BOOST_TEST(old_invoice.contains(k), k);
    BOOST_TEST(!old_invoice.contains("parent"));
    const auto new_invoice = get_at(ds, "/v1/invoices/in_a", basil).body;
    for (const char* k : {"paid", "paid_out_of_band", "charge", "payment_intent", "subscription"})
        BOOST_TEST(!new_invoice.contains(k), k);
    BOOST_TEST(new_invoice.at("parent").at("subscription_details").at("subscription").as_string() == "sub_1");
    // Filters read the default rendition, and the subscription in either shape.
    for (const char* version : {legacy, basil})
        BOOST_TEST(get_at(ds, "/v1/invoices?subscription=sub_1", version).ids() == std::vector<std::string>{"in_a"},
                   version);
    // Unversioned resources are the same bytes at every version.
    BOOST_TEST(ds.handle_get("/v1/events/evt_d", legacy).body == ds.handle_get("/v1/events/evt_d", basil).body);
}

BOOST_AUTO_TEST_CASE(unsupported_api_version_is_a_400) {
    const auto ds = versioned_dataset();
    for (const char* version : {"2020-08-27", "", "2025-03-31", "latest"}) {
        const auto p = get_at(ds, "/v1/charges/ch_a", version);
        check_error(p, 400, "", "");
        BOOST_TEST(p.body.at("error").at("message").as_string() ==
                   "Invalid Stripe API version: " + std::string(version));
    }
    // Before anything else about the request.
    check_error(get_at(ds, "/v1/nothing_here", "2020-08-27"), 400, "", "");
}

BOOST_AUTO_TEST_CASE(add_renditions_checks_its_objects) {
    dataset ds;
    const auto a = obj("ch_1", 5);
    BOOST_CHECK_THROW(ds.add_renditions("charges", {a}), std::invalid_argument);                  // one per version
    BOOST_CHECK_THROW(ds.add_renditions("events", {a, a}), std::invalid_argument);                // not versioned
    BOOST_CHECK_THROW(ds.add_renditions("refunds", {a, a}), std::invalid_argument);               // unknown
    BOOST_CHECK_THROW(ds.add_renditions("charges", {obj("ch_2", 5), a}), std::invalid_argument);  // another object
    BOOST_CHECK_THROW(ds.add_renditions("charges", {obj("ch_1", 6), a}), std::invalid_argument);  // another created
    ds.finalize();
    BOOST_TEST(ds.size("charges") == 0u);
    ds.add_renditions("charges", {a, a});
    BOOST_CHECK_THROW(ds.add_renditions("charges", {a, a}), std::invalid_argument);  // duplicate id
    ds.finalize();
    BOOST_TEST(ds.size("charges") == 1u);
}

boost::json::object invoice_payment(const std::string& id, std::int64_t created, const std::string& invoice,
                                    const std::string& type, const std::string& payment, const std::string& status) {
    auto p = obj(id, created);
    p["object"] = "invoice_payment";
    p["amount_paid"] = status == "paid" ? boost::json::value(900) : boost::json::value(nullptr);
    p["amount_requested"] = 900;
    p["currency"] = "usd";
    p["invoice"] = invoice;
    p["is_default"] = true;
    p["livemode"] = false;
    p["payment"] = boost::json::object{{"type", type}, {type, payment}};
    p["status"] = status;
    p["status_transitions"] = boost::json::object{{"canceled_at", nullptr}, {"paid_at", nullptr}};
    return p;
}

dataset invoice_payments_dataset() {
    dataset ds;
    ds.add("invoice_payments", invoice_payment("inpay_1", 100, "in_a", "payment_intent", "pi_a", "paid"));
    ds.add("invoice_payments", invoice_payment("inpay_2", 110, "in_b", "payment_intent", "pi_b", "paid"));
    ds.add("invoice_payments", invoice_payment("inpay_3", 120, "in_b", "payment_record", "pr_b", "open"));
    ds.finalize();
    return ds;
}

BOOST_AUTO_TEST_CASE(invoice_payments_list_filters) {
    const auto ds = invoice_payments_dataset();
    using v = std::vector<std::string>;
    const auto ids = [&](const std::string& query) {
        const auto p = get_at(ds, "/v1/invoice_payments" + query, basil);
        BOOST_TEST_REQUIRE(p.status == 200u, query);
        BOOST_TEST(p.body.at("url").as_string() == "/v1/invoice_payments");
        return p.ids();
    };
    BOOST_TEST(ids("") == (v{"inpay_3", "inpay_2", "inpay_1"}), boost::test_tools::per_element());
    // The invoice's payment by its PaymentIntent, as a basil client links a charge.
    BOOST_TEST(ids("?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=pi_a") == v{"inpay_1"},
               boost::test_tools::per_element());
    BOOST_TEST(ids("?payment[payment_intent]=pi_b&payment[type]=payment_intent") == v{"inpay_2"},
               boost::test_tools::per_element());
    BOOST_TEST(ids("?payment[type]=payment_intent&payment[payment_intent]=pi_none").empty());
    BOOST_TEST(ids("?payment[type]=payment_intent") == (v{"inpay_2", "inpay_1"}), boost::test_tools::per_element());
    BOOST_TEST(ids("?payment[type]=payment_record&payment[payment_record]=pr_b") == v{"inpay_3"},
               boost::test_tools::per_element());
    BOOST_TEST(ids("?invoice=in_b") == (v{"inpay_3", "inpay_2"}), boost::test_tools::per_element());
    BOOST_TEST(ids("?invoice=in_b&status=paid") == v{"inpay_2"}, boost::test_tools::per_element());
    BOOST_TEST(ids("?status=open") == v{"inpay_3"}, boost::test_tools::per_element());
    BOOST_TEST(ids("?status=canceled").empty());
    BOOST_TEST(ids("?limit=1&starting_after=inpay_3") == v{"inpay_2"}, boost::test_tools::per_element());
    BOOST_TEST(ids("?ending_before=inpay_1&limit=1") == v{"inpay_2"}, boost::test_tools::per_element());

    // payment[payment_intent] needs payment[type], and the matching one.
    check_error(get_at(ds, "/v1/invoice_payments?payment[payment_intent]=pi_a", basil), 400, "parameter_missing",
                "payment[type]");
    check_error(get_at(ds, "/v1/invoice_payments?payment[type]=payment_record&payment[payment_intent]=pi_a", basil),
                400, "parameter_unknown", "payment[payment_intent]");
    check_error(get_at(ds, "/v1/invoice_payments?payment[type]=card", basil), 400, "parameter_invalid_string",
                "payment[type]");
    check_error(get_at(ds, "/v1/invoice_payments?payment[type]=", basil), 400, "parameter_invalid_empty",
                "payment[type]");
    check_error(get_at(ds, "/v1/invoice_payments?payment[charge]=ch_a&payment[type]=payment_intent", basil), 400,
                "parameter_unknown", "payment[charge]");
    check_error(get_at(ds, "/v1/invoice_payments?payment=pi_a", basil), 400, "parameter_unknown", "payment");
    check_error(get_at(ds, "/v1/invoice_payments?status=void", basil), 400, "parameter_invalid_string", "status");
    check_error(get_at(ds, "/v1/invoice_payments?customer=cus_1", basil), 400, "parameter_unknown", "customer");
    // Basil's list has no created filter at all.
    for (const char* q : {"?created=100", "?created%5Bgte%5D=100", "?created[lt]=5&invoice=in_a"}) {
        const auto p = get_at(ds, std::string("/v1/invoice_payments") + q, basil);
        check_error(p, 400, "parameter_unknown", "created");
        BOOST_TEST(p.body.at("error").at("message").as_string() == "Received unknown parameter: created");
    }
    // Nothing on it expands.
    for (const char* q : {"?expand%5B%5D=data.invoice", "?expand[]=data.payment.payment_intent"})
        check_error(get_at(ds, std::string("/v1/invoice_payments") + q, basil), 400, "", "expand");
    check_error(get_at(ds, "/v1/invoice_payments/inpay_1?expand%5B%5D=invoice", basil), 400, "", "expand");
}

BOOST_AUTO_TEST_CASE(invoice_payments_exist_from_basil_on) {
    const auto ds = invoice_payments_dataset();
    const auto one = get_at(ds, "/v1/invoice_payments/inpay_1", basil);
    BOOST_TEST_REQUIRE(one.status == 200u);
    BOOST_TEST(one.body == invoice_payment("inpay_1", 100, "in_a", "payment_intent", "pi_a", "paid"));
    BOOST_TEST(get(ds, "/v1/invoice_payments/inpay_1").status == 200u);  // the default version is basil
    const auto missing = get_at(ds, "/v1/invoice_payments/inpay_x", basil);
    check_error(missing, 404, "resource_missing", "id");
    BOOST_TEST(missing.body.at("error").at("message").as_string() == "No such invoice_payment: 'inpay_x'");
    // Before basil there is no such endpoint.
    for (const char* target : {"/v1/invoice_payments", "/v1/invoice_payments/inpay_1",
                               "/v1/invoice_payments?invoice=in_a"}) {
        const auto p = get_at(ds, target, legacy);
        check_error(p, 404, "", "");
        BOOST_TEST(p.body.at("error").at("message").as_string().starts_with(
                       "Unrecognized request URL (GET: /v1/invoice_payments"),
                   target);
    }
}

// Basil's Invoice.payments: only when expanded, only from basil on, the first
// ten with has_more, never an expand path Stripe does not know.
BOOST_AUTO_TEST_CASE(invoices_include_their_payments_only_when_expanded_at_basil) {
    dataset ds;
    for (const auto& [id, created] : {std::pair{"in_a", 100}, std::pair{"in_b", 200}, std::pair{"in_c", 300}})
        ds.add("invoices", obj(id, created));
    ds.add("invoice_payments", invoice_payment("inpay_a", 101, "in_a", "payment_intent", "pi_a", "paid"));
    for (int k = 0; k < 11; ++k)  // in_b: more than an invoice embeds
        ds.add("invoice_payments", invoice_payment("inpay_b" + std::to_string(k), 201 + k, "in_b", "payment_intent",
                                                   "pi_b" + std::to_string(k), k ? "paid" : "canceled"));
    ds.finalize();

    // Not expanded: no payments member, at either version.
    for (const char* version : {legacy, basil}) {
        const auto plain = get_at(ds, "/v1/invoices", version);
        BOOST_TEST_REQUIRE(plain.status == 200u);
        for (const auto& v : plain.body.at("data").as_array()) BOOST_TEST(!v.as_object().contains("payments"));
        BOOST_TEST(!get_at(ds, "/v1/invoices/in_a", version).body.contains("payments"));
    }
    const auto listed = get_at(ds, "/v1/invoices?expand%5B%5D=data.payments", basil);
    BOOST_TEST_REQUIRE(listed.status == 200u);
    const auto& data = listed.body.at("data").as_array();
    BOOST_TEST_REQUIRE(data.size() == 3u);
    const auto payments_of = [](const boost::json::value& inv) { return inv.at("payments").as_object(); };
    BOOST_TEST(payments_of(data[0]).at("data").as_array().empty());  // in_c has none
    BOOST_TEST(payments_of(data[0]).at("has_more") == false);
    const auto b = payments_of(data[1]);
    BOOST_TEST(b.at("object") == "list");
    BOOST_TEST(b.at("url") == "/v1/invoice_payments");
    BOOST_TEST(b.at("has_more") == true);
    BOOST_TEST_REQUIRE(b.at("data").as_array().size() == 10u);
    BOOST_TEST(b.at("data").at(0).at("id") == "inpay_b10");  // newest first, as the list
    BOOST_TEST(b.at("data").at(9).at("id") == "inpay_b1");   // inpay_b0 only through the list
    const auto a = payments_of(data[2]);
    BOOST_TEST(a.at("has_more") == false);
    BOOST_TEST_REQUIRE(a.at("data").as_array().size() == 1u);
    BOOST_TEST(a.at("data").at(0) == invoice_payment("inpay_a", 101, "in_a", "payment_intent", "pi_a", "paid"));
    // The invoice is otherwise the same object.
    auto without = data[2].as_object();
    without.erase("payments");
    BOOST_TEST(without == get_at(ds, "/v1/invoices/in_a", basil).body);

    const auto one = get_at(ds, "/v1/invoices/in_a?expand%5B0%5D=payments", basil);
    BOOST_TEST_REQUIRE(one.status == 200u);
    BOOST_TEST(one.body.at("payments").at("data").at(0).at("id") == "inpay_a");

    // Before basil the property does not exist; a path Stripe does not know is a 400.
    check_error(get_at(ds, "/v1/invoices?expand%5B%5D=data.payments", legacy), 400, "", "expand");
    check_error(get_at(ds, "/v1/invoices/in_a?expand%5B%5D=payments", legacy), 400, "", "expand");
    for (const char* q : {"?expand[]=payments", "?expand[]=data.payment", "?expand[]=data.lines",
                          "?expand[]=data.payments.data.invoice"})
        check_error(get_at(ds, std::string("/v1/invoices") + q, basil), 400, "", "expand");
    check_error(get_at(ds, "/v1/invoices/in_a?expand%5B%5D=data.payments", basil), 400, "", "expand");
    check_error(get_at(ds, "/v1/charges?expand%5B%5D=data.payments", basil), 400, "", "expand");
}

BOOST_AUTO_TEST_CASE(disputes_expand_their_charge_at_the_request_version) {
    const auto ds = versioned_dataset();
    for (const char* version : {legacy, basil}) {
        const bool old = std::string(version) == legacy;
        const auto listed = get_at(ds, "/v1/disputes?expand%5B%5D=data.charge", version);
        BOOST_TEST_REQUIRE(listed.status == 200u);
        const auto& c = listed.body.at("data").at(0).at("charge").as_object();
        BOOST_TEST(c.at("id").as_string() == "ch_a");
        BOOST_TEST(c.contains("invoice") == old, version);
        BOOST_TEST(c == get_at(ds, "/v1/charges/ch_a", version).body);
        const auto one = get_at(ds, "/v1/disputes/dp_a?expand%5B0%5D=charge", version);
        BOOST_TEST_REQUIRE(one.status == 200u);
        BOOST_TEST(one.body.at("charge").as_object().contains("invoice") == old, version);
    }
    BOOST_TEST(!get(ds, "/v1/disputes/dp_a?expand%5B%5D=charge").body.at("charge").as_object().contains("invoice"));
}

BOOST_AUTO_TEST_CASE(load_reads_rendition_files_in_step) {
    const auto dir = std::filesystem::temp_directory_path() / ("sim_renditions_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto write = [&](const std::string& name, const boost::json::array& a) {
        std::ofstream(dir / name) << boost::json::serialize(a);
    };
    auto c1 = charge("ch_1", 10, 100, "in_1"), c2 = charge("ch_2", 20, 200, "in_2");
    auto b1 = c1, b2 = c2;
    b1.erase("invoice");
    b2.erase("invoice");
    write("charges.json", {b1, b2});
    // Only the default rendition: served at every version (small hand-written datasets).
    {
        const auto ds = dataset::load(dir);
        BOOST_TEST(!get_at(ds, "/v1/charges/ch_1", legacy).body.contains("invoice"));
    }
    write("charges@2024-06-20.json", {c1, c2});
    {
        const auto ds = dataset::load(dir);
        BOOST_TEST(ds.size("charges") == 2u);
        BOOST_TEST(get_at(ds, "/v1/charges/ch_2", legacy).body == c2);
        BOOST_TEST(get_at(ds, "/v1/charges/ch_2", basil).body == b2);
        BOOST_TEST(get_at(ds, "/v1/charges?limit=1", legacy).body.at("data").at(0) == c2);
    }
    const auto refused = [&](const std::string& why, const std::string& expected) {
        try {
            dataset::load(dir);
            BOOST_ERROR("load accepted " << why);
        } catch (const std::runtime_error& e) {
            BOOST_TEST(std::string(e.what()).find(expected) != std::string::npos, why << ": " << e.what());
        }
    };
    write("charges@2024-06-20.json", {c2, c1});
    refused("renditions in another order", "rendition has id \"ch_2\"");
    write("charges@2024-06-20.json", {c1});
    refused("a shorter rendition file", "charges@2024-06-20.json has fewer elements");
    write("charges@2024-06-20.json", {c1, c2, charge("ch_3", 30, 300, "in_3")});
    refused("a longer rendition file", "charges@2024-06-20.json has more elements");
    write("charges@2024-06-20.json", {c1, c2});
    write("events@2024-06-20.json", {});
    refused("a rendition of events", "events are the same at every API version");
    std::filesystem::remove(dir / "events@2024-06-20.json");
    write("charges@2099-01-01.json", {c1, c2});
    refused("an unsupported version", "charges@2099-01-01.json: not a rendition at a supported API version");
    std::filesystem::remove(dir / "charges@2099-01-01.json");
    BOOST_TEST(dataset::load(dir).size("charges") == 2u);
    std::filesystem::remove_all(dir);
}

// A price and a portal configuration shaped like the fixtures', with the
// attributes the filters read.
boost::json::object price(const std::string& id, std::int64_t created, bool active, const std::string& product) {
    auto p = obj(id, created);
    p["object"] = "price";
    p["active"] = active;
    p["product"] = product;
    p["recurring"] = boost::json::object{{"interval", "year"}, {"interval_count", 1}};
    return p;
}
boost::json::object portal_configuration(const std::string& id, std::int64_t created, bool active, bool is_default) {
    auto c = obj(id, created);
    c["object"] = "billing_portal.configuration";
    c["active"] = active;
    c["is_default"] = is_default;
    c["features"] = boost::json::object{
        {"subscription_update",
         boost::json::object{{"enabled", true},
                             {"products", boost::json::array{boost::json::object{
                                              {"product", "prod_pro"}, {"prices", boost::json::array{"price_a"}}}}}}}};
    return c;
}

dataset catalog() {
    dataset ds;
    ds.add("prices", price("price_a", 10, true, "prod_pro"));
    ds.add("prices", price("price_b", 20, false, "prod_pro"));
    ds.add("prices", price("price_c", 30, true, "prod_team"));
    ds.add("billing_portal/configurations", portal_configuration("bpc_old", 5, false, false));
    ds.add("billing_portal/configurations", portal_configuration("bpc_new", 50, true, true));
    ds.add("billing_portal/configurations", portal_configuration("bpc_alt", 60, true, false));
    ds.finalize();
    return ds;
}

BOOST_AUTO_TEST_CASE(prices_list_retrieve_and_filters) {
    const auto ds = catalog();
    BOOST_TEST(page_all(ds, "/v1/prices") == (std::vector<std::string>{"price_c", "price_b", "price_a"}),
               boost::test_tools::per_element());
    auto one = get(ds, "/v1/prices/price_b");
    BOOST_TEST(one.status == 200u);
    BOOST_TEST(one.body == price("price_b", 20, false, "prod_pro"));
    // The same bytes at every version.
    BOOST_TEST(ds.handle_get("/v1/prices/price_b", legacy).body == ds.handle_get("/v1/prices/price_b", basil).body);
    auto missing = get(ds, "/v1/prices/price_x");
    check_error(missing, 404, "resource_missing", "id");
    BOOST_TEST(missing.body.at("error").at("message").as_string() == "No such price: 'price_x'");
    BOOST_TEST(get(ds, "/v1/prices").body.at("url") == "/v1/prices");

    BOOST_TEST(page_all(ds, "/v1/prices?active=true") == (std::vector<std::string>{"price_c", "price_a"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/prices?active=false") == (std::vector<std::string>{"price_b"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/prices?product=prod_pro&active=true") == (std::vector<std::string>{"price_a"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/prices?created%5Bgte%5D=20&limit=1") == (std::vector<std::string>{"price_c", "price_b"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, "/v1/prices?ending_before=price_a") == (std::vector<std::string>{"price_c", "price_b"}),
               boost::test_tools::per_element());

    // Booleans are spelled true / false, as Stripe's form encoding has them.
    for (const char* bad : {"yes", "1", "TRUE", "False"})
        check_error(get(ds, std::string("/v1/prices?active=") + bad), 400, "parameter_invalid_string", "active");
    check_error(get(ds, "/v1/prices?active="), 400, "parameter_invalid_empty", "active");
    check_error(get(ds, "/v1/prices?type=recurring"), 400, "parameter_unknown", "type");
    check_error(get(ds, "/v1/prices?is_default=true"), 400, "parameter_unknown", "is_default");
    check_error(get(ds, "/v1/prices?expand%5B%5D=data.product"), 400, "", "expand");
    check_error(get(ds, "/v1/prices/price_a?active=true"), 400, "parameter_unknown", "active");
}

BOOST_AUTO_TEST_CASE(billing_portal_configurations_list_retrieve_and_filters) {
    const auto ds = catalog();
    const std::string base = "/v1/billing_portal/configurations";
    BOOST_TEST(page_all(ds, base) == (std::vector<std::string>{"bpc_alt", "bpc_new", "bpc_old"}),
               boost::test_tools::per_element());
    BOOST_TEST(get(ds, base).body.at("url").as_string() == base);
    BOOST_TEST(get(ds, base + "/bpc_new").body == portal_configuration("bpc_new", 50, true, true));
    BOOST_TEST(ds.handle_get(base + "/bpc_new", legacy).body == ds.handle_get(base + "/bpc_new", basil).body);
    auto missing = get(ds, base + "/bpc_x");
    check_error(missing, 404, "resource_missing", "id");
    BOOST_TEST(missing.body.at("error").at("message").as_string() == "No such billing_portal.configuration: 'bpc_x'");

    BOOST_TEST(page_all(ds, base + "?active=true") == (std::vector<std::string>{"bpc_alt", "bpc_new"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, base + "?active=true&is_default=true") == (std::vector<std::string>{"bpc_new"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, base + "?is_default=false&limit=1") == (std::vector<std::string>{"bpc_alt", "bpc_old"}),
               boost::test_tools::per_element());
    BOOST_TEST(page_all(ds, base + "?starting_after=bpc_alt&active=false") == (std::vector<std::string>{"bpc_old"}),
               boost::test_tools::per_element());
    // The segments percent-encoded reach the same resource.
    BOOST_TEST(get(ds, "/v1/billing_portal%2Fconfigurations/bpc_new").status == 200u);

    check_error(get(ds, base + "?is_default=maybe"), 400, "parameter_invalid_string", "is_default");
    check_error(get(ds, base + "?active=0"), 400, "parameter_invalid_string", "active");
    // Stripe's list of configurations has no created filter.
    for (const char* created : {"?created=5", "?created%5Bgte%5D=5", "?created[lt]=5"})
        check_error(get(ds, base + created), 400, "parameter_unknown", "created");
    check_error(get(ds, base + "?product=prod_pro"), 400, "parameter_unknown", "product");
    check_error(get(ds, base + "?starting_after=bpc_x"), 400, "resource_missing", "starting_after");
    for (const char* path : {"/v1/billing_portal", "/v1/billing_portal/", "/v1/billing_portal/sessions",
                             "/v1/billing_portal/configurationsX", "/v1/billing_portal/configurations/bpc_new/x",
                             "/v1/billing_portal/configurations/", "/v1/configurations"}) {
        auto p = get(ds, path);
        BOOST_TEST(p.status == 404u, path);
        BOOST_TEST(p.body.at("error").at("message").as_string().starts_with("Unrecognized request URL"), path);
    }
}

BOOST_AUTO_TEST_CASE(catalog_files_routes_and_permissions) {
    BOOST_TEST(dataset::rendition_file_name("billing_portal/configurations", basil) ==
               "billing_portal_configurations.json");
    BOOST_TEST(dataset::rendition_file_name("prices", basil) == "prices.json");
    const auto& names = dataset::resource_names();
    for (const char* r : {"prices", "billing_portal/configurations"})
        BOOST_TEST(std::count(names.begin(), names.end(), r) == 1, r);

    BOOST_TEST(dataset::resource_of("/v1/prices").value_or("") == "prices");
    BOOST_TEST(dataset::resource_of("/v1/prices/price_1?x=1").value_or("") == "prices");
    BOOST_TEST(dataset::resource_of("/v1/billing_portal/configurations?active=true").value_or("") ==
               "billing_portal/configurations");
    BOOST_TEST(dataset::resource_of("/v1/billing_portal%2fconfigurations/bpc_1").value_or("") ==
               "billing_portal/configurations");
    BOOST_TEST(dataset::resource_of("/v1/%64isputes").value_or("") == "disputes");
    for (const char* other : {"/v1/billing_portal/sessions", "/v1/pricesx", "/v2/prices", "/v1/", "/"})
        BOOST_TEST(!dataset::resource_of(other).has_value(), other);

    BOOST_TEST(dataset::read_permission("disputes") == "rak_dispute_read");
    BOOST_TEST(dataset::read_permission("prices") == "rak_price_read");
    BOOST_TEST(dataset::read_permission("billing_portal/configurations") == "rak_billing_portal_configuration_read");
    BOOST_CHECK_THROW(dataset::read_permission("refunds"), std::invalid_argument);

    const auto dir = std::filesystem::temp_directory_path() / ("sim_catalog_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "prices.json") << boost::json::serialize(
        boost::json::array{price("price_a", 10, true, "prod_pro"), price("price_b", 20, false, "prod_pro")});
    std::ofstream(dir / "billing_portal_configurations.json")
        << boost::json::serialize(boost::json::array{portal_configuration("bpc_new", 50, true, true)});
    {
        const auto ds = dataset::load(dir);
        BOOST_TEST(ds.size("prices") == 2u);
        BOOST_TEST(ds.size("billing_portal/configurations") == 1u);
        BOOST_TEST(get(ds, "/v1/billing_portal/configurations?is_default=true").ids() ==
                       (std::vector<std::string>{"bpc_new"}),
                   boost::test_tools::per_element());
    }
    std::ofstream(dir / "billing_portal_configurations@2024-06-20.json") << "[]";
    BOOST_CHECK_EXCEPTION(dataset::load(dir), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()).find("same at every API version") != std::string::npos;
    });
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
