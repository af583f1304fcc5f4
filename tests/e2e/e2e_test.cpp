// End to end: the real `reconciler` binary, as a process, against the
// simulator over HTTPS (a CA generated for the test) on a generated dataset
// whose seeded discrepancies are the ground truth.
#include "core/stripe_parse.hpp"
#include "stripe_sim/dataset.hpp"
#include "stripe_sim/generator.hpp"
#include "stripe_sim/server.hpp"
#include "stripe_sim/tls_identity.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Recognisable, so that a leak anywhere is found by a plain search.
const std::string api_key = "sk_test_E2E_SECRET_do_not_leak_4f9a2c";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct process_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs the real binary; the key reaches it through the environment only.
process_result run(const fs::path& dir, const std::string& args) {
    const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string cmd = std::string(RECONCILER_BIN) + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

struct e2e_env {
    fs::path dir;
    json::object truth;
    std::unique_ptr<reconciler::sim::server> sim;
    fs::path config;
    std::int64_t window_start = 0, window_end = 0;

    explicit e2e_env(int customers = 60, reconciler::sim::fault_options faults = {}) {
        dir = fs::temp_directory_path() / ("recon-e2e-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
        reconciler::sim::generator_options g;
        g.out_dir = dir / "data";
        g.app_db = dir / "app.db";
        g.customers = customers;
        g.seed = 7;
        auto summary = reconciler::sim::generate_dataset(g);
        window_start = summary.window_start;
        window_end = summary.window_end;
        truth = json::parse(slurp(dir / "data" / "ground_truth.json")).as_object();

        auto identity = reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
        std::ofstream(dir / "ca.pem") << identity.ca_cert_pem;
        reconciler::sim::server_options so;
        so.identity = identity;
        so.api_key = api_key;
        so.data = std::make_shared<reconciler::sim::dataset>(reconciler::sim::dataset::load(dir / "data"));
        so.faults = faults;
        sim = std::make_unique<reconciler::sim::server>(so);

        ::setenv("RECON_E2E_STRIPE_KEY", api_key.c_str(), 1);
        config = dir / "reconciler.yaml";
        std::ofstream(config) << "stripe:\n"
                                 "  base_url: https://127.0.0.1:" << sim->port() << "\n"
                                 "  key: { env: RECON_E2E_STRIPE_KEY }\n"
                                 "  ca_file: ca.pem\n"
                                 "  requests_per_second: 100\n"
                                 "  concurrency: 4\n"
                                 "  request_timeout: 5s\n"
                                 "database:\n  path: app.db\n"
                                 "prices:\n"
                                 "  price_pro_monthly:  { tier: pro,  credits: 1000 }\n"
                                 "  price_team_monthly: { tier: team, credits: 5000 }\n"
                                 "  price_credits_500:  { credits: 500 }\n"
                                 "tiers: [free, pro, team]\n"
                                 "output:\n  dir: reports\n";
        BOOST_REQUIRE_EQUAL(run(dir, "migrate --config " + config.string()).exit_code, 0);
    }
    ~e2e_env() {
        sim.reset();
        fs::remove_all(dir);
    }

    std::string window_args() const {
        return " --since " + std::to_string(window_start) + " --until " + std::to_string(window_end);
    }

    json::object latest_report() const { return json::parse(slurp(dir / "reports" / "latest" / "report.json")).as_object(); }

    long long count(const std::string& sql) const {
        SQLite::Database db((dir / "app.db").string(), SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }
};

using finding_key = std::pair<std::string, std::string>;  // kind, subject id

std::set<finding_key> truth_keys(const json::object& truth) {
    std::set<finding_key> keys;
    for (const auto& f : truth.at("findings").as_array())
        keys.emplace(std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string()));
    return keys;
}

std::map<finding_key, json::object> report_findings(const json::object& report) {
    std::map<finding_key, json::object> out;
    for (const auto& f : report.at("findings").as_array())
        out.emplace(finding_key{std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string())},
                    f.as_object());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(end_to_end)

BOOST_AUTO_TEST_CASE(run_finds_exactly_the_seeded_set_applies_it_once_and_rerun_applies_nothing) {
    e2e_env env;
    const auto expected = truth_keys(env.truth);
    BOOST_REQUIRE_GE(expected.size(), 4u);

    auto first = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << first.err);
    BOOST_REQUIRE_EQUAL(first.exit_code, 0);
    auto report = env.latest_report();
    BOOST_TEST(report.at("schema_version").as_int64() == 1);
    BOOST_TEST(report.at("run").at("status").as_string() == "succeeded");
    BOOST_TEST(report.at("run").at("pages").as_int64() > 0);

    // Exactly the seeded findings: no misses, no false positives.
    const auto found = report_findings(report);
    std::set<finding_key> found_keys;
    for (const auto& [k, v] : found) found_keys.insert(k);
    std::string missed, extra;
    for (const auto& k : expected)
        if (!found_keys.count(k)) missed += k.first + " " + k.second + "; ";
    for (const auto& k : found_keys)
        if (!expected.count(k)) extra += k.first + " " + k.second + "; ";
    BOOST_TEST(missed.empty(), "missed: " << missed);
    BOOST_TEST(extra.empty(), "false positives: " << extra);

    // Every one applied, with the amounts the ground truth says.
    for (const auto& t : env.truth.at("findings").as_array()) {
        const finding_key k{std::string(t.at("kind").as_string()), std::string(t.at("subject_id").as_string())};
        auto it = found.find(k);
        if (it == found.end()) continue;
        const auto& f = it->second;
        BOOST_TEST_INFO(k.first << " " << k.second);
        BOOST_TEST(f.at("disposition").as_string() == "applied");
        BOOST_TEST(!f.at("correlation_id").as_string().empty());
        const auto& c = f.at("correction").as_object();
        if (k.first == "credits_not_granted") {
            BOOST_TEST(c.at("credits").as_int64() == t.at("credits").as_int64());
            BOOST_TEST(c.at("record_payment").as_bool() == t.at("payment_missing").as_bool());
        } else {
            BOOST_TEST(c.at("tier_to").as_string() == t.at("to").as_string());
        }
    }

    // The database agrees: one grant per seeded invoice, every payment recorded, plans set.
    for (const auto& t : env.truth.at("findings").as_array()) {
        const std::string id(t.at("subject_id").as_string());
        const std::string email(t.at("user_email").as_string());
        if (t.at("kind").as_string() == "credits_not_granted") {
            BOOST_TEST(env.count("SELECT COUNT(*) FROM users u, json_each(u.plan_metadata, '$.credit_events') e "
                                 "WHERE json_extract(e.value, '$.source') = '" + id +
                                 "' AND json_extract(e.value, '$.kind') = 'grant'") == 1);
            BOOST_TEST(env.count("SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = '" + id + "'") == 1);
        } else {
            BOOST_TEST(env.count("SELECT COUNT(*) FROM users WHERE email = '" + email + "' AND plan = '" +
                                 std::string(t.at("to").as_string()) + "'") == 1);
        }
    }
    // Balances still equal the sum of the events.
    BOOST_TEST(env.count("SELECT COUNT(*) FROM users u WHERE json_extract(u.plan_metadata, '$.ai_credits') != "
                         "(SELECT COALESCE(SUM(json_extract(e.value, '$.delta')), 0) FROM "
                         "json_each(u.plan_metadata, '$.credit_events') e)") == 0);

    // One entitlement_change line per applied correction, with its correlation id.
    std::istringstream lines(first.err);
    std::string line;
    std::set<std::string> logged;
    while (std::getline(lines, line)) {
        auto v = json::parse(line).as_object();
        if (v.at("event").as_string() == "entitlement_change") logged.insert(std::string(v.at("correlation_id").as_string()));
    }
    BOOST_TEST(logged.size() == expected.size());
    const auto corrections = env.count("SELECT COUNT(*) FROM recon_corrections");
    BOOST_TEST(corrections == static_cast<long long>(expected.size()));

    // The same window again: nothing to find, nothing applied.
    auto second = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_REQUIRE_EQUAL(second.exit_code, 0);
    auto report2 = env.latest_report();
    BOOST_TEST(report2.at("totals").at("findings").as_int64() == 0);
    BOOST_TEST(report2.at("totals").at("applied").as_int64() == 0);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections") == corrections);
    BOOST_TEST(second.err.find("entitlement_change") == std::string::npos);

    // The key never leaves the environment.
    for (const auto* text : {&first.out, &first.err, &second.out, &second.err})
        BOOST_TEST(text->find(api_key) == std::string::npos);
    for (const auto& entry : fs::recursive_directory_iterator(env.dir / "reports"))
        if (entry.is_regular_file()) BOOST_TEST(slurp(entry.path()).find(api_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(dry_run_flags_everything_and_writes_nothing) {
    e2e_env env(30);
    const auto users_hash = env.count("SELECT SUM(length(plan_metadata) + length(plan)) FROM users");
    auto r = run(env.dir, "run --dry-run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("mode").as_string() == "dry_run");
    BOOST_TEST(report.at("totals").at("findings").as_int64() == static_cast<std::int64_t>(truth_keys(env.truth).size()));
    BOOST_TEST(report.at("totals").at("applied").as_int64() == 0);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(env.count("SELECT SUM(length(plan_metadata) + length(plan)) FROM users") == users_hash);
    BOOST_TEST(r.out.find("dry run") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreachable_stripe_fails_the_run_cleanly) {
    e2e_env env(20);
    env.sim.reset();  // nobody listens any more
    // Few retries keep the test short.
    auto text = slurp(env.config);
    text.replace(text.find("  request_timeout: 5s\n"), 21, "  request_timeout: 1s\n  max_retries: 1\n");
    std::ofstream(env.config, std::ios::trunc) << text;
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_corrections") == 0);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'failed'") == 1);
    auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("status").as_string() == "failed");
    BOOST_TEST(r.out.find("FAILED") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
