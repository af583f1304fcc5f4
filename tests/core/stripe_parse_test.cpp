// JSON -> model normalisation, on Stripe's own fixture objects and on both
// API shapes (pre- and post-2025-03-31 "basil").
#include "core/stripe_parse.hpp"

#include "core/invalid_object.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string_view>
#include <variant>

namespace json = boost::json;
using namespace reconciler;

namespace {

const json::object& fixtures() {
    static const json::value all = [] {
        std::ifstream in(std::string(RECONCILER_FIXTURES_DIR) + "/stripe/openapi-fixtures3.json");
        std::stringstream ss;
        ss << in.rdbuf();
        return json::parse(ss.str());
    }();
    return all.at("resources").as_object();
}

json::object fixture(const char* name) { return fixtures().at(name).as_object(); }

// A pre-basil invoice: paid bool, invoice.subscription, line.price.
json::object old_invoice() {
    return json::parse(R"({
      "id":"in_old","object":"invoice","customer":"cus_1","customer_email":"a@example.com",
      "status":"paid","paid":true,"currency":"usd","amount_paid":4000,"amount_due":4000,"total":4000,
      "created":1700000000,"subscription":"sub_1","billing_reason":"subscription_cycle",
      "status_transitions":{"paid_at":1700000100},
      "lines":{"object":"list","has_more":false,"data":[
        {"id":"il_1","amount":4000,"quantity":2,"proration":false,"price":{"id":"price_team","object":"price"}}]}
    })").as_object();
}

// A basil invoice: no paid bool, parent.subscription_details, line.pricing.
json::object basil_invoice() {
    return json::parse(R"({
      "id":"in_new","object":"invoice","customer":"cus_2","status":"paid","currency":"eur",
      "amount_paid":2000,"amount_due":2000,"total":2000,"created":1750000000,
      "status_transitions":{"paid_at":1750000050},
      "parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_2"}},
      "lines":{"object":"list","has_more":true,"data":[
        {"id":"il_2","amount":2000,"quantity":1,
         "pricing":{"type":"price_details","price_details":{"price":"price_pro","product":"prod_1"}},
         "parent":{"type":"subscription_item_details","subscription_item_details":{"proration":true}}}]}
    })").as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stripe_parse)

