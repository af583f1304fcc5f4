// `reconciler replay`: re-delivers one Stripe event to the app's webhook (runbook §4).
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/run.hpp"

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct replay_args {
    std::string config, event_id, forward_to, ca_file;
};

}  // namespace

action add_replay(CLI::App& app, const environment& env) {
    auto a = std::make_shared<replay_args>();
    auto* cmd = app.add_subcommand("replay", "Fetch one event from Stripe and POST it, signed, to the app's webhook.");
    cmd->footer(
        "The event is signed with webhook.secret (runbook §4); prints the app's answer. A failure is recorded;\n"
        "the second failure of an event opens a billing_engineering escalation. Exit 0 when the app answered\n"
        "2xx, 1 otherwise.");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("EVENT_ID", a->event_id, "The Stripe event id (evt_...)");
    cmd->add_option("--forward-to", a->forward_to,
                    "The app's webhook URL: https:// (http:// only to loopback)")
        ->type_name("URL");
    cmd->add_option("--ca-file", a->ca_file, "CA bundle for the app's certificate (default: the system store)")
        ->type_name("FILE");
    return [a] {
        if (a->event_id.empty()) throw usage_error("`replay` needs exactly one EVENT_ID");
        if (a->forward_to.empty()) throw usage_error("`replay` needs --forward-to URL (the app's webhook endpoint)");
        replay_options o;
        o.event_id = a->event_id;
        o.forward_to = a->forward_to;
        o.ca_file = a->ca_file;
        const config cfg = load_config(a->config);
        const replay_result r = replay_event(cfg, o);
        std::cout << format_replay(r) << std::flush;
        return r.succeeded() ? int(exit_success) : int(exit_run_failed);
    };
}

}  // namespace reconciler::cli
