#include "cli/cli.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "pipeline/run_lock.hpp"
#include "cli/parser.hpp"
#include "cli/support.hpp"
#include "core/json_log.hpp"
#include "store/store.hpp"

#include <cstdlib>
#include <iostream>

namespace reconciler {

namespace cli {

namespace {

int usage_failure(const std::string& problem, const std::string& command) {
    std::cerr << "reconciler: " << log::redact(problem) << " (see `reconciler " << (command.empty() ? "" : command + " ")
              << "--help`)\n";
    return exit_usage;
}

// Runs the parsed command; a failure is one stderr line and its exit code.
int run_command(const std::string& command, const action& run) {
    try {
        return run();
    } catch (const usage_error& e) {
        return usage_failure(e.what(), command);
    } catch (const support_refusal& e) {
        std::cerr << "reconciler: " << command << " refused: " << e.what() << "\n";
        return exit_usage;
    } catch (const run_locked_error& e) {
        std::cerr << "reconciler: " << e.what() << "\n";
        return exit_locked;
    } catch (const config_error& e) {
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const store::schema_error& e) {
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const std::invalid_argument& e) {
        // make_beast_transport's refusals (bad URL, plain http, unreadable CA): setup problems.
        std::cerr << "reconciler: " << log::redact(e.what()) << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "reconciler: " << command << " failed: " << log::redact(e.what()) << "\n";
        return exit_run_failed;
    }
}

}  // namespace

int run_cli(std::vector<std::string> args, const environment& env) {
    command_line line(env);
    action run;
    try {
        run = line.parse(std::move(args));
    } catch (const CLI::Success& e) {  // --help, -h, --version: printed on stdout
        return line.app().exit(e, std::cout, std::cerr);
    } catch (const std::exception& e) {  // CLI::ParseError, usage_error
        return usage_failure(e.what(), line.command());
    }
    return run_command(line.command(), run);
}

}  // namespace cli

int cli_main(int argc, char** argv) {
    const char* config_env = std::getenv("RECONCILER_CONFIG");
    const char* log_format_env = std::getenv("RECONCILER_LOG_FORMAT");
    // Under systemd the plain error lines get a priority too (the log lines
    // get theirs in core/json_log), so `journalctl -p err` shows them.
    if (log::stderr_is_journal()) log::prefix_lines(std::cerr, log::level::error);
    return cli::run_cli(std::vector<std::string>(argv + 1, argv + argc),
                        cli::environment{config_env ? config_env : "", log_format_env ? log_format_env : ""});
}

}  // namespace reconciler
