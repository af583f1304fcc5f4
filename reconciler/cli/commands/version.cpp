// `reconciler version` and `reconciler help`: kept beside --version and --help
// for the scripts that call them.
#include "cli/commands/commands.hpp"

#include "pipeline/run.hpp"

#include <iostream>

namespace reconciler::cli {

std::string version_text() { return std::string("stripe-reconciler ") + RECONCILER_VERSION; }

action add_version(CLI::App& app) {
    app.add_subcommand("version", "Print the version.");
    return [] {
        std::cout << version_text() << "\n";
        return int(exit_success);
    };
}

action add_help(CLI::App& app) {
    app.add_subcommand("help", "Print this help.");
    return [&app] {
        std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
