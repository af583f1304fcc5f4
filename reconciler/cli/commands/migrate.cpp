// `reconciler migrate`: creates or upgrades the reconciler's tables.
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <iostream>
#include <memory>

namespace reconciler::cli {

action add_migrate(CLI::App& app, const environment& env) {
    auto path = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("migrate", "Create or upgrade the reconciler's tables in the app database.");
    add_config_option(*cmd, *path, env);
    return [path] {
        const config cfg = load_config(*path);
        auto db = open_store(cfg);
        const int applied = db->migrate();
        std::cout << "database " << database_name(cfg) << ": applied " << applied
                  << " migration(s), schema version " << db->schema_version() << "\n";
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
