// `reconciler check-config`: validates the config file, and with --connect
// reaches the database and Stripe, without running anything.
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "cli/connect_check.hpp"
#include "pipeline/database.hpp"

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct check_args {
    std::string config;
    bool connect = false;
};

}  // namespace

action add_check_config(CLI::App& app, const environment& env) {
    auto a = std::make_shared<check_args>();
    auto* cmd = app.add_subcommand("check-config", "Validate the config file without running anything.");
    cmd->footer(
        "Exit 0 when everything checked is fine, 2 for a bad config file (or, with --connect, a missing\n"
        "secret, a refused certificate or a database of the wrong schema), 1 when the database or Stripe\n"
        "cannot be reached.");
    add_config_option(*cmd, a->config, env);
    cmd->add_flag("--connect", a->connect,
                  "Also open the database (schema check; one attempt, where a run waits out a failover) and\n"
                  "reach Stripe (GET /v1/events?limit=1)");
    return [a] {
        const config cfg = load_config(a->config);
        std::cout << "config " << cfg.source_file.string() << ": ok (" << cfg.prices.size() << " prices, database "
                  << database_name(cfg) << ", reports in " << cfg.output.dir.string() << ")\n"
                  << std::flush;
        if (!a->connect) return int(exit_success);
        std::cout << check_database(cfg) << "\n" << std::flush;
        std::cout << check_stripe(cfg) << "\n" << std::flush;
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
