#include "cli/options.hpp"

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
