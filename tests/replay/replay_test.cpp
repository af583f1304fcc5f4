// `reconciler replay EVENT_ID --forward-to URL` end to end: the real binary,
// as a process, fetches the event from the simulator over HTTPS and POSTs it,
// signed with webhook.secret, to the simulator's webhook receiver (the
// stand-in for the app's endpoint), which verifies the signature.
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
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Recognisable, so that a leak anywhere is found by a plain search.
const std::string api_key = "sk_test_REPLAY_KEY_do_not_leak_7c1e";
const std::string webhook_secret = "whsec_REPLAY_SECRET_do_not_leak_93ab";
const std::string wrong_secret = "whsec_WRONG_SECRET_do_not_leak_0d4f";
const std::string query_token = "QUERYTOKEN_do_not_log_55e1";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

struct process_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

struct replay_env {
    fs::path dir;
    reconciler::sim::tls_identity identity;
    std::unique_ptr<reconciler::sim::server> sim;
    fs::path config;
    std::vector<std::string> event_ids;  // of the dataset, in file order
    std::vector<process_result> runs;    // every run, for the leak check
    std::int64_t window_start = 0, window_end = 0;  // the seeded window

    replay_env() {
        dir = fs::temp_directory_path() / ("recon-replay-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
        reconciler::sim::generator_options g;
        g.out_dir = dir / "data";
        g.app_db = dir / "app.db";
        g.customers = 30;
        g.seed = 11;
        const auto summary = reconciler::sim::generate_dataset(g);
        window_start = summary.window_start;
        window_end = summary.window_end;
        const json::value events = json::parse(slurp(dir / "data" / "events.json"));
        for (const auto& e : events.as_array())
            event_ids.emplace_back(e.at("id").as_string());
        BOOST_REQUIRE_GE(event_ids.size(), 4u);

        identity = reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
        std::ofstream(dir / "ca.pem") << identity.ca_cert_pem;
        reconciler::sim::server_options so;
        so.identity = identity;
        so.api_key = api_key;
        so.webhook_secret = webhook_secret;
        so.data = std::make_shared<reconciler::sim::dataset>(reconciler::sim::dataset::load(dir / "data"));
        sim = std::make_unique<reconciler::sim::server>(so);

        ::setenv("RECON_REPLAY_STRIPE_KEY", api_key.c_str(), 1);
        ::setenv("RECON_REPLAY_WEBHOOK_SECRET", webhook_secret.c_str(), 1);
        config = dir / "reconciler.yaml";
        std::ofstream(config) << "stripe:\n"
                                 "  base_url: https://127.0.0.1:" << sim->port() << "\n"
                                 "  key: { env: RECON_REPLAY_STRIPE_KEY }\n"
                                 "  ca_file: ca.pem\n"
                                 "  requests_per_second: 50\n"
                                 "  request_timeout: 5s\n"
                                 "  max_retries: 2\n"
                                 "webhook:\n"
                                 "  secret: { env: RECON_REPLAY_WEBHOOK_SECRET }\n"
                                 "database:\n  path: app.db\n"
                                 "prices:\n"
                                 "  price_pro_monthly:  { tier: pro,  credits: 1000 }\n"
                                 "output:\n  dir: reports\n";
        BOOST_REQUIRE_EQUAL(run("migrate --config " + config.string()).exit_code, 0);
    }

    ~replay_env() {
        sim.reset();
        fs::remove_all(dir);
    }

    // Runs the real binary; secrets reach it through the environment only.
    process_result run(const std::string& args) {
        const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
        const std::string cmd = std::string(RECONCILER_BIN) + " " + args + " >" + out.string() + " 2>" + err.string();
        const int status = std::system(cmd.c_str());
        process_result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
        runs.push_back(r);
        return r;
    }

    std::string receiver_url() const {
        return "https://127.0.0.1:" + std::to_string(sim->port()) + "/webhook?token=" + query_token;
    }

    process_result replay(const std::string& event_id, const std::string& url, bool with_ca = true) {
        return run("replay " + event_id + " --config " + config.string() + " --forward-to '" + url + "'" +
                   (with_ca ? " --ca-file " + (dir / "ca.pem").string() : std::string()));
    }

    struct escalation_row {
        bool exists = false;
        std::string team, status, evidence;
        long long occurrences = 0;
    };
    escalation_row escalation(const std::string& event_id) const {
        SQLite::Database db((dir / "app.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT team, status, occurrences, evidence FROM recon_escalations"
                                " WHERE kind = 'webhook_replay_failed' AND subject = ?");
        q.bind(1, event_id);
        escalation_row row;
        if (q.executeStep()) {
            row.exists = true;
            row.team = q.getColumn(0).getString();
            row.status = q.getColumn(1).getString();
            row.occurrences = q.getColumn(2).getInt64();
            row.evidence = q.getColumn(3).getString();
        }
        return row;
    }

    // Nothing the binary printed, in any run, contains a secret.
    void check_no_leaks() const {
        for (const auto& r : runs) {
            for (const std::string& secret : {api_key, webhook_secret, wrong_secret}) {
                BOOST_TEST(!contains(r.out, secret), "stdout leaks a secret: " << r.out);
                BOOST_TEST(!contains(r.err, secret), "stderr leaks a secret: " << r.err);
            }
            BOOST_TEST(!contains(r.err, "do_not_leak"), r.err);
            BOOST_TEST(!contains(r.out, "do_not_leak"), r.out);
        }
    }
};

// The `webhook_replayed` log line of a run's stderr.
json::object replayed_line(const std::string& err) {
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);) {
        if (!contains(line, "\"webhook_replayed\"")) continue;
        return json::parse(line).as_object();
    }
    BOOST_ERROR("no webhook_replayed line in: " << err);
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay)