BOOST_AUTO_TEST_CASE(parses_stripe_fixture_objects) {
    const auto inv = parse_invoice(fixture("invoice"));
    BOOST_TEST(inv.id == "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
    BOOST_TEST(inv.customer == "cus_QXg1o8vcGmoR32");
    BOOST_TEST(inv.amount_due == 1000);
    BOOST_TEST(inv.lines.size() == 1u);

    const auto sub = parse_subscription(fixture("subscription"));
    BOOST_TEST(sub.id == "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
    BOOST_TEST(sub.items.size() == 1u);
    BOOST_TEST(sub.items[0].price_id == "price_1PgafmB7WZ01zgkW6dKueIc5");
    // The fixture is basil-shaped: the period end lives on the item.
    BOOST_TEST(sub.current_period_end.value_or(0) == 976287773);

    const auto cus = parse_customer(fixture("customer"));
    BOOST_TEST(cus.id == "cus_QXg1o8vcGmoR32");

    const auto ch = parse_charge(fixture("charge"));
    BOOST_TEST(!ch.id.empty());

    const auto ev = parse_event(fixture("event"));
    BOOST_TEST(ev.type == "plan.created");
    BOOST_TEST(ev.object_type == "plan");
    BOOST_TEST(std::holds_alternative<std::monostate>(ev.object));
}

// Basil: a charge has no invoice, only its PaymentIntent; the InvoicePayment
// ties that to the invoice (shapes as Stripe's fixtures give them).
BOOST_AUTO_TEST_CASE(basil_charge_and_invoice_payment) {
    auto o = fixture("charge");
    o.erase("invoice");
    o["payment_intent"] = "pi_1";
    const auto ch = parse_charge(o);
    BOOST_TEST(ch.invoice.empty());
    BOOST_TEST(ch.payment_intent == "pi_1");
    o["payment_intent"] = boost::json::object{{"id", "pi_2"}, {"object", "payment_intent"}};  // expanded
    BOOST_TEST(parse_charge(o).payment_intent == "pi_2");

    auto ip = fixture("invoice_payment");
    ip["invoice"] = "in_1";
    ip["status"] = "paid";
    ip["payment"] = boost::json::object{{"type", "payment_intent"}, {"payment_intent", "pi_1"}};
    const auto p = parse_invoice_payment(ip);
    BOOST_TEST(p.invoice == "in_1");
    BOOST_TEST(p.payment_intent == "pi_1");
    BOOST_TEST(p.status == "paid");
    ip["payment"] = boost::json::object{{"type", "payment_record"}, {"payment_record", "prec_1"}};
    BOOST_TEST(parse_invoice_payment(ip).payment_intent.empty());
    ip.erase("invoice");
    BOOST_CHECK_THROW(parse_invoice_payment(ip), parse_error);

    BOOST_TEST(charge_names_its_invoice("2024-06-20"));
    BOOST_TEST(charge_names_its_invoice("2025-02-24.acacia"));
    BOOST_TEST(!charge_names_its_invoice("2025-03-31.basil"));
    BOOST_TEST(!charge_names_its_invoice("2025-11-17.clover"));
}

// Stripe's own example objects: the price's labels, the portal's offered prices.
BOOST_AUTO_TEST_CASE(price_and_billing_portal_configuration) {
    auto p = fixture("price");
    const auto parsed = parse_price(p);
    BOOST_TEST(parsed.id == std::string(p.at("id").as_string()));
    BOOST_TEST(parsed.active == p.at("active").as_bool());
    p["active"] = false;
    p["nickname"] = "Pro 2023";
    BOOST_TEST(!parse_price(p).active);
    BOOST_TEST(parse_price(p).nickname == "Pro 2023");

    auto c = fixture("billing_portal.configuration");
    auto& update = c["features"].as_object()["subscription_update"].as_object();
    update["enabled"] = true;
    update["products"] = boost::json::array{boost::json::object{{"product", "prod_1"}, {"prices", {"price_a", "price_b"}}},
                                            boost::json::object{{"product", "prod_2"}, {"prices", {"price_c"}}}};
    c["is_default"] = true;
    const auto cfg = parse_billing_portal_configuration(c);
    BOOST_TEST(cfg.is_default);
    BOOST_TEST(cfg.subscription_update_enabled);
    BOOST_TEST((cfg.offered_prices == std::vector<std::string>{"price_a", "price_b", "price_c"}));
    update["products"] = boost::json::array{boost::json::object{{"prices", {42}}}};
    BOOST_CHECK_THROW(parse_billing_portal_configuration(c), parse_error);
}

BOOST_AUTO_TEST_CASE(old_invoice_shape) {
    const auto inv = parse_invoice(old_invoice());
    BOOST_TEST(inv.paid);
    BOOST_TEST(inv.subscription == "sub_1");
    BOOST_TEST(inv.paid_at.value_or(0) == 1700000100);
    BOOST_REQUIRE(inv.lines.size() == 1u);
    BOOST_TEST(inv.lines[0].price_id == "price_team");
    BOOST_TEST(inv.lines[0].quantity == 2);
    BOOST_TEST(!inv.lines[0].proration);
    BOOST_TEST(!inv.lines_truncated);
}

BOOST_AUTO_TEST_CASE(basil_invoice_shape) {
    const auto inv = parse_invoice(basil_invoice());
    BOOST_TEST(inv.paid);  // from status alone
    BOOST_TEST(inv.subscription == "sub_2");
    BOOST_REQUIRE(inv.lines.size() == 1u);
    BOOST_TEST(inv.lines[0].price_id == "price_pro");
    BOOST_TEST(inv.lines[0].proration);  // from parent.subscription_item_details
    BOOST_TEST(inv.lines_truncated);
}

BOOST_AUTO_TEST_CASE(open_invoice_is_not_paid_in_either_shape) {
    auto o = old_invoice();
    o["paid"] = false;
    o["status"] = "open";
    BOOST_TEST(!parse_invoice(o).paid);
    auto b = basil_invoice();
    b["status"] = "open";
    BOOST_TEST(!parse_invoice(b).paid);
}

BOOST_AUTO_TEST_CASE(old_subscription_shape_period_on_subscription) {
    auto o = json::parse(R"({"id":"sub_9","object":"subscription","customer":{"id":"cus_9","object":"customer"},
        "status":"past_due","created":1,"current_period_end":1234,
        "items":{"object":"list","data":[{"id":"si_1","quantity":3,"price":{"id":"price_team"}}]}})").as_object();
    const auto sub = parse_subscription(o);
    BOOST_TEST(sub.customer == "cus_9");  // expanded customer object
    BOOST_TEST(sub.current_period_end.value_or(0) == 1234);
    BOOST_TEST(sub.items[0].quantity == 3);
}

BOOST_AUTO_TEST_CASE(event_normalises_embedded_invoice_at_its_version) {
    json::object ev{{"id", "evt_1"}, {"object", "event"}, {"type", "invoice.paid"},
                    {"api_version", "2024-06-20"}, {"created", 1700000200},
                    {"data", json::object{{"object", old_invoice()}}}};
    const auto e = parse_event(ev);
    BOOST_TEST(e.object_id == "in_old");
    const auto* inv = std::get_if<invoice>(&e.object);
    BOOST_REQUIRE(inv);
    BOOST_TEST(inv->paid);
}

BOOST_AUTO_TEST_CASE(errors_name_object_and_field) {
    auto o = old_invoice();
    o["customer"] = 42;
    try {
        parse_invoice(o);
        BOOST_FAIL("expected parse_error");
    } catch (const parse_error& e) {
        BOOST_TEST(std::string(e.what()).find("invoice in_old") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("customer") != std::string::npos);
    }
    json::object ev{{"id", "evt_2"}, {"type", "invoice.paid"}, {"created", 1}, {"api_version", "2024-06-20"},
                    {"data", json::object{{"object", o}}}};
    try {
        parse_event(ev);
        BOOST_FAIL("expected parse_error");
    } catch (const parse_error& e) {
        BOOST_TEST(std::string(e.what()).find("event evt_2") != std::string::npos);
    }
}

// A line's or item's own bad id is reported as theirs, not as the invoice's
// or subscription's id field.
BOOST_AUTO_TEST_CASE(line_and_item_errors_name_the_line_or_item) {
    auto o = old_invoice();
    o["lines"].as_object()["data"].as_array()[0].as_object()["id"] = 42;
    try {
        parse_invoice(o);
        BOOST_FAIL("expected parse_error");
    } catch (const parse_error& e) {
        BOOST_TEST(std::string(e.what()) == "invoice in_old line: field id: expected string or null");
    }
    o["lines"].as_object()["data"].as_array()[0].as_object()["id"] = "il_1";
    o["lines"].as_object()["data"].as_array()[0].as_object()["quantity"] = "two";
    try {
        parse_invoice(o);
        BOOST_FAIL("expected parse_error");
    } catch (const parse_error& e) {
        BOOST_TEST(std::string(e.what()) == "invoice in_old line il_1: field quantity: expected integer");
    }
    auto sub = fixture("subscription");
    sub["items"].as_object()["data"].as_array()[0].as_object()["id"] = json::array{};
    try {
        parse_subscription(sub);
        BOOST_FAIL("expected parse_error");
    } catch (const parse_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "subscription sub_1Pgc6rB7WZ01zgkWNy0Cn5nw item: field id: expected string or null");
    }
}

