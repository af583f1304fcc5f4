// What the sender tests share: a temporary directory with the receiver's CA,
// a receiver, and one send() run to completion on its own io_context.
#pragma once

#include "deliver/sender.hpp"
#include "stripe_sim/tls_identity.hpp"
#include "test_receiver/receiver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

namespace deliver_test {

namespace fs = std::filesystem;
using namespace reconciler;

// Never in any error text: the tests look for each of them.
inline const std::string routing_key = "pdkey-SECRET-0001";
inline const std::string hmac_secret = "whsec-SECRET-0002";
inline const std::string slack_path = "/services/T000/B000/SLACKSECRET";

struct temp_dir {
    fs::path path = fs::temp_directory_path() / ("deliver-test-" + std::to_string(std::random_device{}()));
    temp_dir() { fs::create_directories(path); }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

inline deliver::escalation_event event(deliver::action what = deliver::action::trigger) {
    deliver::escalation_event e;
    e.what = what;
    e.escalation_id = 42;
    e.dedup_key = "negative_or_stuck_balance:user_9";
    e.team = "data_platform";
    e.kind = "negative_or_stuck_balance";
    e.subject = "user_9";
    e.status = what == deliver::action::trigger ? "open" : "resolved";
    e.severity = "warning";
    e.summary = "balance -40 credits";
    e.evidence = R"({"balance":-40})";
    e.first_seen = "2026-12-01T10:00:00Z";
    e.run_id = 3;
    return e;
}

struct fixture {
    temp_dir dir;
    sim::tls_identity identity = sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
    std::string ca_file = (dir.path / "ca.pem").string();
    std::unique_ptr<test_receiver::receiver> rx;

    fixture() { std::ofstream(ca_file) << identity.ca_cert_pem; }

    void start(test_receiver::receiver_options o = {}) {
        o.identity = identity;
        rx = std::make_unique<test_receiver::receiver>(std::move(o));
    }
    std::string base() const { return "https://127.0.0.1:" + std::to_string(rx->port()); }

    deliver::endpoint pagerduty() const { return {deliver::channel::pagerduty, "data_platform/pagerduty", base() + "/v2/enqueue", routing_key}; }
    deliver::endpoint slack() const { return {deliver::channel::slack, "data_platform/slack", base() + slack_path, ""}; }
    deliver::endpoint webhook() const { return {deliver::channel::webhook, "data_platform/webhook", base() + "/hook", hmac_secret}; }

    deliver::attempt send(const deliver::endpoint& to, const deliver::escalation_event& e,
                          std::chrono::milliseconds deadline = std::chrono::milliseconds(3000),
                          std::string ca = "") const {
        boost::asio::io_context ioc;
        auto s = deliver::make_https_sender(ioc.get_executor(), {ca.empty() ? ca_file : ca, deadline});
        auto result = boost::asio::co_spawn(ioc, s->send(to, e), boost::asio::use_future);
        ioc.run();
        return result.get();
    }
};

}  // namespace deliver_test
