// stripe-sim: the bundled Stripe simulator.
//
//   stripe-sim serve --data DIR [--bind ADDR] [--port N] [--port-file FILE]
//                    (--tls-dir DIR | --plain-http) [--api-key-env NAME]
//                    [--latency-ms N] [--fault-429 R] [--fault-5xx R] [--fault-reset R]
//                    [--fault-truncated R] [--fault-malformed R] [--fault-stall R]
//                    [--stall-ms N] [--fault-slow-body R] [--rate-limit RPS] [--seed N]
//                    [--default-api-version V]
//   stripe-sim generate --out DIR --app-db PATH [--customers N] [--seed N]
//                       [--now UNIX] [--window-hours H] [--no-portal-default]
//   stripe-sim compare --truth GROUND_TRUTH_JSON --report REPORT_JSON
//
// Exit status: 0 success (serve: after SIGTERM/SIGINT; compare: the report's
// findings are exactly the seeded ones), 1 runtime failure or a mismatch,
// 2 usage error (one line on stderr). The API key is read only from the
// environment (never argv, which other users can see in ps).
#include "stripe_sim/compare.hpp"
#include "stripe_sim/dataset.hpp"
#include "stripe_sim/generator.hpp"
#include "stripe_sim/server.hpp"
#include "stripe_sim/tls_identity.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace reconciler::sim;

constexpr const char* usage_text =
    "usage:\n"
    "  stripe-sim serve --data DIR [--bind 127.0.0.1] [--port N] [--port-file FILE]\n"
    "                   (--tls-dir DIR | --plain-http) [--api-key-env NAME (default STRIPE_API_KEY)]\n"
    "                   [--latency-ms N] [--fault-429 R] [--fault-5xx R] [--fault-reset R]\n"
    "                   [--fault-truncated R] [--fault-malformed R] [--fault-stall R] [--stall-ms N]\n"
    "                   [--fault-slow-body R] [--rate-limit RPS] [--seed N]\n"
    "                   [--default-api-version V (for requests without Stripe-Version; default 2025-03-31.basil)]\n"
    "  stripe-sim generate --out DIR --app-db PATH [--customers N] [--seed N] [--now UNIX]\n"
    "                      [--window-hours H] [--no-portal-default (no active default portal configuration)]\n"
    "  stripe-sim compare --truth GROUND_TRUTH_JSON --report REPORT_JSON\n";

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// --name value / --name=value options; flags take no value.
class arguments {
public:
    arguments(std::string_view command, int argc, char** argv, const std::set<std::string>& valued,
              const std::set<std::string>& flags)
        : command_(command) {
        for (int i = 0; i < argc; ++i) {
            std::string arg = argv[i];
            if (!arg.starts_with("--")) throw usage_error(command_ + ": unexpected argument '" + arg + "'");
            std::optional<std::string> value;
            if (auto eq = arg.find('='); eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg.resize(eq);
            }
            const std::string name = arg.substr(2);
            if (flags.contains(name)) {
                if (value) throw usage_error(command_ + ": --" + name + " takes no value");
                values_[name] = "";
            } else if (valued.contains(name)) {
                if (!value) {
                    if (i + 1 >= argc) throw usage_error(command_ + ": --" + name + " needs a value");
                    value = argv[++i];
                }
                values_[name] = *value;
            } else {
                throw usage_error(command_ + ": unknown option --" + name);
            }
        }
    }

