#include "cli/options.hpp"

#include "core/json_log.hpp"
#include "core/text.hpp"

#include <CLI/CLI.hpp>

namespace reconciler::cli {

std::filesystem::path default_config_path(std::string_view config_env) {
    return config_env.empty() ? std::filesystem::path(default_config_file) : std::filesystem::path(config_env);
}

void add_config_option(CLI::App& cmd, std::string& path, const environment& env) {
    path = default_config_path(env.config_env).string();
    const std::string source = env.config_env.empty() ? "$RECONCILER_CONFIG is unset" : "from $RECONCILER_CONFIG";
    cmd.add_option("--config", path, "The config file [default: " + path + ", " + source + "]")->type_name("FILE");
}

void apply_log_format(const std::string& option, const environment& env) {
    log::format f = log::default_format();
    if (!option.empty()) {
        const auto chosen = log::parse_format(option);
        if (!chosen) throw usage_error("--log-format takes json or text, got " + quote(option));
        f = *chosen;
    } else if (!env.log_format_env.empty()) {
        const auto chosen = log::parse_format(env.log_format_env);
        if (!chosen) throw usage_error("$RECONCILER_LOG_FORMAT takes json or text, got " + quote(env.log_format_env));
        f = *chosen;
    }
    log::set_format(f);
    log::set_priority_prefix(log::stderr_is_journal());
}

std::int64_t whole_number(const std::string& text, const std::string& name, const std::string& what) {
    try {
        std::size_t used = 0;
        const long long n = std::stoll(text, &used);
        if (used == text.size()) return n;
    } catch (const std::exception&) {
    }
    throw usage_error(name + " takes " + what + ", got " + quote(text));
}

}  // namespace reconciler::cli