BOOST_AUTO_TEST_CASE(signed_event_is_accepted_by_the_receiver) {
    replay_env env;
    const std::string id = env.event_ids.front();
    const auto r = env.replay(id, env.receiver_url());
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(contains(r.out, "app answered: 200"), r.out);
    BOOST_TEST(contains(r.out, R"({"received":true})"), r.out);

    const auto deliveries = env.sim->stats().webhooks;
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].event_id == id);
    BOOST_TEST(deliveries[0].verdict == "valid");
    BOOST_TEST(deliveries[0].status == 200u);
    BOOST_TEST(deliveries[0].user_agent == "stripe-reconciler/0.1 (replay)");
    BOOST_TEST(deliveries[0].content_type == "application/json");
    BOOST_TEST(deliveries[0].target == "/webhook?token=" + query_token);  // the query is sent ...

    const auto line = replayed_line(r.err);
    BOOST_TEST(line.at("event_id").as_string() == id);
    BOOST_TEST(!line.at("event_type").as_string().empty());
    BOOST_TEST(line.at("event_type").as_string() == deliveries[0].event_type);
    BOOST_TEST(line.at("url").as_string() == "https://127.0.0.1:" + std::to_string(env.sim->port()) + "/webhook");
    BOOST_TEST(line.at("status").as_int64() == 200);
    BOOST_TEST(line.at("attempt").as_int64() == 1);
    BOOST_TEST(!contains(r.err, query_token), r.err);  // ... but never logged
    BOOST_TEST(!contains(r.out, query_token), r.out);

    BOOST_TEST(!env.escalation(id).exists);  // a success records nothing
    env.check_no_leaks();
}

BOOST_AUTO_TEST_CASE(wrong_secret_is_rejected_and_the_second_failure_escalates) {
    replay_env env;
    const std::string id = env.event_ids.at(1);
    ::setenv("RECON_REPLAY_WEBHOOK_SECRET", wrong_secret.c_str(), 1);

    const auto first = env.replay(id, env.receiver_url());
    BOOST_TEST_INFO("stdout: " << first.out << "\nstderr: " << first.err);
    BOOST_TEST(first.exit_code == 1);
    BOOST_TEST(contains(first.out, "app answered: 400"), first.out);
    BOOST_TEST(contains(first.out, "signature mismatch"), first.out);
    auto deliveries = env.sim->stats().webhooks;
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].event_id == id);
    BOOST_TEST(deliveries[0].verdict == "mismatch");
    BOOST_TEST(deliveries[0].status == 400u);
    auto row = env.escalation(id);
    BOOST_TEST(row.exists);
    BOOST_TEST(row.status == "watching");
    BOOST_TEST(row.occurrences == 1);
    BOOST_TEST(row.team == "billing_engineering");
    const auto evidence = json::parse(row.evidence).as_object();
    BOOST_TEST(evidence.at("status").as_int64() == 400);
    BOOST_TEST(!contains(row.evidence, query_token));
    BOOST_TEST(replayed_line(first.err).at("attempt").as_int64() == 1);

    const auto second = env.replay(id, env.receiver_url());
    BOOST_TEST_INFO("stdout: " << second.out << "\nstderr: " << second.err);
    BOOST_TEST(second.exit_code == 1);
    row = env.escalation(id);
    BOOST_TEST(row.status == "open");
    BOOST_TEST(row.occurrences == 2);
    BOOST_TEST(contains(second.out, "open for billing_engineering"), second.out);
    BOOST_TEST(replayed_line(second.err).at("attempt").as_int64() == 2);
    BOOST_TEST(env.sim->stats().webhooks.size() == 2u);

    // With the right secret again the app accepts it; the escalation stays for the humans.
    ::setenv("RECON_REPLAY_WEBHOOK_SECRET", webhook_secret.c_str(), 1);
    const auto third = env.replay(id, env.receiver_url());
    BOOST_TEST(third.exit_code == 0, third.out << third.err);
    BOOST_TEST(replayed_line(third.err).at("attempt").as_int64() == 3);
    BOOST_TEST(env.escalation(id).status == "open");
    env.check_no_leaks();
}