BOOST_AUTO_TEST_CASE(list_envelope) {
    auto env = parse_list_envelope(R"({"object":"list","data":[{"id":"a"},{"id":"b"}],"has_more":true,"url":"/v1/events"})");
    BOOST_TEST(env.data.size() == 2u);
    BOOST_TEST(env.has_more);
    BOOST_TEST(env.url == "/v1/events");
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","data":[]})"), parse_error);       // no has_more
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"event","data":[],"has_more":false})"), parse_error);
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","data":[1],"has_more":false})"), parse_error);
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","data":[{"id":"a"}],"has_m)"), parse_error);  // truncated
}

namespace {

std::string nested(std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) s += R"({"a":)";
    s += "1";
    s += std::string(depth, '}');
    return s;
}

std::string parse_json_error(std::string_view body) {
    try {
        parse_json(body);
    } catch (const parse_error& e) {
        return e.what();
    }
    return "(parsed)";
}

}  // namespace

// A list page builds only the members the models read: every model parsed
// from a page equals the model parsed from the whole object, whatever the
// shape (Stripe's fixtures, both invoice shapes, an event and a dispute with
// its charge expanded), and what nothing reads is not built.
BOOST_AUTO_TEST_CASE(list_pages_keep_what_the_models_read) {
    const auto listed = [](const json::object& o) {
        auto env = parse_list_envelope(json::serialize(
            json::object{{"object", "list"}, {"data", json::array{o}}, {"has_more", false}, {"url", "/v1/x"}}));
        BOOST_REQUIRE(env.data.size() == 1u);
        return env.data[0].as_object();  // copied out of the page's arena
    };
    for (const auto& inv : {fixture("invoice"), old_invoice(), basil_invoice()})
        BOOST_TEST((parse_invoice(listed(inv)) == parse_invoice(inv)), json::serialize(inv.at("id")));
    BOOST_TEST((parse_subscription(listed(fixture("subscription"))) == parse_subscription(fixture("subscription"))));
    BOOST_TEST((parse_customer(listed(fixture("customer"))) == parse_customer(fixture("customer"))));
    BOOST_TEST((parse_charge(listed(fixture("charge"))) == parse_charge(fixture("charge"))));
    BOOST_TEST((parse_dispute(listed(fixture("dispute"))) == parse_dispute(fixture("dispute"))));
    json::object ev = fixture("event");
    ev["type"] = "invoice.paid";
    ev["data"] = json::object{{"object", basil_invoice()}};
    const event from_page = parse_event(listed(ev));
    BOOST_TEST((from_page == parse_event(ev)));
    BOOST_TEST(std::holds_alternative<invoice>(from_page.object));
    json::object disp = fixture("dispute");
    disp["charge"] = fixture("charge");  // expand[]=data.charge
    const auto kept = listed(disp);
    BOOST_REQUIRE(kept.at("charge").is_object());
    BOOST_TEST((parse_charge(kept.at("charge").as_object()) == parse_charge(fixture("charge"))));

    // Dropped: members nothing reads, however nested, with escapes in their
    // keys and values; a kept key spelled with an escape is still kept.
    const auto page = parse_list_envelope(
        R"({"object":"list","has_more":false,"url":"/v1/invoices","data":[{"id":"in_1",)"
        R"("metadata":{"a":[1,{"b":"c\"d"}],"e":null},"desc\u0072iption":"x\ny","cust\u006fmer":"cus_1","status":"paid",)"
        R"("footer":[[],{}],"lines":{"object":"list","has_more":false,"data":[{"id":"il_1","amount":5,)"
        R"("discounts":[{"x":1}],"price":{"id":"price_1","unit_amount":5}}]},"created":1700000000}]})");
    const auto& o = page.data.at(0).as_object();
    BOOST_TEST(o.size() == 5u);  // id, customer, status, lines, created
    BOOST_TEST(!o.contains("metadata"));
    BOOST_TEST(o.at("customer").as_string() == "cus_1");
    const auto inv = parse_invoice(o);
    BOOST_REQUIRE(inv.lines.size() == 1u);
    BOOST_TEST(inv.lines[0].price_id == "price_1");
    BOOST_TEST(inv.lines[0].amount == 5);
    BOOST_TEST(o.at("lines").as_object().at("data").as_array()[0].as_object().at("price").as_object().size() == 1u);

    // The whole body is still validated, not only the kept members.
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","has_more":false,"data":[{"id":"a","x":[1,}]})"),
                      parse_error);
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","has_more":false,"data":[]} trailing)"), parse_error);
    BOOST_CHECK_THROW(parse_list_envelope(R"({"object":"list","has_more":false,"data":[],"x":)" + nested(100) + "}"),
                      parse_error);  // too deep, in a dropped member
}

