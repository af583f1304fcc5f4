// `reconciler escalations` and `inspect` on a real SQLite file, through the
// real binary: list, show, ack, resolve, each kept in the history; the
// errors a person sees for an unknown id, team, status or action.
#include "store/store.hpp"

#include <SQLiteCpp/Database.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using namespace reconciler;

namespace {

struct cli_result {
    int code = -1;
    std::string out, err;
};

struct escalations_env {
    fs::path dir = fs::temp_directory_path() / ("recon-escalations-" + std::to_string(std::random_device{}()));
    std::int64_t drift = 0, webhook = 0;

    escalations_env() {
        fs::create_directories(dir);
        store::create_app_schema(dir / "app.db");
        {
            SQLite::Database db((dir / "app.db").string(), SQLite::OPEN_READWRITE);
            db.exec("INSERT INTO users(id, email, plan, stripe_customer_id, plan_metadata, created_at) VALUES (7,"
                    " 'ana@example.com', 'pro', 'cus_7', '{\"ai_credits\":30,\"credit_events\":[]}', '2026-01-01T00:00:00Z')");
        }
        std::ofstream(dir / "c.yaml") << "database: {path: app.db}\noutput: {dir: out}\n"
                                         "prices: {price_a: {tier: pro, credits: 10}}\n";
        auto s = store::open_sqlite_store({dir / "app.db", std::chrono::milliseconds(1000), false});
        s->migrate();
        drift = s->raise({"data_platform", "balance_drift", "ana@example.com", R"({"ai_credits":30})", 100}, 1, 1).id;
        webhook = s->raise({"billing_engineering", "missed_webhook", "evt_1", "{}", 100, true}, 1, 1).id;
    }
    ~escalations_env() { fs::remove_all(dir); }

    cli_result run(const std::string& args) const {
        const fs::path out = dir / "out.txt", err = dir / "err.txt";
        const std::string cmd = std::string(RECONCILER_BIN) + " " + args + " --config " + (dir / "c.yaml").string() +
                                " >" + out.string() + " 2>" + err.string();
        const int status = std::system(cmd.c_str());
        const auto slurp = [](const fs::path& p) {
            std::ifstream in(p);
            std::stringstream ss;
            ss << in.rdbuf();
            return ss.str();
        };
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(escalations_command)

BOOST_AUTO_TEST_CASE(list_show_ack_resolve_with_history_and_inspect) {
    escalations_env env;
    const auto all = env.run("escalations list");
    BOOST_TEST_INFO(all.err);
    BOOST_REQUIRE_EQUAL(all.code, 0);
    BOOST_TEST(all.out.find("balance_drift") != std::string::npos);
    BOOST_TEST(all.out.find("[closed by a person]") != std::string::npos);  // the webhook one
    const auto team = boost::json::parse(env.run("escalations list --team data_platform --json").out).as_array();
    BOOST_REQUIRE_EQUAL(team.size(), 1u);
    BOOST_TEST(team[0].at("key").as_string() == "balance_drift:ana@example.com");

    const std::string id = std::to_string(env.drift);
    BOOST_TEST(env.run("escalations ack " + id + " --by alice --note 'checking the ledger'").code == 0);
    BOOST_TEST(env.run("escalations list --status acked --json").out.find("\"acked_by\":\"alice\"") != std::string::npos);
    // inspect shows the user's escalation with its history.
    const auto inspect = env.run("inspect --user ana@example.com");
    BOOST_TEST(inspect.out.find("acked by alice: checking the ledger") != std::string::npos, inspect.out);
    BOOST_TEST(env.run("escalations resolve " + id + " --by bob --note 'balance rebuilt from events'").code == 0);
    const auto shown = boost::json::parse(env.run("escalations show " + id + " --json").out).as_object();
    BOOST_TEST(shown.at("status").as_string() == "resolved");
    const auto& h = shown.at("history").as_array();
    BOOST_REQUIRE_EQUAL(h.size(), 3u);
    BOOST_TEST(h[1].at("actor").as_string() == "alice");
    BOOST_TEST(h[2].at("actor").as_string() == "bob");
    BOOST_TEST(h[2].at("note").as_string() == "balance rebuilt from events");
    BOOST_TEST(env.run("escalations list --json").out.find("balance_drift") == std::string::npos);  // unresolved only
    BOOST_TEST(env.run("escalations list --status all --json").out.find("balance_drift") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_ids_teams_statuses_and_actions_are_refused_with_a_suggestion) {
    escalations_env env;
    const auto expect = [&](const std::string& args, const std::string& text) {
        const auto r = env.run(args);
        BOOST_TEST_INFO(args << ": " << r.err);
        BOOST_TEST(r.code == 2);
        BOOST_TEST(r.err.find(text) != std::string::npos);
        BOOST_TEST(r.out.empty());
    };
    expect("escalations show 4242", "no escalation #4242");
    expect("escalations show abc", "ID takes a positive integer");
    expect("escalations list --team billing_engeneering", "did you mean billing_engineering?");
    expect("escalations list --status resolvd", "did you mean resolved?");
    expect("escalations lst", "did you mean list?");
    expect("escalations", "needs an action");
    expect("escalations ack " + std::to_string(env.webhook), "needs --by NAME");
    expect("escalations resolve " + std::to_string(env.webhook) + " --by alice", "needs --note TEXT");
    expect("escalations list --by alice", "--by and --note are options of");
    BOOST_TEST(env.run("escalations resolve " + std::to_string(env.webhook) + " --by alice --note done").code == 0);
    expect("escalations resolve " + std::to_string(env.webhook) + " --by bob --note again", "resolved already by alice");
    expect("escalations ack " + std::to_string(env.webhook) + " --by bob", "is resolved already");
}

BOOST_AUTO_TEST_SUITE_END()
