// The command line's grammar: the top-level help and --version, every command
// (commands/), and the arguments nothing took turned into one usage error
// that names them and suggests the option or command probably meant.
#pragma once

#include "cli/commands/commands.hpp"

#include <map>
#include <string>
#include <vector>

namespace reconciler::cli {

class command_line {
public:
    explicit command_line(const environment& env);
    command_line(const command_line&) = delete;
    command_line& operator=(const command_line&) = delete;

    // Parses `args` (argv without the program name), sets the log's format
    // (--log-format, global: accepted before or after the command) and
    // returns the chosen command's action. Throws CLI::Success for --help/-h/--version (print
    // it with app().exit), CLI::ParseError or usage_error for a bad command line.
    action parse(std::vector<std::string> args);

    CLI::App& app() { return app_; }
    // The command named so far ("" when none was), for messages.
    std::string command() const;

private:
    CLI::App& chosen();  // after parsing; throws usage_error for leftovers

    CLI::App app_;
    std::map<const CLI::App*, action> actions_;
    const environment& env_;
    std::string log_format_;  // --log-format, before or after the command
};

}  // namespace reconciler::cli
