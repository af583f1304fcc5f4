// `reconciler inspect`: one account as support needs it (runbook §2).
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "cli/support.hpp"

#include <boost/json/serialize.hpp>

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct inspect_args {
    std::string config, user;
    bool json = false;
};

}  // namespace

action add_inspect(CLI::App& app, const environment& env) {
    auto a = std::make_shared<inspect_args>();
    auto* cmd = app.add_subcommand(
        "inspect", "Show tier, Stripe customer, ai_credits, the last five credit events, open escalations.");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("--user", a->user, "The user's email address")->type_name("EMAIL");
    cmd->add_flag("--json", a->json, "Print the account as one JSON object");
    return [a] {
        if (a->user.empty()) throw usage_error("`inspect` needs --user EMAIL");
        const config cfg = load_config(a->config);
        const auto account = inspect_user(cfg, a->user);
        if (a->json) std::cout << boost::json::serialize(account) << "\n";
        else std::cout << format_inspect(account);
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
