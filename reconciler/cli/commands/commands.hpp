// The commands: each file adds its subcommand (options, help text) to the
// parser and returns the action that runs it with what was parsed. An action
// returns the exit code (app/run.hpp) and throws for failures; cli.cpp maps
// those to one stderr line and the documented exit code.
#pragma once

#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace reconciler::cli {

using action = std::function<int()>;

action add_run(CLI::App& app, const environment& env);
action add_migrate(CLI::App& app, const environment& env);
action add_revert(CLI::App& app, const environment& env);
action add_daemon(CLI::App& app, const environment& env);
action add_inspect(CLI::App& app, const environment& env);
action add_adjust(CLI::App& app, const environment& env);
action add_replay(CLI::App& app, const environment& env);
action add_check_config(CLI::App& app, const environment& env);
action add_escalations(CLI::App& app, const environment& env);
action add_report(CLI::App& app, const environment& env);
action add_version(CLI::App& app);
action add_help(CLI::App& app);  // `reconciler help`: the top-level help, as before --help existed

// "stripe-reconciler <project version>"
std::string version_text();

}  // namespace reconciler::cli
