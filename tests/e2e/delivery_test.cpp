// Escalations reach their team (issue 20, docs/delivery.md): the real
// `reconciler` binary against the simulator, delivering to the real
// `delivery-receiver` over HTTPS on loopback (its own generated CA). PagerDuty
// gets a trigger per open escalation with the escalation's stable key, then a
// resolve with the same key once a person resolves it; Slack a message; the
// generic webhook a body its receiver can verify. A receiver answering 500
// is retried until it takes the event; one that hangs never fails the run.
// No routing key, HMAC secret or Slack URL ends up in a log or a report.
#include "e2e/e2e_support.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <thread>

using namespace e2e;

namespace {

const std::string pd_key = "PDroutingKEYe2e0123456789abcdef";
const std::string hmac_secret = "whsec_E2E_delivery_HMAC_do_not_leak";
const std::string slack_path = "/services/T0E2E/B0E2E/SLACKpathSECRETe2e";

// A `delivery-receiver` process: TLS with its own CA in `dir`, every request
// recorded as a JSON line. Stopped (SIGTERM) when it goes out of scope.
struct receiver_process {
    fs::path dir, log;
    pid_t pid = -1;
    std::string port;

    receiver_process(const fs::path& d, const std::vector<std::string>& rules) : dir(d), log(d / "requests.jsonl") {
        fs::create_directories(dir);
        ::setenv("RECON_E2E_RECEIVER_SECRET", hmac_secret.c_str(), 1);
        std::vector<std::string> args{DELIVERY_RECEIVER_BIN, "--tls-dir",  dir.string(), "--port-file",
                                      (dir / "port").string(), "--log", log.string(),     "--webhook-secret-env",
                                      "RECON_E2E_RECEIVER_SECRET"};
        for (const auto& r : rules) {
            args.push_back("--rule");
            args.push_back(r);
        }
        std::fflush(stdout);
        std::fflush(stderr);
        pid = ::fork();
        if (pid == 0) {
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(DELIVERY_RECEIVER_BIN, argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 400 && !fs::exists(dir / "port"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        BOOST_REQUIRE_MESSAGE(fs::exists(dir / "port"), "delivery-receiver did not start");
        std::ifstream(dir / "port") >> port;
    }
    ~receiver_process() {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
    }
    std::string url(const std::string& path) const { return "https://127.0.0.1:" + port + path; }

    std::vector<json::object> requests(const std::string& path_prefix) const {
        std::vector<json::object> out;
        std::ifstream in(log);
        for (std::string line; std::getline(in, line);) {
            auto o = json::parse(line).as_object();
            if (std::string(o.at("path").as_string()).starts_with(path_prefix)) out.push_back(std::move(o));
        }
        return out;
    }
};

json::object body_of(const json::object& request) { return json::parse(request.at("body").as_string()).as_object(); }

std::string run_args(const e2e_env& env) { return "run --config " + env.config.string() + env.window_args(); }

std::set<std::string> keys_in(const e2e_env& env, const std::string& team) {
    SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READONLY, 5000);
    SQLite::Statement q(db, "SELECT kind || ':' || subject FROM recon_escalations WHERE status = 'open' AND team = ?");
    q.bind(1, team);
    std::set<std::string> out;
    while (q.executeStep()) out.insert(q.getColumn(0).getString());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery)

BOOST_AUTO_TEST_CASE(each_team_receives_its_escalations_and_a_resolve) {
    e2e_env env(60);
    // PagerDuty answers 500 twice before it takes anything: retried, nothing lost.
    receiver_process rx(env.dir / "receiver", {"/pd=500x2", "/hang=hang"});
    ::setenv("RECON_E2E_PD_KEY", pd_key.c_str(), 1);
    ::setenv("RECON_E2E_HOOK_SECRET", hmac_secret.c_str(), 1);
    std::ofstream(env.dir / "slack.url") << rx.url(slack_path) << "\n";
    ::chmod((env.dir / "slack.url").c_str(), 0600);
    std::ofstream(env.config, std::ios::app)
        << "escalations:\n  routes:\n"
        << "    data_platform:\n"
        << "      - {type: pagerduty, routing_key: {env: RECON_E2E_PD_KEY}, url: '" << rx.url("/pd") << "'}\n"
        << "      - {type: slack, url: {file: slack.url}}\n"
        << "    billing_engineering:\n"
        << "      - {type: webhook, url: '" << rx.url("/hook") << "', secret: {env: RECON_E2E_HOOK_SECRET}}\n"
        << "    backend_engineering:\n"
        << "      - {type: webhook, url: '" << rx.url("/hang") << "', secret: {env: RECON_E2E_HOOK_SECRET}}\n"
        << "  delivery: {ca_file: receiver/ca.pem, deadline_seconds: 1, budget_seconds: 6}\n";

    const auto first = run(env.dir, run_args(env));
    BOOST_TEST_INFO("stderr: " << first.err);
    BOOST_REQUIRE_EQUAL(first.exit_code, 0);  // a hanging receiver never fails the run
    const auto data_platform = keys_in(env, "data_platform");
    const auto billing = keys_in(env, "billing_engineering");
    BOOST_REQUIRE(!data_platform.empty());
    BOOST_REQUIRE(!billing.empty());
    BOOST_REQUIRE(!keys_in(env, "backend_engineering").empty());

    // PagerDuty: one accepted trigger per open escalation, keyed kind:subject.
    std::set<std::string> triggered;
    int refused = 0;
    for (const auto& r : rx.requests("/pd")) {
        const auto b = body_of(r);
        BOOST_TEST(b.at("routing_key").as_string() == pd_key);
        BOOST_TEST(b.at("event_action").as_string() == "trigger");
        if (r.at("answer").as_int64() == 500) ++refused;
        else triggered.insert(std::string(b.at("dedup_key").as_string()));
    }
    BOOST_TEST(refused == 2);
    BOOST_TEST(triggered == data_platform, boost::test_tools::per_element());
    // Slack: one message per escalation, naming its subject.
    const auto slack = rx.requests(slack_path);
    BOOST_TEST(slack.size() == data_platform.size());
    for (const auto& r : slack) BOOST_TEST(body_of(r).contains("blocks"));
    // The generic webhook: signed with the route's secret, verifiable by the receiver.
    std::set<std::string> hooked;
    for (const auto& r : rx.requests("/hook")) {
        BOOST_TEST(r.at("signature").as_string() == "valid");
        hooked.insert(std::string(body_of(r).at("dedup_key").as_string()));
    }
    BOOST_TEST(hooked == billing, boost::test_tools::per_element());
    // The hanging receiver: tried, left pending for the next run, counted.
    BOOST_TEST(!rx.requests("/hang").empty());
    const auto report = env.latest_report();
    const auto& d = report.at("run").at("deliveries").as_object();
    BOOST_TEST(d.at("sent").as_int64() == static_cast<std::int64_t>(2 * data_platform.size() + billing.size()));
    BOOST_TEST(d.at("pending").as_int64() ==
               env.count("SELECT COUNT(*) FROM recon_escalation_outbox WHERE route = 'backend_engineering/webhook'"));

    // A rerun pages nobody again.
    const auto sent_before = rx.requests("/pd").size() + rx.requests(slack_path).size() + rx.requests("/hook").size();
    const auto again = run(env.dir, run_args(env));
    BOOST_REQUIRE_EQUAL(again.exit_code, 0);
    BOOST_TEST(rx.requests("/pd").size() + rx.requests(slack_path).size() + rx.requests("/hook").size() == sent_before);

    // A person resolves one: the next run resolves its incident, same key.
    const std::string key = *data_platform.begin();
    const auto id = env.count("SELECT id FROM recon_escalations WHERE kind || ':' || subject = '" + key + "'");
    const auto resolved = run(env.dir, "escalations resolve " + std::to_string(id) +
                                           " --by alice --note 'balance fixed by hand' --config " + env.config.string());
    BOOST_REQUIRE_EQUAL(resolved.exit_code, 0);
    const auto third = run(env.dir, run_args(env));
    BOOST_REQUIRE_EQUAL(third.exit_code, 0);
    std::vector<std::string> resolves;
    for (const auto& r : rx.requests("/pd"))
        if (body_of(r).at("event_action").as_string() == "resolve") {
            resolves.push_back(std::string(body_of(r).at("dedup_key").as_string()));
            BOOST_TEST(!body_of(r).contains("payload"));
        }
    BOOST_TEST(resolves == std::vector<std::string>{key}, boost::test_tools::per_element());

    // No secret anywhere a person or a machine reads.
    std::string everything = first.err + first.out + again.err + again.out + third.err + third.out + resolved.err;
    for (const auto& f : fs::recursive_directory_iterator(env.dir / "reports"))
        if (f.is_regular_file()) everything += slurp(f.path());
    for (const auto& secret : {pd_key, hmac_secret, slack_path.substr(slack_path.rfind('/'))})
        BOOST_TEST(everything.find(secret) == std::string::npos, "leaked: " << secret);
}

BOOST_AUTO_TEST_SUITE_END()