BOOST_AUTO_TEST_CASE(unknown_event_is_a_clear_stripe_404_and_nothing_is_sent) {
    replay_env env;
    const auto r = env.replay("evt_doesNotExist123", env.receiver_url());
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.err, "cannot fetch event evt_doesNotExist123 from Stripe"), r.err);
    BOOST_TEST(contains(r.err, "404"), r.err);
    BOOST_TEST(contains(r.err, "No such event"), r.err);
    BOOST_TEST(env.sim->stats().webhooks.empty());
    BOOST_TEST(!env.escalation("evt_doesNotExist123").exists);
    env.check_no_leaks();
}

BOOST_AUTO_TEST_CASE(refusals_before_anything_is_fetched_or_sent) {
    replay_env env;
    const auto requests_before = env.sim->stats().requests;
    const std::string id = env.event_ids.front();

    auto r = env.replay(id, "http://example.com/api/billing/webhook");
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    BOOST_TEST(contains(r.err, "plain http:// is refused for non-loopback host example.com"), r.err);

    r = env.replay(id, "ftp://127.0.0.1/webhook");
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    r = env.replay(id, "https://user:pw@127.0.0.1/webhook");
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    BOOST_TEST(!contains(r.err, "pw@"), r.err);
    r = env.replay("evt_bad/../x", env.receiver_url());
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    r = env.run("replay " + id + " --config " + env.config.string());
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    BOOST_TEST(contains(r.err, "--forward-to"), r.err);
    r = env.run("replay " + id + " --config " + env.config.string() + " --forward-to " + env.receiver_url() +
                " --webhook-secret " + webhook_secret);
    BOOST_TEST(r.exit_code == 2);

    ::unsetenv("RECON_REPLAY_WEBHOOK_SECRET");
    r = env.replay(id, env.receiver_url());
    BOOST_TEST(r.exit_code == 2, r.out << r.err);
    BOOST_TEST(contains(r.err, "webhook secret: environment variable RECON_REPLAY_WEBHOOK_SECRET is not set"), r.err);
    ::setenv("RECON_REPLAY_WEBHOOK_SECRET", webhook_secret.c_str(), 1);

    BOOST_TEST(env.sim->stats().requests == requests_before);  // neither Stripe nor the receiver was contacted
    env.check_no_leaks();  // including the refusal of --webhook-secret: the value is not echoed
}

BOOST_AUTO_TEST_CASE(unreachable_or_untrusted_app_is_a_recorded_failure) {
    replay_env env;
    const std::string id = env.event_ids.at(2);

    // Nothing listens on port 1.
    auto r = env.replay(id, "https://127.0.0.1:1/webhook");
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.out, "app unreachable: connect 127.0.0.1:1"), r.out);
    BOOST_TEST(replayed_line(r.err).at("status").is_null());
    BOOST_TEST(env.escalation(id).status == "watching");

    // The receiver's certificate is signed by the test CA, not the system store: refused.
    r = env.replay(id, env.receiver_url(), /*with_ca=*/false);
    BOOST_TEST(r.exit_code == 1, r.out << r.err);
    BOOST_TEST(contains(r.out, "TLS handshake"), r.out);
    BOOST_TEST(contains(r.out, "certificate verify failed"), r.out);
    BOOST_TEST(env.sim->stats().webhooks.empty());
    BOOST_TEST(env.escalation(id).status == "open");
    env.check_no_leaks();
}