    bool has(const std::string& name) const { return values_.contains(name); }
    std::optional<std::string> get(const std::string& name) const {
        auto it = values_.find(name);
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    std::string require(const std::string& name) const {
        auto v = get(name);
        if (!v || v->empty()) throw usage_error(command_ + ": --" + name + " is required");
        return *v;
    }
    template <class Int>
    std::optional<Int> integer(const std::string& name, long double min, long double max) const {
        auto v = get(name);
        if (!v) return std::nullopt;
        std::size_t used = 0;
        long long parsed = 0;
        try {
            parsed = std::stoll(*v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v->size() || v->empty() || parsed < min || parsed > max)
            throw usage_error(command_ + ": --" + name + " must be an integer in [" + fmt(min) + ", " + fmt(max) +
                              "], got '" + *v + "'");
        return static_cast<Int>(parsed);
    }
    std::optional<std::uint64_t> unsigned_integer(const std::string& name) const {
        auto v = get(name);
        if (!v) return std::nullopt;
        std::size_t used = 0;
        unsigned long long parsed = 0;
        try {
            if (!v->empty() && (*v)[0] != '-') parsed = std::stoull(*v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v->size() || v->empty())
            throw usage_error(command_ + ": --" + name + " must be a non-negative integer, got '" + *v + "'");
        return parsed;
    }
    std::optional<double> number(const std::string& name, double min, double max) const {
        auto v = get(name);
        if (!v) return std::nullopt;
        std::size_t used = 0;
        double parsed = 0;
        try {
            parsed = std::stod(*v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v->size() || v->empty() || !(parsed >= min && parsed <= max))
            throw usage_error(command_ + ": --" + name + " must be a number in [" + fmt(min) + ", " + fmt(max) +
                              "], got '" + *v + "'");
        return parsed;
    }

private:
    static std::string fmt(long double x) {
        std::ostringstream out;
        out << x;
        return out.str();
    }
    std::string command_;
    std::map<std::string, std::string> values_;
};

// Readers poll for these files: write a temporary sibling and rename it, so a
// reader sees either nothing or the whole content.
void write_file_atomically(const fs::path& path, const std::string& content) {
    const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out) throw std::runtime_error("write " + tmp.string() + ": cannot write");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw std::runtime_error("rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
    }
}

int serve(int argc, char** argv) {
    const arguments args("serve", argc, argv,
                         {"data", "bind", "port", "port-file", "tls-dir", "api-key-env", "latency-ms", "fault-429",
                          "fault-5xx", "fault-reset", "fault-truncated", "fault-malformed", "fault-stall",
                          "stall-ms", "fault-slow-body", "rate-limit", "seed", "default-api-version"},
                         {"plain-http"});
    const fs::path data_dir = args.require("data");
    if (args.has("tls-dir") == args.has("plain-http"))
        throw usage_error("serve: pass exactly one of --tls-dir DIR (writes DIR/ca.pem for clients) or --plain-http");

    server_options opts;
    opts.bind_address = args.get("bind").value_or("127.0.0.1");
    opts.port = args.integer<unsigned short>("port", 0, 65535).value_or(0);
    opts.tls = !args.has("plain-http");
    auto& f = opts.faults;
    f.seed = args.unsigned_integer("seed").value_or(f.seed);
    f.latency = std::chrono::milliseconds(args.integer<long long>("latency-ms", 0, 3'600'000).value_or(0));
    f.rate_429 = args.number("fault-429", 0, 1).value_or(0);
    f.rate_5xx = args.number("fault-5xx", 0, 1).value_or(0);
    f.rate_reset = args.number("fault-reset", 0, 1).value_or(0);
    f.rate_truncated = args.number("fault-truncated", 0, 1).value_or(0);
    f.rate_malformed = args.number("fault-malformed", 0, 1).value_or(0);
    f.rate_stall = args.number("fault-stall", 0, 1).value_or(0);
    f.rate_slow_body = args.number("fault-slow-body", 0, 1).value_or(0);
    f.stall = std::chrono::milliseconds(args.integer<long long>("stall-ms", 0, 3'600'000).value_or(f.stall.count()));
    if (f.rate_429 + f.rate_5xx + f.rate_reset + f.rate_truncated + f.rate_malformed + f.rate_stall +
            f.rate_slow_body > 1.0 + 1e-9)
        throw usage_error("serve: the --fault-* rates must add up to at most 1");
    opts.rate_limit_per_second = args.number("rate-limit", 0, 1e9).value_or(0);
    if (auto v = args.get("default-api-version")) {
        if (!dataset::is_supported_api_version(*v)) {
            std::string list;
            for (const auto& s : dataset::supported_api_versions()) list += (list.empty() ? "" : ", ") + s;
            throw usage_error("serve: --default-api-version must be one of " + list + ", got '" + *v + "'");
        }
        opts.default_api_version = *v;
    }

    const std::string key_env = args.get("api-key-env").value_or("STRIPE_API_KEY");
    const char* key = key_env.empty() ? nullptr : std::getenv(key_env.c_str());
    if (!key || !*key)
        throw usage_error("serve: environment variable " + key_env + " (the API key clients must present) is not set");
    opts.api_key = key;

    auto data = std::make_shared<dataset>(dataset::load(data_dir));
    opts.data = data;

    std::optional<fs::path> tls_dir;
    if (opts.tls) {
        tls_dir = args.require("tls-dir");
        opts.identity = generate_tls_identity({"localhost"}, {"127.0.0.1"});
        fs::create_directories(*tls_dir);
        write_file_atomically(*tls_dir / "ca.pem", opts.identity.ca_cert_pem);
    }

    // Block the stop signals before the server thread starts, so it inherits
    // the mask and only sigwait() below ever receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    server srv(std::move(opts));
    if (auto port_file = args.get("port-file"); port_file && !port_file->empty())
        write_file_atomically(*port_file, std::to_string(srv.port()) + "\n");

    std::cout << "stripe-sim listening on " << (tls_dir ? "https" : "http") << "://"
              << args.get("bind").value_or("127.0.0.1") << ":" << srv.port() << " (";
    const auto& names = dataset::resource_names();
    for (std::size_t i = 0; i < names.size(); ++i)
        std::cout << (i ? ", " : "") << data->size(names[i]) << " " << names[i];
    std::cout << ")" << std::endl;

    int sig = 0;
    sigwait(&stop_signals, &sig);
    srv.stop();
    return 0;
}

int generate(int argc, char** argv) {
    const arguments args("generate", argc, argv,
                         {"out", "app-db", "customers", "seed", "now", "window-hours"}, {"no-portal-default"});
    generator_options opts;
    opts.out_dir = args.require("out");
    opts.app_db = args.require("app-db");
    opts.customers = args.integer<int>("customers", 1, 10'000'000).value_or(opts.customers);
    opts.seed = args.unsigned_integer("seed").value_or(opts.seed);
    opts.now = args.integer<std::int64_t>("now", 0, 253402300799).value_or(0);
    opts.window_hours = args.integer<std::int64_t>("window-hours", 1, 24 * 366).value_or(opts.window_hours);
    opts.portal_default_configuration = !args.has("no-portal-default");

    const generation_summary s = generate_dataset(opts);
    std::cout << "stripe-sim generated " << s.customers << " customers, " << s.subscriptions << " subscriptions, "
              << s.invoices << " invoices, " << s.events << " events, " << s.seeded_findings
              << " seeded findings in [" << s.window_start << ", " << s.window_end << ") into "
              << opts.out_dir.string() << " and " << opts.app_db.string() << std::endl;
    return 0;
}

int compare(int argc, char** argv) {
    const arguments args("compare", argc, argv, {"truth", "report"}, {});
    const fs::path truth = args.require("truth"), report = args.require("report");
    const truth_comparison c = compare_with_truth(truth, report);
    if (c.exact()) {
        std::cout << "Findings: " << c.found << ", exactly the " << c.seeded << " seeded in " << truth.string()
                  << std::endl;
        return 0;
    }
    std::cout << "Findings differ from the seeded ground truth (" << c.found << " found, " << c.seeded
              << " seeded):\n";
    for (const auto& [kind, subject] : c.missed) std::cout << "  missed " << kind << " " << subject << '\n';
    for (const auto& [kind, subject] : c.extra) std::cout << "  not seeded " << kind << " " << subject << '\n';
    for (const auto& w : c.wrong_clawbacks) std::cout << "  clawback numbers differ " << w << '\n';
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "";
    try {
        if (command == "serve") return serve(argc - 2, argv + 2);
        if (command == "generate") return generate(argc - 2, argv + 2);
        if (command == "compare") return compare(argc - 2, argv + 2);
        if (command == "--help" || command == "-h" || command == "help") {
            std::cout << usage_text;
            return 0;
        }
        throw usage_error(command.empty() ? "missing command: expected 'serve', 'generate' or 'compare' (see --help)"
                                          : "unknown command '" + std::string(command) +
                                                "': expected 'serve', 'generate' or 'compare' (see --help)");
    } catch (const usage_error& e) {
        std::cerr << "stripe-sim: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "stripe-sim " << command << ": " << e.what() << '\n';
        return 1;
    }
}