BOOST_AUTO_TEST_CASE(hostile_bodies_are_refused) {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    BOOST_TEST(parse_json_error(deep) == "parse JSON body: refused, nested deeper than 64 levels");
    BOOST_TEST(parse_json_error(std::string(100000, '[')) == "parse JSON body: refused, nested deeper than 64 levels");
    std::string big(max_body_bytes + 1, ' ');
    BOOST_TEST(parse_json_error(big) == "parse JSON body: refused, 33554433 bytes exceed the 32 MiB limit");
    BOOST_TEST(parse_json_error(R"({"object":"list",)") == "parse JSON body: malformed JSON: incomplete JSON");
    // The limit is exact: 64 levels parse, 65 do not.
    BOOST_CHECK_NO_THROW(parse_json(nested(max_json_depth)));
    BOOST_TEST(parse_json_error(nested(max_json_depth + 1)) == "parse JSON body: refused, nested deeper than 64 levels");
}

// Stripe's deepest fixture object (an invoice, 9 levels) in an event in a list
// page, with its customer and subscription expanded (each adds a whole object):
// the depth limit must leave ample room for that. Boost.JSON's default (32) would not.
BOOST_AUTO_TEST_CASE(depth_limit_admits_expanded_stripe_pages) {
    json::object inv = fixture("invoice");
    json::object sub = fixture("subscription");
    sub["latest_invoice"] = fixture("invoice");  // expand[]=data.object.subscription.latest_invoice
    inv["subscription"] = sub;
    inv["customer"] = fixture("customer");
    json::object ev{{"id", "evt_deep"}, {"object", "event"}, {"type", "invoice.paid"}, {"created", 1},
                    {"data", json::object{{"object", inv}}}};
    json::object page{{"object", "list"}, {"has_more", false}, {"data", json::array{ev}}};
    const std::string body = json::serialize(page);
    const auto env = parse_list_envelope(body);
    BOOST_REQUIRE(env.data.size() == 1u);
    const auto e = parse_event(env.data[0].as_object());
    BOOST_TEST(std::get<invoice>(e.object).subscription == "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
}

BOOST_AUTO_TEST_CASE(error_envelope) {
    auto e = parse_error_body(R"({"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}})");
    BOOST_REQUIRE(e);
    BOOST_TEST(e->code == "rate_limit");
    BOOST_TEST(e->type == "invalid_request_error");
    BOOST_TEST(!parse_error_body("<html>bad gateway</html>"));
    BOOST_TEST(!parse_error_body(R"({"object":"list"})"));
}

