// Shared fixture of the end-to-end suites (e2e_test, reliability_test,
// bad_setup_test): a generated dataset and app database, the simulator over
// HTTPS with a CA generated for the test, a config, and the real `reconciler`
// binary run as a process. Header-only; the including target defines
// RECONCILER_BIN.
#pragma once

#include "stripe_sim/dataset.hpp"
#include "stripe_sim/generator.hpp"
#include "stripe_sim/server.hpp"
#include "stripe_sim/tls_identity.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;
namespace json = boost::json;

// Recognisable, so that a leak anywhere is found by a plain search.
inline const std::string api_key = "sk_test_E2E_SECRET_do_not_leak_4f9a2c";

inline std::string slurp(const fs::path& p) {
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
inline process_result run(const fs::path& dir, const std::string& args) {
    const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string cmd = std::string(RECONCILER_BIN) + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// Starts the real binary with `args` (no shell), stdout/stderr to files; returns
// its pid, or -1 when it could not be started. `extra_env` ("NAME=value", over
// the inherited environment) reaches the child only: a setenv here would race
// the threads this process runs beside it (the simulator, a test's app
// writers), as getenv is not safe against it; a libpq connect in one of them
// crashed on exactly that. posix_spawn, not fork: nothing runs in a copy of
// this multithreaded process.
inline pid_t spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                   const std::vector<std::string>& extra_env = {}) {
    std::vector<char*> argv{const_cast<char*>(RECONCILER_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    std::vector<char*> envp;
    for (char** e = ::environ; e && *e; ++e) {
        bool overridden = false;
        for (const auto& x : extra_env) overridden = overridden || name_of(x) == name_of(*e);
        if (!overridden) envp.push_back(*e);
    }
    for (const auto& x : extra_env) envp.push_back(const_cast<char*>(x.c_str()));
    envp.push_back(nullptr);
    posix_spawn_file_actions_t files;
    ::posix_spawn_file_actions_init(&files);
    ::posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::fflush(stdout);  // what this process buffered comes before the child's lines
    std::fflush(stderr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, RECONCILER_BIN, &files, nullptr, argv.data(), envp.data()) != 0) pid = -1;
    ::posix_spawn_file_actions_destroy(&files);
    return pid;
}

inline int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The crash tests' kill: waits `ms` (a random point of the run, or just
// after what the test waited for), SIGKILLs `pid` and reaps it. Whether the
// kill ended it: false when it had exited on its own before.
inline bool kill_after(pid_t pid, int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status);
}

// The Stripe-Version the suites pin: ctest runs each e2e suite once per
// supported version (RECON_E2E_API_VERSION, tests/e2e/CMakeLists.txt); the
// simulator renders every object at it, as Stripe does, while each event
// keeps its own version.
inline std::string api_version() {
    const char* v = std::getenv("RECON_E2E_API_VERSION");
    return v && *v ? v : "2025-03-31.basil";
}

struct e2e_options {
    int customers = 60;
    reconciler::sim::fault_options faults{};
    // The simulator's certificate; default: a fresh CA and a leaf for localhost and 127.0.0.1.
    std::optional<reconciler::sim::tls_identity> identity;
    bool migrate = true;
    bool portal_default_configuration = true;  // false: the account's portal has no active default configuration
};

struct e2e_env {
    fs::path dir;
    json::object truth;
    reconciler::sim::server_options server_opts;  // to start more simulators on the same data
    std::unique_ptr<reconciler::sim::server> sim;
    fs::path config;
    std::int64_t window_start = 0, window_end = 0;

    explicit e2e_env(int customers = 60, reconciler::sim::fault_options faults = {})
        : e2e_env(e2e_options{customers, faults, std::nullopt, true}) {}

    explicit e2e_env(const e2e_options& o) {
        dir = fs::temp_directory_path() / ("recon-e2e-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
        reconciler::sim::generator_options g;
        g.out_dir = dir / "data";
        g.app_db = dir / "app.db";
        g.customers = o.customers;
        g.seed = 7;
        g.portal_default_configuration = o.portal_default_configuration;
        auto summary = reconciler::sim::generate_dataset(g);
        window_start = summary.window_start;
        window_end = summary.window_end;
        truth = json::parse(slurp(dir / "data" / "ground_truth.json")).as_object();

        auto identity = o.identity ? *o.identity : reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
        std::ofstream(dir / "ca.pem") << identity.ca_cert_pem;
        server_opts.identity = identity;
        server_opts.api_key = api_key;
        server_opts.data = std::make_shared<reconciler::sim::dataset>(reconciler::sim::dataset::load(dir / "data"));
        server_opts.faults = o.faults;
        sim = std::make_unique<reconciler::sim::server>(server_opts);

        ::setenv("RECON_E2E_STRIPE_KEY", api_key.c_str(), 1);
        config = dir / "reconciler.yaml";
        std::ofstream(config) << config_text(sim->port(), "app.db", "reports");
        if (o.migrate) BOOST_REQUIRE_EQUAL(run(dir, "migrate --config " + config.string()).exit_code, 0);
    }
    ~e2e_env() {
        sim.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    static std::string config_text(unsigned short port, const std::string& db, const std::string& reports) {
        return "stripe:\n"
               "  base_url: https://127.0.0.1:" + std::to_string(port) + "\n"
               "  key: { env: RECON_E2E_STRIPE_KEY }\n"
               "  api_version: \"" + api_version() + "\"\n"
               "  ca_file: ca.pem\n"
               "  requests_per_second: 100\n"
               "  concurrency: 4\n"
               "  request_timeout: 5s\n"
               "database:\n  path: " + db + "\n"
               "prices:\n"
               "  price_pro_monthly:  { tier: pro,  credits: 1000 }\n"
               "  price_team_monthly: { tier: team, credits: 5000 }\n"
               "  price_credits_500:  { credits: 500 }\n"
               "tiers: [free, pro, team]\n"
               "output:\n  dir: " + reports + "\n";
    }

    // Replaces the simulator with one of options `so` (same data, another
    // port) and points the config at it.
    void restart_sim(const reconciler::sim::server_options& so) {
        sim.reset();
        sim = std::make_unique<reconciler::sim::server>(so);
        auto text = slurp(config);
        const auto at = text.find("https://127.0.0.1:") + 18;
        text.replace(at, text.find('\n', at) - at, std::to_string(sim->port()));
        std::ofstream(config, std::ios::trunc) << text;
    }

    // Replaces the first `from` in the config; fails the test when it is absent.
    void edit_config(const std::string& from, const std::string& to) const {
        auto text = slurp(config);
        const auto at = text.find(from);
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, "config has no " << from);
        text.replace(at, from.size(), to);
        std::ofstream(config, std::ios::trunc) << text;
    }

    std::string window_args() const {
        return " --since " + std::to_string(window_start) + " --until " + std::to_string(window_end);
    }

    json::object latest_report() const { return json::parse(slurp(dir / "reports" / "latest" / "report.json")).as_object(); }

    long long count(const std::string& sql) const { return count_in(dir / "app.db", sql); }

    static long long count_in(const fs::path& db_path, const std::string& sql) {
        SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY, 5000);  // a run may be writing
        return db.execAndGet(sql).getInt64();
    }

    // A consistent copy of the app database (VACUUM INTO), e.g. before any run.
    void snapshot_db(const fs::path& to) const {
        SQLite::Database d((dir / "app.db").string(), SQLite::OPEN_READWRITE);
        d.exec("VACUUM INTO '" + to.string() + "'");
    }
};

// The JSON log lines (stderr, one object a line) of one event.
inline std::vector<json::object> log_events(const std::string& err, std::string_view event) {
    std::vector<json::object> out;
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);)
        if (auto v = json::parse(line).as_object(); v.at("event").as_string() == event) out.push_back(std::move(v));
    return out;
}

