// `delivery-receiver` as a real process, the way e2e tests and the demo
// start it: the CA it writes, the port file, the JSON lines it records.
#include "deliver_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

using namespace deliver_test;
using reconciler::deliver::outcome;

BOOST_AUTO_TEST_CASE(delivery_receiver_process_records_json_lines) {
    temp_dir dir;
    const fs::path port_file = dir.path / "port", log = dir.path / "requests.jsonl";
    ::setenv("DELIVERY_TEST_SECRET", hmac_secret.c_str(), 1);
    std::vector<std::string> args{DELIVERY_RECEIVER_BIN, "--tls-dir",  dir.path.string(), "--port-file",
                                  port_file.string(),    "--log",      log.string(),      "--rule",
                                  "/hook=500x1",         "--webhook-secret-env", "DELIVERY_TEST_SECRET"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    BOOST_REQUIRE_EQUAL(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    BOOST_REQUIRE(fs::exists(port_file));
    std::string port;
    std::ifstream(port_file) >> port;

    fixture f;  // only for send(); the process's CA is in dir/ca.pem
    const reconciler::deliver::endpoint to{reconciler::deliver::channel::webhook, "ops/webhook",
                                           "https://127.0.0.1:" + port + "/hook", hmac_secret};
    const std::string ca = (dir.path / "ca.pem").string();
    const auto first = f.send(to, event(), std::chrono::milliseconds(3000), ca);
    const auto second = f.send(to, event(), std::chrono::milliseconds(3000), ca);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST((first.result == outcome::retry));
    BOOST_TEST((second.result == outcome::sent));
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));

    std::ifstream in(log);
    std::vector<boost::json::object> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line).as_object());
    BOOST_REQUIRE_EQUAL(lines.size(), 2u);
    BOOST_TEST(lines[0].at("answer") == 500);
    BOOST_TEST(lines[1].at("answer") == 200);
    BOOST_TEST(lines[1].at("path") == "/hook");
    BOOST_TEST(lines[1].at("signature") == "valid");
    BOOST_TEST(boost::json::parse(std::string(lines[1].at("body").as_string())).at("kind") ==
               "negative_or_stuck_balance");
}
