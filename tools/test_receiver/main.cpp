// delivery-receiver: a local HTTPS endpoint standing in for PagerDuty, Slack
// or a team's webhook, for e2e tests and the demo.
//
//   delivery-receiver (--tls-dir DIR | --plain-http) [--bind 127.0.0.1] [--port N]
//                     [--port-file FILE] [--log FILE] [--status N]
//                     [--rule PATH=RULE ...] [--retry-after VALUE]
//                     [--webhook-secret-env NAME]
//
// RULE: STATUS ("202"), STATUSxN ("500x3": 500 for the first 3 requests to
// PATH, then --status), or "hang" (read, record, never answer). --tls-dir
// writes DIR/ca.pem (a CA generated now; the leaf names localhost and
// 127.0.0.1) for clients to trust. Every request is appended to --log as a
// JSON line (see receiver.hpp). The webhook secret is read from the
// environment only (never argv). Runs until SIGTERM or SIGINT; exit 0 then,
// 1 on a runtime failure, 2 on a usage error (one line on stderr).
#include "stripe_sim/tls_identity.hpp"
#include "test_receiver/receiver.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <pthread.h>

namespace {

namespace fs = std::filesystem;
using namespace reconciler::test_receiver;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr const char* usage_text =
    "usage: delivery-receiver (--tls-dir DIR | --plain-http) [--bind 127.0.0.1] [--port N] [--port-file FILE]\n"
    "                         [--log FILE] [--status N] [--rule PATH=STATUS|STATUSxN|hang ...]\n"
    "                         [--retry-after VALUE] [--webhook-secret-env NAME]\n";

void write_file_atomically(const fs::path& path, const std::string& content) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << content;
        if (!out.flush()) throw std::runtime_error("write " + tmp.string());
    }
    fs::rename(tmp, path);
}

unsigned short port_arg(const std::string& v) {
    std::size_t used = 0;
    long n = -1;
    try {
        n = std::stol(v, &used);
    } catch (const std::exception&) {
    }
    if (used != v.size() || n < 0 || n > 65535) throw usage_error("--port must be in 0..65535, got '" + v + "'");
    return static_cast<unsigned short>(n);
}

int serve(int argc, char** argv) {
    receiver_options opts;
    std::string tls_dir, port_file, retry_after, status = "200";
    std::vector<std::string> rules;
    bool plain = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--tls-dir") tls_dir = value();
        else if (arg == "--plain-http") plain = true;
        else if (arg == "--bind") opts.bind_address = value();
        else if (arg == "--port") opts.port = port_arg(value());
        else if (arg == "--port-file") port_file = value();
        else if (arg == "--log") opts.log_file = value();
        else if (arg == "--status") status = value();
        else if (arg == "--rule") rules.push_back(value());
        else if (arg == "--retry-after") retry_after = value();
        else if (arg == "--webhook-secret-env") {
            const std::string name = value();
            const char* secret = std::getenv(name.c_str());
            if (!secret || !*secret) throw usage_error("--webhook-secret-env: $" + name + " is not set");
            opts.webhook_secret = secret;
        } else throw usage_error("unknown argument '" + arg + "'");
    }
    if (tls_dir.empty() == !plain) throw usage_error("pass exactly one of --tls-dir DIR or --plain-http");
    try {
        opts.default_rule = parse_rule(status);
        for (const auto& r : rules) {
            const auto eq = r.find('=');
            if (eq == std::string::npos || r[0] != '/') throw usage_error("--rule expects PATH=RULE, got '" + r + "'");
            opts.rules[r.substr(0, eq)] = parse_rule(r.substr(eq + 1), opts.default_rule.status);
        }
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    opts.default_rule.retry_after = retry_after;
    for (auto& [path, r] : opts.rules) r.retry_after = retry_after;
    opts.tls = !plain;
    if (opts.tls) {
        opts.identity = reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"});
        fs::create_directories(tls_dir);
        write_file_atomically(fs::path(tls_dir) / "ca.pem", opts.identity.ca_cert_pem);
    }
    // Blocked before the server thread starts: only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    receiver srv(opts);
    if (!port_file.empty()) write_file_atomically(port_file, std::to_string(srv.port()) + "\n");
    std::cout << "delivery-receiver listening on " << (opts.tls ? "https" : "http") << "://" << opts.bind_address
              << ":" << srv.port() << std::endl;
    int sig = 0;
    sigwait(&stop_signals, &sig);
    srv.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return serve(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "delivery-receiver: " << e.what() << '\n' << usage_text;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "delivery-receiver: " << e.what() << '\n';
        return 1;
    }
}
