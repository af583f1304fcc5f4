// `reconciler daemon`: runs on a schedule until SIGTERM (cli/daemon.hpp).
#include "cli/commands/commands.hpp"

#include "cli/daemon.hpp"
#include "core/timeutil.hpp"

#include <cctype>
#include <memory>

namespace reconciler::cli {

namespace {

struct daemon_args {
    std::string config, every, at;
};

// "HH:MM" (UTC) as a minute of the day.
int daily_minute(const std::string& v) {
    const auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(v[i])) != 0; };
    const bool ok = v.size() == 5 && v[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
    const int h = ok ? std::stoi(v.substr(0, 2)) : 99, m = ok ? std::stoi(v.substr(3)) : 99;
    if (h > 23 || m > 59) throw usage_error("--at takes a UTC time HH:MM (e.g. 03:00), got " + v);
    return h * 60 + m;
}

}  // namespace

action add_daemon(CLI::App& app, const environment& env) {
    auto a = std::make_shared<daemon_args>();
    auto* cmd = app.add_subcommand(
        "daemon", "Run on a schedule (an interval, or daily at a UTC time) until SIGTERM; SIGHUP reloads the config.");
    add_config_option(*cmd, a->config, env);
    auto* every = cmd->add_option("--every", a->every, "Run at start, then every DURATION (e.g. 6h)")
                      ->type_name("DURATION");
    auto* at = cmd->add_option("--at", a->at, "Run daily at this UTC time (e.g. 03:00)")->type_name("HH:MM");
    return [a, every, at] {
        daemon_options o;
        o.config_file = a->config;
        if (every->count() > 0 && at->count() > 0) throw usage_error("give --every or --at, not both");
        if (every->count() > 0) {
            try {
                o.every = parse_duration(a->every);
            } catch (const std::invalid_argument& err) {
                throw usage_error(std::string("--every: ") + err.what());
            }
        } else if (at->count() > 0) {
            o.daily_minute = daily_minute(a->at);
        } else {
            throw usage_error("`daemon` needs --every DURATION (e.g. 6h) or --at HH:MM (UTC)");
        }
        return run_daemon(o);
    };
}

}  // namespace reconciler::cli
