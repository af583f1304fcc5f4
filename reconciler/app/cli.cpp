#include "app/cli.hpp"

#include "config/config.hpp"
#include "report/stdout_summary.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/run.hpp"
#include "app/daemon.hpp"
#include "pipeline/run_lock.hpp"
#include "app/support.hpp"
#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "store/store.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reconciler {

namespace detail {

constexpr const char* usage_text =
    "usage: reconciler COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  run     --config FILE [--since TIME] [--until TIME] [--dry-run] [--exit-code-on-escalation]\n"
    "          Reconcile the window [since, until). Without --since: from the last checkpoint\n"
    "          minus window.overlap (first run: window.default_lookback before now).\n"
    "          TIME is RFC 3339 (2026-11-24T03:00:00Z), a date, a unix time, or a duration\n"
    "          before now (72h, 30d).\n"
    "  migrate --config FILE   Create or upgrade the reconciler's tables in the app database.\n"
    "  revert  --config FILE CORRECTION_ID\n"
    "          Undo one applied correction (compensating credit event, or the previous plan).\n"
    "  daemon  --config FILE (--every DURATION | --at HH:MM)\n"
    "          Run on a schedule (interval, or daily at a UTC time) until SIGTERM; SIGHUP reloads the config.\n"
    "  inspect --config FILE --user EMAIL [--json]\n"
    "          Show tier, Stripe customer, ai_credits, the last five credit events, open escalations.\n"
    "  adjust  --config FILE --user EMAIL (--grant-credits N | --consume-credits N | --set-tier TIER)\n"
    "          [--reason TEXT] [--force]   One change in one transaction; prints the correlation id.\n"
    "  replay  --config FILE EVENT_ID --forward-to URL [--ca-file FILE]\n"
    "          Fetch the event from Stripe and POST it, signed with webhook.secret, to the app's\n"
    "          webhook URL (runbook §4); prints the app's answer. A failure is recorded; the second\n"
    "          failure of an event opens a billing_engineering escalation. Exit 0 when the app\n"
    "          answered 2xx, 1 otherwise. URL must be https:// (http:// only to loopback);\n"
    "          --ca-file: CA bundle for the app's certificate (default: the system store).\n"
    "  version                 Print the version.\n"
    "\n"
    "The Stripe key and the webhook secret are read from the sources named in the config\n"
    "(stripe.key, webhook.secret: env, file or systemd credential), never from the command line.\n"
    "\n"
    "exit codes: 0 success, 1 run (or replay) failed, 2 usage/config/schema error, 3 locked,\n"
    "            4 success with new escalations (only with --exit-code-on-escalation)\n";

class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct args {
    std::string command;
    std::map<std::string, std::string> values;
    std::vector<std::string> flags;
    std::vector<std::string> positional;

    bool flag(const std::string& f) const { return std::find(flags.begin(), flags.end(), f) != flags.end(); }
    std::optional<std::string> value(const std::string& k) const {
        auto it = values.find(k);
        return it == values.end() ? std::nullopt : std::optional(it->second);
    }
};

args parse_args(int argc, char** argv, const std::vector<std::string>& valued, const std::vector<std::string>& bare) {
    args a;
    if (argc < 2) throw usage_error("no command given");
    a.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string arg = argv[i];
        std::string val;
        bool has_inline = false;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            val = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        if (arg == "--api-key" || arg == "--key" || arg == "--stripe-key")
            throw usage_error(arg + ": secrets are never taken from the command line (it is visible in ps and "
                                    "shell history); configure stripe.key (env, file or credential)");
        if (arg == "--secret" || arg == "--webhook-secret" || arg == "--signing-secret")
            throw usage_error(arg + ": secrets are never taken from the command line (it is visible in ps and "
                                    "shell history); configure webhook.secret (env, file or credential)");
        if (std::find(valued.begin(), valued.end(), arg) != valued.end()) {
            if (!has_inline) {
                if (i + 1 >= argc) throw usage_error(arg + " needs a value");
                val = argv[++i];
            }
            a.values[arg] = val;
        } else if (std::find(bare.begin(), bare.end(), arg) != bare.end() && !has_inline) {
            a.flags.push_back(arg);
        } else if (arg.rfind("--", 0) != 0) {
            a.positional.push_back(arg);
        } else {
            throw usage_error("unknown option " + arg + " for `" + a.command + "`");
        }
    }
    return a;
}

