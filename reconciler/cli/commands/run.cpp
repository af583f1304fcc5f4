// `reconciler run`: one reconciliation of a window.
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "report/stdout_summary.hpp"
#include "pipeline/run.hpp"
#include "core/timeutil.hpp"

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct run_args {
    std::string config, since, until;
    bool dry_run = false, exit_code_on_escalation = false;
};

}  // namespace

action add_run(CLI::App& app, const environment& env) {
    auto a = std::make_shared<run_args>();
    auto* cmd = app.add_subcommand("run", "Reconcile the window [since, until) once.");
    cmd->footer(
        "Without --since: from the last checkpoint minus window.overlap (first run: window.default_lookback\n"
        "before now). TIME is RFC 3339 (2026-11-24T03:00:00Z), a date, a unix time, or a duration before now\n"
        "(72h, 30d).");
    add_config_option(*cmd, a->config, env);
    auto* since = cmd->add_option("--since", a->since, "Start of the window (inclusive)")->type_name("TIME");
    auto* until = cmd->add_option("--until", a->until, "End of the window (exclusive; default: now)")->type_name("TIME");
    cmd->add_flag("--dry-run", a->dry_run, "Find and report, change nothing");
    cmd->add_flag("--exit-code-on-escalation", a->exit_code_on_escalation,
                  "Exit 4 when the run succeeded but opened new escalations");
    return [a, since, until] {
        const config cfg = load_config(a->config);
        run_options opts;
        opts.dry_run = a->dry_run;
        const auto now = now_unix();
        try {
            if (since->count() > 0) opts.since = parse_time_arg(a->since, now);
            if (until->count() > 0) opts.until = parse_time_arg(a->until, now);
        } catch (const std::invalid_argument& e) {
            throw usage_error(std::string("--since/--until: ") + e.what());
        }
        const run_result r = run_once(cfg, opts);
        std::cout << format_summary(r) << std::flush;
        if (!r.succeeded) return int(exit_run_failed);
        if (a->exit_code_on_escalation && r.new_escalations > 0) return int(exit_new_escalations);
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
