// Basil's charge -> invoice links from the invoice pages (issue 25): the
// invoices list expands its InvoicePayments, so a refunded or disputed
// charge whose invoice a run (this one or an earlier one) listed is linked
// without a request of its own; only the others are looked up.
#include "e2e_support.hpp"

#include <algorithm>
#include <limits>

using namespace e2e;

namespace {

constexpr std::string_view lookup_prefix =
    "/v1/invoice_payments?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=";

// The PaymentIntents the latest run looked up one by one (recon_pages).
std::vector<std::string> looked_up_payment_intents(const e2e_env& env) {
    SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT resource FROM recon_pages WHERE run_id = (SELECT MAX(id) FROM recon_runs)"
                            " AND resource LIKE '/v1/invoice_payments?%'");
    std::vector<std::string> out;
    while (q.executeStep()) {
        const std::string r = q.getColumn(0).getString();
        BOOST_TEST_REQUIRE(r.rfind(lookup_prefix, 0) == 0u, r);
        out.push_back(r.substr(lookup_prefix.size(), r.find('&', lookup_prefix.size()) - lookup_prefix.size()));
    }
    return out;
}

std::int64_t invoice_created(const e2e_env& env, const std::string& invoice) {
    return json::parse(env.server_opts.data->handle_get("/v1/invoices/" + invoice).body).at("created").as_int64();
}

// When Stripe (the simulator's data) created the newest invoice a
// PaymentIntent paid; the lowest time when it paid none (the seeded
// charges without an invoice: only a lookup can tell).
std::int64_t invoice_created_of(const e2e_env& env, const std::string& payment_intent) {
    const auto paid = json::parse(env.server_opts.data->handle_get(std::string(lookup_prefix) + payment_intent).body);
    std::int64_t newest = std::numeric_limits<std::int64_t>::min();
    for (const auto& p : paid.at("data").as_array())
        if (p.at("status") == "paid")
            newest = std::max(newest, invoice_created(env, std::string(p.at("invoice").as_string())));
    return newest;
}

struct linked {
    int without_request = 0;  // refund_or_dispute findings whose invoice was created in [from, to)
    int looked_up = 0;        // refund_or_dispute findings linked by a lookup
};

// Runs [since, until) and checks that every lookup was for a PaymentIntent
// whose invoice was created before `seen_from` (no run listed it).
linked run_and_check(const e2e_env& env, std::int64_t since, std::int64_t until, std::int64_t seen_from,
                     std::int64_t from, std::int64_t to) {
    auto r = run(env.dir, "run --config " + env.config.string() + " --since " + std::to_string(since) + " --until " +
                              std::to_string(until));
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    for (const auto& pi : looked_up_payment_intents(env))
        BOOST_TEST(invoice_created_of(env, pi) < seen_from, "looked up " << pi << ", whose invoice a run listed");
    linked out;
    for (const auto& [k, f] : report_findings(env.latest_report())) {
        if (k.first != "refund_or_dispute") continue;
        const auto& ev = f.at("evidence").as_object();
        const auto created = invoice_created(env, std::string(ev.at("invoice").as_string()));
        if (ev.contains("invoice_link_request_id")) ++out.looked_up;
        else if (created >= from && created < to) ++out.without_request;
    }
    BOOST_TEST_MESSAGE("[" << since << ", " << until << "): " << out.without_request << " linked from listed invoices, "
                           << out.looked_up << " looked up, " << looked_up_payment_intents(env).size() << " lookups");
    return out;
}

// Pinned before basil, charges name their invoice: nothing to link.
boost::test_tools::assertion_result pinned_at_basil(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(api_version() == "2025-03-31.basil");
    r.message() << "pinned before basil: charges name their invoice";
    return r;
}

// The seeded refunds and disputes take back credit packs bought days
// before the window: the days before are reconciled first, so their
// invoices are listed (and linked) before the window's run.
struct days_before_reconciled {
    e2e_env env;
    const std::int64_t start = env.window_start, end = env.window_end, before = start - 4 * 86400;
    days_before_reconciled() { run_and_check(env, before, start, before, before, start); }
};

// A seeded window refund whose PaymentIntent's link the first run stored
// from a listed invoice page.
struct listed_refund {
    std::string charge, payment_intent, currency;
    std::int64_t amount_paid = 0;  // what the stored link says the invoice got
};

listed_refund a_listed_window_refund(const e2e_env& env, SQLite::Database& db) {
    for (const auto& [kind, subject] : truth_keys(env.truth)) {
        if (kind != "refund_or_dispute") continue;
        const auto ch = json::parse(env.server_opts.data->handle_get("/v1/charges/" + subject).body).as_object();
        SQLite::Statement q(db, "SELECT amount_paid FROM recon_invoice_links WHERE payment_intent = ?");
        q.bind(1, std::string(ch.at("payment_intent").as_string()));
        if (q.executeStep())
            return {subject, std::string(ch.at("payment_intent").as_string()), std::string(ch.at("currency").as_string()),
                    q.getColumn(0).getInt64()};
    }
    BOOST_TEST_REQUIRE(false, "no window refund whose invoice the first run listed");
    return {};
}

