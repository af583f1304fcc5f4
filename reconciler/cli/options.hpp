// What every command shares on the command line: the usage error, the
// process environment the parser reads, --config and its default, and the
// whole-number arguments.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace CLI {
class App;
}  // namespace CLI

namespace reconciler::cli {

// A problem with the command line itself: exit 2, one line naming it.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What the command line reads from the process besides argv (tests set it).
struct environment {
    std::string config_env;      // $RECONCILER_CONFIG; empty when unset
    std::string log_format_env;  // $RECONCILER_LOG_FORMAT; empty when unset
};

inline constexpr const char* default_config_file = "/etc/stripe-reconciler/reconciler.yaml";

// $RECONCILER_CONFIG when set and not empty, else default_config_file.
std::filesystem::path default_config_path(std::string_view config_env);

// Adds `--config FILE` to `cmd`; `path` holds the default until parsed.
void add_config_option(CLI::App& cmd, std::string& path, const environment& env);

// The log's format and journald prefix for this process (core/json_log.hpp):
// `option` (--log-format, "" when not given), else $RECONCILER_LOG_FORMAT,
// else text on a terminal and JSON otherwise; the "<N>" priority prefix when
// stderr is the journal. Throws usage_error for a format that is neither.
void apply_log_format(const std::string& option, const environment& env);

// `text` as a whole number, or a usage_error "<name> takes <what>, got "<text>"".
std::int64_t whole_number(const std::string& text, const std::string& name, const std::string& what);

}  // namespace reconciler::cli