using finding_key = std::pair<std::string, std::string>;  // kind, subject id

inline std::set<finding_key> truth_keys(const json::object& truth) {
    std::set<finding_key> keys;
    for (const auto& f : truth.at("findings").as_array())
        keys.emplace(std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string()));
    return keys;
}

inline std::map<finding_key, json::object> report_findings(const json::object& report) {
    std::map<finding_key, json::object> out;
    for (const auto& f : report.at("findings").as_array())
        out.emplace(finding_key{std::string(f.at("kind").as_string()), std::string(f.at("subject_id").as_string())},
                    f.as_object());
    return out;
}

// "missed K S; extra K S; ..." between two finding sets (empty when equal).
inline std::string key_diff(const std::set<finding_key>& expected, const std::set<finding_key>& found) {
    std::string d;
    for (const auto& k : expected)
        if (!found.count(k)) d += "missed " + k.first + " " + k.second + "; ";
    for (const auto& k : found)
        if (!expected.count(k)) d += "extra " + k.first + " " + k.second + "; ";
    return d;
}

inline std::set<finding_key> keys_of(const std::map<finding_key, json::object>& findings) {
    std::set<finding_key> keys;
    for (const auto& [k, v] : findings) keys.insert(k);
    return keys;
}

// Everything a correction can change, without ids, correlation ids or times.
inline std::string app_state(const fs::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    std::string out;
    SQLite::Statement users(db,
                            "SELECT u.id, u.plan, json_extract(u.plan_metadata, '$.ai_credits'),"
                            " (SELECT group_concat(k, ';') FROM (SELECT json_extract(e.value, '$.kind') || ':' ||"
                            "   json_extract(e.value, '$.source') || ':' || json_extract(e.value, '$.delta') AS k"
                            "   FROM json_each(u.plan_metadata, '$.credit_events') e ORDER BY k))"
                            " FROM users u ORDER BY u.id");
    while (users.executeStep())
        for (int i = 0; i < 4; ++i) out += (users.getColumn(i).isNull() ? "-" : users.getColumn(i).getString()) + "|";
    SQLite::Statement pays(db, "SELECT stripe_invoice_id, amount, currency, status FROM payments ORDER BY 1");
    while (pays.executeStep())
        for (int i = 0; i < 4; ++i) out += pays.getColumn(i).getString() + "|";
    SQLite::Statement led(db, "SELECT stripe_object, kind, credits_delta, status FROM recon_corrections ORDER BY 1, 2");
    while (led.executeStep())
        for (int i = 0; i < 4; ++i) out += led.getColumn(i).getString() + "|";
    return out;
}

}  // namespace e2e