// Issue 19, one rule for objects that parse as JSON but break the schema:
// each is described (type, id, the field, what was wrong, the Request-Id of
// its page) for an invalid_stripe_object finding, never thrown. Before, a
// paid invoice without status or lines was skipped silently, and a missing
// customer or an amount sent as a string failed the whole run.
BOOST_AUTO_TEST_CASE(malformed_objects_are_noted_not_thrown_nor_dropped) {
    struct shape {
        const char* name;
        void (*breaks)(json::object&);
        const char* field;
    };
    const shape shapes[] = {
        {"missing customer", [](json::object& o) { o.erase("customer"); }, "customer"},
        {"customer of the wrong type", [](json::object& o) { o["customer"] = 42; }, "customer"},
        {"missing status (basil: paid only through status)", [](json::object& o) { o.erase("status"); }, "status"},
        {"missing lines", [](json::object& o) { o.erase("lines"); }, "lines"},
        {"lines not a list", [](json::object& o) { o["lines"] = "il_1"; }, "lines"},
        {"amount as a string", [](json::object& o) { o["amount_paid"] = "4000"; }, "amount_paid"},
        {"amount as a float", [](json::object& o) { o["amount_paid"] = 40.5; }, "amount_paid"},
        {"created missing", [](json::object& o) { o.erase("created"); }, "created"},
        // Milliseconds where seconds belong: past year 9999, no time can show it
        // (the fuzz target found the diff throwing on it).
        {"created in milliseconds", [](json::object& o) { o["created"] = 1700000000000; }, "created"},
        {"paid_at negative", [](json::object& o) {
             o["status_transitions"] = json::object{{"paid_at", -5}};
         }, "paid_at"},
        {"quantity as a string", [](json::object& o) {
             o["lines"].as_object()["data"].as_array()[0].as_object()["quantity"] = "2";
         }, "quantity"},
    };
    for (const auto& s : shapes) {
        BOOST_TEST_CONTEXT(s.name) {
            auto o = old_invoice();
            s.breaks(o);
            std::vector<invalid_object> out;
            const auto inv = parse_or_note(parse_invoice, json::value(o), "/v1/invoices", "req_1", out);
            BOOST_TEST(!inv);
            BOOST_REQUIRE_EQUAL(out.size(), 1u);
            BOOST_TEST(out[0].object_type == "invoice");
            BOOST_TEST(out[0].object_id == "in_old");
            BOOST_TEST(out[0].field == s.field);
            BOOST_TEST(out[0].request_id == "req_1");
            BOOST_TEST(out[0].resource == "/v1/invoices");
            BOOST_TEST(out[0].paid == (s.field != std::string("status") || o.contains("paid")));
            BOOST_TEST(!out[0].problem.empty());
        }
    }
    // A basil invoice without status: paid by nothing else, still noted as
    // the invoice it is (not paid-looking, but not silently unpaid either).
    auto b = basil_invoice();
    b.erase("status");
    std::vector<invalid_object> out;
    BOOST_TEST(!parse_or_note(parse_invoice, b, "/v1/invoices", "req_2", out));
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].object_id == "in_new");
    // A good object goes through, nothing noted.
    BOOST_TEST(parse_or_note(parse_invoice, old_invoice(), "/v1/invoices", "req_3", out).has_value());
    BOOST_TEST(out.size() == 1u);
    // A listed item that is not an object at all.
    BOOST_TEST(!parse_or_note(parse_customer, json::value(17), "/v1/customers", "req_4", out));
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[1].object_id.empty());
    BOOST_TEST(out[1].request_id == "req_4");
}