void run_window(const days_before_reconciled& f) {
    const auto r = run(f.env.dir, "run --config " + f.env.config.string() + " --since " + std::to_string(f.start) +
                                      " --until " + std::to_string(f.end));
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(r.exit_code == 0);
}

bool was_looked_up(const e2e_env& env, const std::string& payment_intent) {
    const auto looked_up = looked_up_payment_intents(env);
    return std::find(looked_up.begin(), looked_up.end(), payment_intent) != looked_up.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(invoice_links)

BOOST_FIXTURE_TEST_CASE(refunds_are_linked_by_the_invoice_pages_of_this_run_and_of_earlier_runs,
                        days_before_reconciled, *boost::unit_test::precondition(pinned_at_basil)) {
    // The window's run links them without a lookup.
    const auto window = run_and_check(env, start, end, before, before, start);
    BOOST_TEST(window.without_request >= 1);
    // Still every seeded refund, dispute and charge without an invoice.
    std::set<finding_key> expected, found;
    for (const auto& k : truth_keys(env.truth))
        if (k.first == "refund_or_dispute" || k.first == "charge_without_invoice") expected.insert(k);
    for (const auto& [k, f] : report_findings(env.latest_report()))
        if (k.first == "refund_or_dispute" || k.first == "charge_without_invoice") found.insert(k);
    BOOST_TEST(key_diff(expected, found).empty(), key_diff(expected, found));
}

// A PaymentIntent may pay several invoices (partial payments). A listed
// invoice's link is trusted only when it paid the whole charge: here the
// listed one paid half and an invoice no run lists the rest, so the charge
// is looked up, and the lookup's complete answer leaves it unlinked rather
// than crediting the refund to the one invoice a page showed.
BOOST_FIXTURE_TEST_CASE(a_listed_link_that_is_not_the_whole_charge_is_looked_up, days_before_reconciled,
                        *boost::unit_test::precondition(pinned_at_basil)) {
    SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READWRITE);
    const auto listed = a_listed_window_refund(env, db);
    const std::string &charge_id = listed.charge, &pi = listed.payment_intent, &currency = listed.currency;
    const std::int64_t listed_paid = listed.amount_paid;
    // As Stripe would have shown a partial payment: the listed invoice got
    // half, an invoice no run lists the rest (the simulator serves it from
    // now on; it is idle between runs).
    SQLite::Statement half(db, "UPDATE recon_invoice_links SET amount_paid = ? WHERE payment_intent = ?");
    half.bind(1, listed_paid / 2);
    half.bind(2, pi);
    BOOST_TEST_REQUIRE(half.exec() == 1);
    auto& data = const_cast<reconciler::sim::dataset&>(*env.server_opts.data);
    data.add("invoice_payments",
             json::object{{"id", "inpay_e2e_rest"},
                          {"object", "invoice_payment"},
                          {"amount_paid", listed_paid - listed_paid / 2},
                          {"amount_requested", listed_paid - listed_paid / 2},
                          {"created", before - 86400},
                          {"currency", currency},
                          {"invoice", "in_e2e_unlisted"},
                          {"is_default", false},
                          {"livemode", false},
                          {"payment", json::object{{"type", "payment_intent"}, {"payment_intent", pi}}},
                          {"status", "paid"}});
    data.finalize();

    run_window(*this);
    BOOST_TEST(was_looked_up(env, pi), pi << " was not looked up");
    const auto found = report_findings(env.latest_report());
    BOOST_TEST(!found.contains({"refund_or_dispute", charge_id}), charge_id << " credited to the listed invoice alone");
    const auto it = found.find({"charge_without_invoice", charge_id});
    BOOST_TEST_REQUIRE((it != found.end()), charge_id << " has no charge_without_invoice finding");
    const std::string why(it->second.at("evidence").at("why").as_string());
    BOOST_TEST(why.find("paid several invoices") != std::string::npos, why);
    BOOST_TEST(why.find("in_e2e_unlisted") != std::string::npos, why);
}

// A listed link in another currency than the charge is not the whole of it
// either, whatever its amount: 1000 of one currency says nothing of 1000 of
// another. The charge is looked up, and the lookup's answer (Stripe's, in
// the charge's currency) links the refund to its invoice.
BOOST_FIXTURE_TEST_CASE(a_listed_link_in_another_currency_is_looked_up, days_before_reconciled,
                        *boost::unit_test::precondition(pinned_at_basil)) {
    SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READWRITE);
    const auto listed = a_listed_window_refund(env, db);
    SQLite::Statement other(db, "UPDATE recon_invoice_links SET currency = ? WHERE payment_intent = ?");
    other.bind(1, listed.currency == "eur" ? "usd" : "eur");
    other.bind(2, listed.payment_intent);
    BOOST_TEST_REQUIRE(other.exec() == 1);

    run_window(*this);
    BOOST_TEST(was_looked_up(env, listed.payment_intent), listed.payment_intent << " was not looked up");
    const auto found = report_findings(env.latest_report());
    const auto it = found.find({"refund_or_dispute", listed.charge});
    BOOST_TEST_REQUIRE((it != found.end()), listed.charge << " has no refund_or_dispute finding");
    BOOST_TEST(it->second.at("evidence").as_object().contains("invoice_link_request_id"),
               "the refund was not linked by the lookup");
}

BOOST_AUTO_TEST_SUITE_END()
