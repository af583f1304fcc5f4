#include "cli/parser.hpp"

#include "core/json_log.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace reconciler::cli {

namespace {

std::string footer_text() {
    return std::string("Run `reconciler COMMAND --help` for a command's options. --config defaults to\n"
                       "$RECONCILER_CONFIG, else ") +
           default_config_file +
           ".\n\n"
           "The Stripe key and the webhook secret are read from the sources named in the config\n"
           "(stripe.key, webhook.secret: env, file or systemd credential), never from the command line.\n\n"
           "Exit codes: 0 success, 1 run (or replay) failed or Stripe/the database unreachable,\n"
           "2 usage/config/schema error, 3 locked, 4 success with new escalations (only with\n"
           "--exit-code-on-escalation).";
}

// A secret on the command line is visible in ps and shell history: these
// names are refused before parsing, and the value is never echoed.
void refuse_secret_options(const std::vector<std::string>& args) {
    for (const auto& arg : args) {
        const std::string name = arg.substr(0, arg.find('='));
        std::string source;
        if (name == "--api-key" || name == "--key" || name == "--stripe-key") source = "stripe.key";
        if (name == "--secret" || name == "--webhook-secret" || name == "--signing-secret") source = "webhook.secret";
        if (!source.empty())
            throw usage_error(name + ": secrets are never taken from the command line (it is visible in ps and "
                                     "shell history); configure " + source + " (env, file or credential)");
    }
}

bool is_option(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

std::vector<std::string> option_names(const CLI::App& cmd) {
    std::vector<std::string> names;
    for (const CLI::Option* o : cmd.get_options())
        for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    return names;
}

std::vector<std::string> command_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    return names;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& names) {
    const auto best = closest_name(typed, std::vector<std::string_view>(names.begin(), names.end()));
    return best ? "; did you mean " + std::string(*best) + "?" : "";
}

// The first argument nothing took, as a usage error. `cmd` is the command
// it was given to (the top level when it is null).
[[noreturn]] void refuse_leftover(const std::string& arg, const CLI::App& top, const CLI::App* cmd) {
    if (is_option(arg)) {
        // Only the name: what follows '=' may be anything, a secret included.
        const std::string name = log::redact(arg.substr(0, arg.find('=')));
        throw usage_error("unknown option " + name + (cmd ? " for `" + cmd->get_name() + "`" : "") +
                          did_you_mean(name, option_names(cmd ? *cmd : top)));
    }
    if (!cmd) throw usage_error("unknown command " + quote(log::redact(arg)) + did_you_mean(arg, command_names(top)));
    throw usage_error("unexpected argument " + quote(log::redact(arg)) + " for `" + cmd->get_name() + "`");
}

}  // namespace

command_line::command_line(const environment& env)
    : app_("stripe-reconciler: reconciles Stripe billing with the app's database.", "reconciler"), env_(env) {
    app_.set_version_flag("--version", version_text(), "Print the version and exit");
    // Leftovers are diagnosed here (chosen()), with a suggestion, not by CLI11.
    app_.allow_extras();
    // As before CLI11: an option given twice takes its last value.
    app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app_.get_formatter()->column_width(34);
    app_.get_formatter()->label("SUBCOMMAND", "COMMAND");

    const auto add = [this](action a) { actions_.emplace(app_.get_subcommands([](CLI::App*) { return true; }).back(), std::move(a)); };
    add(add_run(app_, env));
    add(add_migrate(app_, env));
    add(add_check_config(app_, env));
    add(add_inspect(app_, env));
    add(add_adjust(app_, env));
    add(add_revert(app_, env));
    add(add_replay(app_, env));
    add(add_escalations(app_, env));
    add(add_report(app_, env));
    add(add_daemon(app_, env));
    add(add_version(app_));
    add(add_help(app_));
    // Global: on the top level and on every command, so it may come anywhere.
    const auto add_log_format = [this](CLI::App& a) {
        a.add_option("--log-format", log_format_,
                     "Log lines on stderr: json or text [default: text on a terminal, else json; "
                     "$RECONCILER_LOG_FORMAT]")
            ->type_name("json|text");
    };
    add_log_format(app_);
    for (CLI::App* cmd : app_.get_subcommands([](CLI::App*) { return true; })) {
        cmd->group("Commands");
        add_log_format(*cmd);
    }
    app_.footer(footer_text());  // after the commands: they would inherit it
}

action command_line::parse(std::vector<std::string> args) {
    refuse_secret_options(args);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app_.parse(args);
    const action& a = actions_.at(&chosen());
    apply_log_format(log_format_, env_);
    return a;
}

CLI::App& command_line::chosen() {
    const auto chosen = app_.get_subcommands();
    const auto top_left = app_.remaining();
    if (chosen.empty()) {
        if (top_left.empty()) throw usage_error("no command given");
        refuse_leftover(top_left.front(), app_, nullptr);
    }
    CLI::App& cmd = *chosen.front();
    const auto left = cmd.remaining();
    if (!left.empty()) refuse_leftover(left.front(), app_, &cmd);
    if (!top_left.empty()) refuse_leftover(top_left.front(), app_, nullptr);
    return cmd;
}

std::string command_line::command() const {
    const auto chosen = app_.get_subcommands();
    return chosen.empty() ? "" : chosen.front()->get_name();
}

}  // namespace reconciler::cli