config config_from(const args& a) {
    auto path = a.value("--config");
    if (!path) throw usage_error("`" + a.command + "` needs --config FILE");
    return load_config(*path);
}

int cmd_run(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config", "--since", "--until"}, {"--dry-run", "--exit-code-on-escalation"});
    const config cfg = config_from(a);
    run_options opts;
    opts.dry_run = a.flag("--dry-run");
    const auto now = now_unix();
    try {
        if (auto s = a.value("--since")) opts.since = parse_time_arg(*s, now);
        if (auto u = a.value("--until")) opts.until = parse_time_arg(*u, now);
    } catch (const std::invalid_argument& e) {
        throw usage_error(std::string("--since/--until: ") + e.what());
    }
    const run_result r = run_once(cfg, opts);
    std::cout << format_summary(r) << std::flush;
    if (!r.succeeded) return exit_run_failed;
    if (a.flag("--exit-code-on-escalation") && r.new_escalations > 0) return exit_new_escalations;
    return exit_success;
}

int cmd_migrate(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config"}, {});
    const config cfg = config_from(a);
    auto db = store::open_sqlite_store({cfg.database.path, cfg.database.busy_timeout, false});
    const int applied = db->migrate();
    std::cout << "database " << cfg.database.path.string() << ": applied " << applied << " migration(s), schema version "
              << db->schema_version() << "\n";
    return exit_success;
}

int cmd_daemon(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config", "--every", "--at"}, {});
    daemon_options o;
    const auto cfg = a.value("--config");
    if (!cfg) throw usage_error("`daemon` needs --config FILE");
    o.config_file = *cfg;
    if (a.value("--every") && a.value("--at")) throw usage_error("give --every or --at, not both");
    if (auto e = a.value("--every")) {
        try {
            o.every = parse_duration(*e);
        } catch (const std::invalid_argument& err) {
            throw usage_error(std::string("--every: ") + err.what());
        }
    } else if (auto at = a.value("--at")) {
        const std::string& v = *at;
        const bool ok = v.size() == 5 && v[2] == ':' && std::isdigit(static_cast<unsigned char>(v[0])) &&
                        std::isdigit(static_cast<unsigned char>(v[1])) && std::isdigit(static_cast<unsigned char>(v[3])) &&
                        std::isdigit(static_cast<unsigned char>(v[4]));
        const int h = ok ? std::stoi(v.substr(0, 2)) : 99, m = ok ? std::stoi(v.substr(3)) : 99;
        if (h > 23 || m > 59) throw usage_error("--at takes a UTC time HH:MM (e.g. 03:00), got " + v);
        o.daily_minute = h * 60 + m;
    } else {
        throw usage_error("`daemon` needs --every DURATION (e.g. 6h) or --at HH:MM (UTC)");
    }
    return run_daemon(o);
}

int cmd_inspect(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config", "--user"}, {"--json"});
    const auto email = a.value("--user");
    if (!email) throw usage_error("`inspect` needs --user EMAIL");
    const config cfg = config_from(a);
    const auto account = inspect_user(cfg, *email);
    if (a.flag("--json")) std::cout << boost::json::serialize(account) << "\n";
    else std::cout << format_inspect(account);
    return exit_success;
}

std::int64_t count_arg(const args& a, const std::string& name) {
    const std::string v = *a.value(name);
    try {
        std::size_t used = 0;
        const long long n = std::stoll(v, &used);
        if (used == v.size()) return n;
    } catch (const std::exception&) {
    }
    throw usage_error(name + " takes a whole number of credits, got \"" + v + "\"");
}

int cmd_adjust(int argc, char** argv) {
    auto a = parse_args(argc, argv,
                        {"--config", "--user", "--grant-credits", "--consume-credits", "--set-tier", "--reason"},
                        {"--force"});
    adjust_request req;
    const auto email = a.value("--user");
    if (!email) throw usage_error("`adjust` needs --user EMAIL");
    req.email = *email;
    if (a.value("--grant-credits")) req.grant_credits = count_arg(a, "--grant-credits");
    if (a.value("--consume-credits")) req.consume_credits = count_arg(a, "--consume-credits");
    req.set_tier = a.value("--set-tier");
    if (auto r = a.value("--reason")) req.reason = *r;
    req.force = a.flag("--force");
    const config cfg = config_from(a);
    const auto line = adjust_user(cfg, req);
    std::cout << "done: " << boost::json::serialize(line.at("change")) << " for " << req.email
              << "\ncorrelation id: " << std::string(line.at("correlation_id").as_string()) << "  (paste it into the ticket)\n";
    return exit_success;
}

