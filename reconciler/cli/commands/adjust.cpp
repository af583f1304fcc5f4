// `reconciler adjust`: one manual change to an account (runbook §3).
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "cli/support.hpp"

#include <boost/json/serialize.hpp>

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct adjust_args {
    std::string config, user, grant, consume, tier, reason;
    bool force = false;
};

}  // namespace

action add_adjust(CLI::App& app, const environment& env) {
    auto a = std::make_shared<adjust_args>();
    auto* cmd = app.add_subcommand(
        "adjust", "Make one change to an account in one transaction; prints the correlation id for the ticket.");
    cmd->footer("Give exactly one of --grant-credits, --consume-credits, --set-tier.");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("--user", a->user, "The user's email address")->type_name("EMAIL");
    auto* grant = cmd->add_option("--grant-credits", a->grant, "Grant N ai_credits")->type_name("N");
    auto* consume = cmd->add_option("--consume-credits", a->consume, "Consume N ai_credits")->type_name("N");
    auto* tier = cmd->add_option("--set-tier", a->tier, "Set the plan to TIER (one of the config's tiers)")
                     ->type_name("TIER");
    auto* reason = cmd->add_option("--reason", a->reason, "Why (logged; default: support-adjustment)")
                       ->type_name("TEXT");
    cmd->add_flag("--force", a->force, "Allow a consume that takes the balance below zero");
    return [a, grant, consume, tier, reason] {
        if (a->user.empty()) throw usage_error("`adjust` needs --user EMAIL");
        adjust_request req;
        req.email = a->user;
        constexpr const char* credits = "a whole number of credits";
        if (grant->count() > 0) req.grant_credits = whole_number(a->grant, "--grant-credits", credits);
        if (consume->count() > 0) req.consume_credits = whole_number(a->consume, "--consume-credits", credits);
        if (tier->count() > 0) req.set_tier = a->tier;
        if (reason->count() > 0) req.reason = a->reason;
        req.force = a->force;
        const config cfg = load_config(a->config);
        const auto line = adjust_user(cfg, req);
        std::cout << "done: " << boost::json::serialize(line.at("change")) << " for " << req.email
                  << "\ncorrelation id: " << std::string(line.at("correlation_id").as_string())
                  << "  (paste it into the ticket)\n";
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