BOOST_AUTO_TEST_CASE(plain_http_to_loopback_is_allowed) {
    replay_env env;
    reconciler::sim::server_options so;
    so.tls = false;
    so.api_key = "sk_test_unused";
    so.webhook_secret = webhook_secret;
    so.data = std::make_shared<reconciler::sim::dataset>(reconciler::sim::dataset::load(env.dir / "data"));
    reconciler::sim::server app(so);
    const std::string id = env.event_ids.front();
    const auto r = env.replay(id, "http://127.0.0.1:" + std::to_string(app.port()) + "/webhook", false);
    BOOST_TEST(r.exit_code == 0, r.out << r.err);
    const auto deliveries = app.stats().webhooks;
    BOOST_REQUIRE_EQUAL(deliveries.size(), 1u);
    BOOST_TEST(deliveries[0].event_id == id);
    BOOST_TEST(deliveries[0].verdict == "valid");
    env.check_no_leaks();
}

// Corrections policy `replay`: `run` fixes missed grants and tiers by
// re-delivering the Stripe event to the app's endpoint, signed, instead of
// writing the app's database.
BOOST_AUTO_TEST_CASE(run_with_replay_policy_redelivers_missed_events_instead_of_writing) {
    replay_env env;
    const fs::path cfg = env.dir / "replay-run.yaml";
    std::ofstream(cfg) << "stripe:\n"
                          "  base_url: https://127.0.0.1:" << env.sim->port() << "\n"
                          "  key: { env: RECON_REPLAY_STRIPE_KEY }\n"
                          "  ca_file: ca.pem\n"
                          "  requests_per_second: 100\n"
                          "  request_timeout: 5s\n"
                          "webhook:\n"
                          "  secret: { env: RECON_REPLAY_WEBHOOK_SECRET }\n"
                          "  forward_to: " << env.receiver_url() << "\n"
                          "  ca_file: ca.pem\n"
                          "database:\n  path: app.db\n"
                          "prices:\n"
                          "  price_pro_monthly:  { tier: pro,  credits: 1000 }\n"
                          "  price_team_monthly: { tier: team, credits: 5000 }\n"
                          "  price_credits_500:  { credits: 500 }\n"
                          "corrections:\n  credits_not_granted: replay\n  tier_mismatch: replay\n"
                          "output:\n  dir: reports\n";
    const auto r = env.run("run --config " + cfg.string() + " --since " + std::to_string(env.window_start) +
                           " --until " + std::to_string(env.window_end));
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);

    const auto report = json::parse(slurp(env.dir / "reports" / "latest" / "report.json")).as_object();
    std::set<std::string> replayed_events;
    int replayable = 0;
    for (const auto& v : report.at("findings").as_array()) {
        const auto& f = v.as_object();
        const std::string kind(f.at("kind").as_string());
        if ((kind != "credits_not_granted" && kind != "tier_mismatch") || f.at("correction").is_null()) continue;
        ++replayable;
        BOOST_TEST(f.at("disposition").as_string() == "replayed", kind << " " << f.at("subject_id").as_string() << ": "
                                                                       << f.at("note").as_string());
        const std::string note(f.at("note").as_string());
        replayed_events.insert(note.substr(9, note.find(' ', 9) - 9));  // "replayed evt_… to …"
    }
    BOOST_TEST(replayable >= 2);
    // Every replay reached the receiver, signed with the webhook secret.
    std::set<std::string> delivered;
    for (const auto& d : env.sim->stats().webhooks) {
        BOOST_TEST(d.verdict == "valid");
        delivered.insert(d.event_id);
    }
    BOOST_TEST(delivered == replayed_events);
    // The reconciler itself granted no credits and changed no plan.
    SQLite::Database db((env.dir / "app.db").string(), SQLite::OPEN_READONLY);
    BOOST_TEST(db.execAndGet("SELECT COUNT(*) FROM recon_corrections WHERE kind IN ('grant_credits','set_tier')")
                   .getInt64() == 0);
    env.check_no_leaks();
}

BOOST_AUTO_TEST_SUITE_END()