int cmd_revert(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config"}, {});
    if (a.positional.size() != 1) throw usage_error("`revert` needs exactly one CORRECTION_ID");
    std::int64_t id = 0;
    try {
        std::size_t used = 0;
        id = std::stoll(a.positional[0], &used);
        if (used != a.positional[0].size() || id <= 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
        throw usage_error("CORRECTION_ID must be a positive integer (the report's correction_id), got " +
                          a.positional[0]);
    }
    const config cfg = config_from(a);
    auto db = store::open_sqlite_store({cfg.database.path, cfg.database.busy_timeout, false});
    db->check_schema();
    const auto r = db->revert(id, store::random_correlation_id());
    boost::json::object change;
    if (r.kind == "set_tier") change["plan"] = boost::json::object{{"from", r.tier_from}, {"to", r.tier_to}};
    else change["ai_credits"] = boost::json::object{{"delta", r.credits_delta}};
    log::info("entitlement_change", {{"action", "correction_reverted"},
                                     {"correlation_id", r.correlation_id},
                                     {"user_id", r.user_id},
                                     {"correction_id", id},
                                     {"change", std::move(change)},
                                     {"actor", "stripe-reconciler"}});
    std::cout << "reverted correction " << id << " (" << r.kind << ") for user " << r.user_id
              << "; correlation id " << r.correlation_id << "\n";
    return exit_success;
}

int cmd_replay(int argc, char** argv) {
    auto a = parse_args(argc, argv, {"--config", "--forward-to", "--ca-file"}, {});
    if (a.positional.size() != 1) throw usage_error("`replay` needs exactly one EVENT_ID");
    const auto url = a.value("--forward-to");
    if (!url || url->empty()) throw usage_error("`replay` needs --forward-to URL (the app's webhook endpoint)");
    replay_options o;
    o.event_id = a.positional[0];
    o.forward_to = *url;
    if (auto ca = a.value("--ca-file")) o.ca_file = *ca;
    const config cfg = config_from(a);
    const replay_result r = replay_event(cfg, o);
    std::cout << format_replay(r) << std::flush;
    return r.succeeded() ? exit_success : exit_run_failed;
}

}  // namespace detail

int cli_main(int argc, char** argv) {
    using namespace detail;
    const std::string command = argc >= 2 ? argv[1] : "";
    try {
        if (command == "run") return cmd_run(argc, argv);
        if (command == "migrate") return cmd_migrate(argc, argv);
        if (command == "revert") return cmd_revert(argc, argv);
        if (command == "inspect") return cmd_inspect(argc, argv);
        if (command == "daemon") return cmd_daemon(argc, argv);
        if (command == "adjust") return cmd_adjust(argc, argv);
        if (command == "replay") return cmd_replay(argc, argv);
        if (command == "version" || command == "--version") {
            std::cout << "stripe-reconciler 0.1.0\n";
            return exit_success;
        }
        if (command == "help" || command == "--help" || command == "-h") {
            std::cout << usage_text;
            return exit_success;
        }
        throw usage_error(command.empty() ? "no command given" : "unknown command `" + command + "`");
    } catch (const usage_error& e) {
        std::cerr << "reconciler: " << e.what() << "\n\n" << usage_text;
        return exit_usage;
    } catch (const support_refusal& e) {
        std::cerr << "reconciler: " << command << " refused: " << e.what() << "\n";
        return exit_usage;
    } catch (const run_locked_error& e) {
        std::cerr << "reconciler: " << e.what() << "\n";
        return exit_locked;
    } catch (const config_error& e) {
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const store::schema_error& e) {
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const std::invalid_argument& e) {
        // make_beast_transport's refusals (bad URL, plain http, unreadable CA): setup problems.
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const store::store_error& e) {
        std::cerr << "reconciler: " << command << " failed: " << log::redact(e.what()) << "\n";
        return exit_run_failed;
    } catch (const std::exception& e) {
        std::cerr << "reconciler: " << command << " failed: " << log::redact(e.what()) << "\n";
        return exit_run_failed;
    }
}

}  // namespace reconciler
