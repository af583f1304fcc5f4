// inspect / adjust (runbook §2-§3) on a real SQLite file.
#include "cli/support.hpp"
#include "core/json_log.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Database.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>

namespace fs = std::filesystem;
using namespace reconciler;

namespace {

struct support_env {
    fs::path dir = fs::temp_directory_path() / ("recon-support-" + std::to_string(std::random_device{}()));
    config cfg;
    std::vector<std::string> logged;

    support_env() {
        fs::create_directories(dir);
        store::create_app_schema(dir / "app.db");
        {
            SQLite::Database db((dir / "app.db").string(), SQLite::OPEN_READWRITE);
            db.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES (7,"
                    " 'ana@example.com', 'pro', 'cus_7', '{\"ai_credits\":30,\"credit_events\":[{\"id\":\"ce_1\",\"delta\":30,"
                    "\"kind\":\"grant\",\"source\":\"in_1\",\"correlation_id\":\"c1\",\"at\":\"2026-11-01T00:00:00Z\"}]}',"
                    " '2026-01-01T00:00:00Z')");
        }
        cfg = parse_config("database: {path: app.db}\noutput: {dir: out}\nprices: {price_a: {tier: pro, credits: 10}}\n",
                           dir / "c.yaml");
        store::open_sqlite_store({cfg.database.path, std::chrono::milliseconds(1000), false})->migrate();
        log::set_sink([this](std::string_view line) { logged.emplace_back(line); });
    }
    ~support_env() {
        log::set_sink({});
        fs::remove_all(dir);
    }
    std::string refusal(const adjust_request& r) {
        try {
            adjust_user(cfg, r);
        } catch (const support_refusal& e) {
            return e.what();
        }
        return {};
    }
};

adjust_request req(std::string email = "ana@example.com") {
    adjust_request r;
    r.email = std::move(email);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(support_commands)

BOOST_AUTO_TEST_CASE(inspect_shows_the_account) {
    support_env env;
    auto a = inspect_user(env.cfg, "ANA@example.com");  // emails match case-insensitively
    BOOST_TEST(a.at("tier").as_string() == "pro");
    BOOST_TEST(a.at("stripe_customer").as_string() == "cus_7");
    BOOST_TEST(a.at("ai_credits").as_int64() == 30);
    BOOST_TEST(a.at("credit_events").as_array().size() == 1u);
    const auto text = format_inspect(a);
    BOOST_TEST(text.find("ai_credits       30") != std::string::npos);
    BOOST_TEST(text.find("correlation c1") != std::string::npos);
    BOOST_CHECK_THROW(inspect_user(env.cfg, "nobody@example.com"), support_refusal);
}

BOOST_AUTO_TEST_CASE(adjust_applies_logs_and_returns_the_correlation_id) {
    support_env env;
    auto r = req();
    r.consume_credits = 20;
    r.reason = "support-adjustment";
    const auto line = adjust_user(env.cfg, r);
    const std::string corr(line.at("correlation_id").as_string());
    BOOST_TEST(corr.size() == 36u);
    auto a = inspect_user(env.cfg, "ana@example.com");
    BOOST_TEST(a.at("ai_credits").as_int64() == 10);
    const auto& last = a.at("credit_events").as_array().back().as_object();
    BOOST_TEST(last.at("kind").as_string() == "consume");
    BOOST_TEST(last.at("correlation_id").as_string() == corr);
    BOOST_REQUIRE_EQUAL(env.logged.size(), 1u);
    auto logged = boost::json::parse(env.logged[0]).as_object();
    BOOST_TEST(logged.at("event").as_string() == "entitlement_change");
    BOOST_TEST(logged.at("correlation_id").as_string() == corr);

    auto t = req();
    t.set_tier = "free";
    adjust_user(env.cfg, t);
    BOOST_TEST(inspect_user(env.cfg, "ana@example.com").at("tier").as_string() == "free");
}

BOOST_AUTO_TEST_CASE(adjust_refuses_nonsense_and_changes_nothing) {
    support_env env;
    auto neg = req();
    neg.grant_credits = -5;
    BOOST_TEST(env.refusal(neg).find("positive") != std::string::npos);
    auto tier = req();
    tier.set_tier = "platinum";
    BOOST_TEST(env.refusal(tier).find("unknown tier platinum") != std::string::npos);
    auto who = req("nobody@example.com");
    who.grant_credits = 5;
    BOOST_TEST(env.refusal(who).find("no user") != std::string::npos);
    auto both = req();
    both.grant_credits = 5;
    both.set_tier = "pro";
    BOOST_TEST(env.refusal(both).find("exactly one") != std::string::npos);
    auto overdraw = req();
    overdraw.consume_credits = 31;
    BOOST_TEST(env.refusal(overdraw).find("below zero") != std::string::npos);
    BOOST_TEST(inspect_user(env.cfg, "ana@example.com").at("ai_credits").as_int64() == 30);
    BOOST_TEST(env.logged.empty());
    overdraw.force = true;  // support really means it
    adjust_user(env.cfg, overdraw);
    BOOST_TEST(inspect_user(env.cfg, "ana@example.com").at("ai_credits").as_int64() == -1);
}

BOOST_AUTO_TEST_SUITE_END()
