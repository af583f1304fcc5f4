// The command line: parses arguments (cli/parser.hpp), runs the command, and
// maps every failure to one clear line on stderr and a documented exit code
// (app/run.hpp's exit_code; README "Exit codes").
#pragma once

#include "cli/options.hpp"

#include <string>
#include <vector>

namespace reconciler {

// main(): argv as given, the environment from the process.
int cli_main(int argc, char** argv);

namespace cli {

// The same for `args` (argv without the program name) and `env`: what tests call.
int run_cli(std::vector<std::string> args, const environment& env);

}  // namespace cli

}  // namespace reconciler