// An event whose invoice broke the schema names the invoice (a paid invoice
// hidden in invoice.paid is still a paid invoice), the event and the field.
BOOST_AUTO_TEST_CASE(malformed_object_inside_an_event_names_the_object) {
    auto inv = basil_invoice();
    inv["amount_paid"] = "2000";
    json::object ev{{"id", "evt_9"}, {"object", "event"}, {"type", "invoice.paid"}, {"created", 1750000060},
                    {"api_version", "2025-03-31.basil"}, {"data", json::object{{"object", inv}}}};
    std::vector<invalid_object> out;
    BOOST_TEST(!parse_or_note(parse_event, json::value(ev), "/v1/events", "req_ev", out));
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].object_type == "invoice");
    BOOST_TEST(out[0].object_id == "in_new");
    BOOST_TEST(out[0].event_id == "evt_9");
    BOOST_TEST(out[0].customer == "cus_2");
    BOOST_TEST(out[0].paid);
    BOOST_TEST(out[0].field == "data.object.amount_paid");
    BOOST_TEST(out[0].created == 1750000000);
    // An event without a readable object: the event is the subject.
    json::object bare{{"id", "evt_10"}, {"object", "event"}, {"type", "invoice.paid"}, {"created", 5}};
    BOOST_TEST(!parse_or_note(parse_event, json::value(bare), "/v1/events", "req_ev", out));
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    BOOST_TEST(out[1].object_type == "event");
    BOOST_TEST(out[1].object_id == "evt_10");
}

BOOST_AUTO_TEST_SUITE_END()
