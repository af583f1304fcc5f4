// Issue 19, end to end: a rewriting proxy in front of "Stripe" (the
// simulator's test-only rewrite_body) corrupts a few paid invoices that the
// run would otherwise repair, wherever they appear (the invoices list and
// their invoice.paid events): an amount sent as a string, a missing customer,
// a negative amount, the quantity. The real binary runs as before;
// each hostile invoice is an invalid_stripe_object finding with the page's
// Request-Id and nothing is applied for it; every other correction applies
// and the blast cap does not trip.
#include "e2e/e2e_support.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>

using namespace e2e;

namespace {

using mutation = std::function<void(json::object&)>;

// Applies `muts` to every invoice object (however deep: a list item, an
// event's data.object) whose id is one of theirs.
void walk(json::value& v, const std::map<std::string, mutation>& muts) {
    if (v.is_array()) {
        for (auto& x : v.get_array()) walk(x, muts);
        return;
    }
    if (!v.is_object()) return;
    auto& o = v.get_object();
    for (auto& [k, x] : o) walk(x, muts);
    const auto* id = o.if_contains("id");
    const auto* type = o.if_contains("object");
    if (!id || !id->is_string() || !type || !type->is_string() || type->get_string() != "invoice") return;
    if (auto it = muts.find(std::string(id->get_string())); it != muts.end()) it->second(o);
}

void set_quantities(json::object& inv, std::int64_t q) {
    for (auto& l : inv["lines"].as_object()["data"].as_array()) l.as_object()["quantity"] = q;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_stripe_data)

BOOST_AUTO_TEST_CASE(hostile_objects_are_flagged_with_their_request_id_and_the_rest_is_applied) {
    e2e_env env(300);
    // Paid invoices the run would grant for: the ones made hostile.
    std::vector<std::string> grants;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& t = tv.as_object();
        if (t.at("kind").as_string() == "credits_not_granted" && t.at("correction").is_object())
            grants.emplace_back(t.at("subject_id").as_string());
    }
    BOOST_REQUIRE_GE(grants.size(), 5u);
    const std::map<std::string, mutation> muts{
        {grants[0], [](json::object& o) { o["amount_paid"] = std::to_string(o["amount_paid"].as_int64()); }},
        {grants[1], [](json::object& o) { o.erase("customer"); }},
        {grants[2], [](json::object& o) { o["amount_paid"] = -900; }},
        {grants[3], [](json::object& o) { set_quantities(o, 3689348814741911); }},
    };
    auto so = env.server_opts;
    so.rewrite_body = [muts](std::string_view, std::string body) {
        auto v = json::parse(body);
        walk(v, muts);
        return json::serialize(v);
    };
    env.restart_sim(so);
    // Payments the app itself recorded before the run (credits_not_granted
    // with the payment present): the run must add none.
    std::map<std::string, long long> payments_before;
    for (const auto& [id, m] : muts)
        payments_before[id] = env.count("SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = '" + id + "'");

    const auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);  // as without them: findings do not fail a run
    const auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("status").as_string() == "succeeded");
    BOOST_TEST(report.at("run").at("blast_radius_cap").is_null());
    const auto found = report_findings(report);

    std::set<std::string> hostile;
    for (const auto& [id, m] : muts) {
        hostile.insert(id);
        BOOST_TEST_CONTEXT("hostile " << id) {
            auto it = found.find({"invalid_stripe_object", id});
            BOOST_REQUIRE(it != found.end());
            const auto& f = it->second;
            BOOST_TEST(f.at("team").as_string() == "backend_engineering");
            BOOST_TEST(f.at("disposition").as_string() == "flagged");
            BOOST_TEST(f.at("correction").is_null());
            const auto& ev = f.at("evidence").as_object();
            BOOST_TEST(ev.at("stripe_request_id").as_string().starts_with("req_"));
            BOOST_TEST(!ev.at("problem").as_string().empty());
            // Nothing applied, nothing recorded for it.
            BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections WHERE stripe_object = '" + id + "'") == 0);
            BOOST_TEST(env.count("SELECT COUNT(*) FROM users u, json_each(u.plan_metadata, '$.credit_events') e "
                                 "WHERE json_extract(e.value, '$.source') = '" + id + "'") == 0);
            BOOST_TEST(env.count("SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = '" + id + "'") ==
                       payments_before.at(id));
        }
    }
    BOOST_TEST(env.count("SELECT COUNT(*) FROM payments WHERE amount < 0") == 0);
    const auto field = [&](const std::string& id) {
        return std::string(found.at({"invalid_stripe_object", id}).at("evidence").at("field").as_string());
    };
    BOOST_TEST(field(grants[0]).ends_with("amount_paid"));
    BOOST_TEST(field(grants[1]).ends_with("customer"));
    BOOST_TEST(field(grants[2]) == "amount_paid");
    BOOST_TEST(field(grants[3]).ends_with("quantity"));

    // Every other correction of the ground truth applied; nothing found that
    // the truth does not have, but for the hostile objects.
    std::set<finding_key> truth = truth_keys(env.truth);
    std::size_t applied = 0;
    for (const auto& tv : env.truth.at("findings").as_array()) {
        const auto& t = tv.as_object();
        const std::string id(t.at("subject_id").as_string());
        if (hostile.count(id) || t.at("correction").is_null()) continue;
        auto it = found.find({std::string(t.at("kind").as_string()), id});
        BOOST_TEST_CONTEXT(t.at("kind").as_string() << " " << id) {
            BOOST_REQUIRE(it != found.end());
            BOOST_TEST(it->second.at("disposition").as_string() == "applied");
        }
        ++applied;
    }
    BOOST_TEST(applied >= 1u);
    std::string extra;
    for (const auto& k : keys_of(found))
        if (!truth.count(k) && !(k.first == "invalid_stripe_object" && hostile.count(k.second)))
            extra += k.first + " " + k.second + "; ";
    BOOST_TEST(extra.empty(), "extra: " << extra);
    // The log says it too, for whoever reads it before the report.
    BOOST_TEST(log_events(r.err, "invalid_stripe_object").size() >= muts.size());
}

BOOST_AUTO_TEST_SUITE_END()
