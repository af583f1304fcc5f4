// The command line through run_cli() (argv in, exit code out, stdout and
// stderr captured), and a few runs of the real binary.
#include "cli/cli.hpp"
#include "cli/options.hpp"
#include "core/json_log.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using reconciler::cli::environment;

namespace {

struct outcome {
    int code = -1;
    std::string out, err;
};

// Runs the command line in this process with std::cout/std::cerr captured.
outcome cli(std::vector<std::string> args, const environment& env = {}) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    outcome o;
    try {
        o.code = reconciler::cli::run_cli(std::move(args), env);
    } catch (...) {
        std::cout.rdbuf(old_out);
        std::cerr.rdbuf(old_err);
        throw;
    }
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    o.out = out.str();
    o.err = err.str();
    return o;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

const fs::path fixtures = RECONCILER_FIXTURES_DIR;

struct temp_dir {
    fs::path path = fs::temp_directory_path() / ("recon-cli-" + std::to_string(std::random_device{}()));
    temp_dir() { fs::create_directories(path); }
    ~temp_dir() { fs::remove_all(path); }
};

// The real binary, through the shell; stdout and stderr to files.
outcome real(const std::string& args, const temp_dir& dir) {
    const fs::path out = dir.path / "out.txt", err = dir.path / "err.txt";
    const int status = std::system((std::string(RECONCILER_BIN) + " " + args + " >" + out.string() + " 2>" +
                                    err.string()).c_str());
    auto slurp = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_parsing)

BOOST_AUTO_TEST_CASE(every_command_has_help_naming_its_options) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
        {"run", {"--config", "--since", "--until", "--dry-run", "--exit-code-on-escalation", "--log-format"}},
        {"migrate", {"--config"}},
        {"check-config", {"--config", "--connect"}},
        {"inspect", {"--config", "--user", "--json"}},
        {"adjust", {"--config", "--user", "--grant-credits", "--consume-credits", "--set-tier", "--reason", "--force"}},
        {"revert", {"--config", "CORRECTION_ID"}},
        {"replay", {"--config", "EVENT_ID", "--forward-to", "--ca-file"}},
        {"daemon", {"--config", "--every", "--at"}},
        {"version", {}},
        {"help", {}},
    };
    for (const auto& [command, options] : commands) {
        for (const char* flag : {"--help", "-h"}) {
            BOOST_TEST_CONTEXT(command << " " << flag) {
                const auto r = cli({command, flag});
                BOOST_TEST(r.code == 0);
                BOOST_TEST(r.err.empty(), r.err);
                BOOST_TEST(has(r.out, "reconciler " + command), r.out);
                for (const auto& o : options) BOOST_TEST(has(r.out, o), o << " missing from\n" << r.out);
            }
        }
    }
    // -h anywhere, even after options and with a required value missing.
    const auto late = cli({"daemon", "--config", "x.yaml", "-h"});
    BOOST_TEST(late.code == 0);
    BOOST_TEST(has(late.out, "--every"));
}

BOOST_AUTO_TEST_CASE(top_level_help_lists_every_command_and_the_exit_codes) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
        const auto r = cli(args);
        BOOST_TEST(r.code == 0);
        for (const char* c : {"run", "migrate", "check-config", "inspect", "adjust", "revert", "replay", "daemon",
                              "version"})
            BOOST_TEST(has(r.out, c), c << " missing from\n" << r.out);
        BOOST_TEST(has(r.out, "Exit codes"));
        BOOST_TEST(has(r.out, "never from the command line"));
    }
}

BOOST_AUTO_TEST_CASE(version_is_the_project_version) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"--version"}, {"version"}}) {
        const auto r = cli(args);
        BOOST_TEST(r.code == 0);
        BOOST_TEST(r.out == "stripe-reconciler " + std::string(RECONCILER_TEST_VERSION) + "\n");
    }
}

BOOST_AUTO_TEST_CASE(a_mistyped_option_or_command_is_one_line_exit_2_with_a_suggestion) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"run", "--sincee", "72h"}, "unknown option --sincee for `run`; did you mean --since?"},
        {{"run", "--dryrun"}, "did you mean --dry-run?"},
        {{"adjust", "--grant-credit=5"}, "unknown option --grant-credit for `adjust`; did you mean --grant-credits?"},
        {{"daemon", "--evry", "1h"}, "did you mean --every?"},
        {{"rnu"}, "unknown command \"rnu\"; did you mean run?"},
        {{"chek-config"}, "did you mean check-config?"},
        {{"run", "--zzzzzzzz"}, "unknown option --zzzzzzzz for `run` (see `reconciler run --help`)"},
        {{"run", "stray"}, "unexpected argument \"stray\" for `run`"},
        {{}, "no command given"},
        {{"run", "--since"}, "--since"},
        {{"revert", "abc"}, "CORRECTION_ID"},
        {{"revert"}, "`revert` needs exactly one CORRECTION_ID"},
        {{"replay", "evt_1"}, "--forward-to"},
        {{"daemon"}, "`daemon` needs --every DURATION (e.g. 6h) or --at HH:MM (UTC)"},
        {{"daemon", "--every", "1h", "--at", "03:00"}, "give --every or --at, not both"},
        {{"daemon", "--at", "25:00"}, "--at takes a UTC time HH:MM"},
        {{"adjust", "--user", "a@example.com", "--grant-credits", "x"}, "--grant-credits takes a whole number"},
    };
    for (const auto& [args, message] : cases) {
        BOOST_TEST_CONTEXT(message) {
            const auto r = cli(args);
            BOOST_TEST(r.code == 2);
            BOOST_TEST(lines(r.err) == 1u, r.err);
            BOOST_TEST(r.err.rfind("reconciler: ", 0) == 0u, r.err);
            BOOST_TEST(has(r.err, message), r.err);
            BOOST_TEST(r.out.empty(), r.out);
        }
    }
}

BOOST_AUTO_TEST_CASE(secrets_on_the_command_line_are_refused_unechoed) {
    const std::string key = "sk_test_CLI_do_not_echo_91b2";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--api-key", key}, {"run", "--stripe-key=" + key},
          {"replay", "evt_1", "--webhook-secret", "whsec_CLI_x"}, {"run", "--apikey=" + key}}) {
        const auto r = cli(args);
        BOOST_TEST(r.code == 2);
        BOOST_TEST(lines(r.err) == 1u, r.err);
        BOOST_TEST(!has(r.err, key), r.err);
        BOOST_TEST(!has(r.err, "whsec_CLI_x"), r.err);
    }
    // No option takes a secret: none is named like one.
    const auto help = cli({"run", "--help"});
    BOOST_TEST(!has(help.out, "key"));
}

BOOST_AUTO_TEST_CASE(config_defaults_to_the_environment_then_etc) {
    using reconciler::cli::default_config_path;
    BOOST_TEST(default_config_path("") == fs::path("/etc/stripe-reconciler/reconciler.yaml"));
    BOOST_TEST(default_config_path("/srv/r.yaml") == fs::path("/srv/r.yaml"));

    // Without --config: $RECONCILER_CONFIG (here the fixture) is what is read...
    const fs::path good = fixtures / "config" / "minimal.yaml";
    auto r = cli({"check-config"}, environment{good.string(), ""});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(has(r.out, "config " + good.string() + ": ok"), r.out);
    // ...--config wins over it...
    r = cli({"check-config", "--config", "/nonexistent/given.yaml"}, environment{good.string(), ""});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(has(r.err, "/nonexistent/given.yaml"), r.err);
    // ...and without either, /etc/stripe-reconciler/reconciler.yaml.
    if (!fs::exists("/etc/stripe-reconciler/reconciler.yaml")) {
        r = cli({"run"});
        BOOST_TEST(r.code == 2);
        BOOST_TEST(has(r.err, "config /etc/stripe-reconciler/reconciler.yaml: cannot read"), r.err);
        BOOST_TEST(lines(r.err) == 1u, r.err);
    }
    // The help shows the default in force.
    BOOST_TEST(has(cli({"run", "--help"}, environment{"/srv/r.yaml", ""}).out, "/srv/r.yaml"));
}

BOOST_AUTO_TEST_CASE(check_config_on_a_good_and_a_bad_file) {
    const fs::path good = fixtures / "config" / "minimal.yaml";
    auto r = cli({"check-config", "--config", good.string()});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.err.empty(), r.err);
    BOOST_TEST(has(r.out, "config " + good.string() + ": ok (1 prices, database /var/lib/stripe-reconciler/app.db"),
               r.out);

    temp_dir dir;
    const fs::path bad = dir.path / "bad.yaml";
    {
        std::ifstream in(good);
        std::string text(std::istreambuf_iterator<char>(in), {});
        text.replace(text.find("prices:"), 7, "pricez:");
        std::ofstream(bad) << text;
    }
    r = cli({"check-config", "--config", bad.string()});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(lines(r.err) == 1u, r.err);
    BOOST_TEST(has(r.err, "unknown key pricez"), r.err);
    BOOST_TEST(has(r.err, "did you mean prices"), r.err);
    BOOST_TEST(r.out.empty(), r.out);

    // --connect to a database that does not exist: a setup problem, exit 2, named.
    r = cli({"check-config", "--connect", "--config", good.string()});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(has(r.err, "/var/lib/stripe-reconciler/app.db"), r.err);
}

// --log-format json|text, global (before or after the command), over
// $RECONCILER_LOG_FORMAT, over the default (text on a terminal, else JSON:
// ctest's stderr is no terminal).
BOOST_AUTO_TEST_CASE(log_format_option_and_environment) {
    namespace log = reconciler::log;
    std::string line;
    log::set_sink([&](std::string_view l) { line = l; });
    const auto format_after = [&](std::vector<std::string> args, const environment& env = {}) -> std::string {
        const auto r = cli(std::move(args), env);
        BOOST_TEST(r.code == 0, r.err);
        log::info("probe", {{"n", 1}});
        if (line.rfind("{\"ts\":", 0) == 0u) return "json";
        return line.find(" info probe n=1") == 8u ? "text" : line;
    };
    BOOST_TEST(format_after({"version"}) == "json");
    BOOST_TEST(format_after({"--log-format", "text", "version"}) == "text");
    BOOST_TEST(format_after({"version", "--log-format", "text"}) == "text");
    BOOST_TEST(format_after({"version"}) == "json");  // chosen again by each command line
    BOOST_TEST(format_after({"version"}, environment{"", "text"}) == "text");
    BOOST_TEST(format_after({"version", "--log-format=json"}, environment{"", "text"}) == "json");
    log::set_sink({});
    log::set_format(log::format::json);

    auto r = cli({"version", "--log-format", "xml"});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(has(r.err, "--log-format takes json or text, got \"xml\""), r.err);
    r = cli({"version"}, environment{"", "yaml"});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(has(r.err, "$RECONCILER_LOG_FORMAT takes json or text, got \"yaml\""), r.err);
}

BOOST_AUTO_TEST_CASE(the_real_binary) {
    temp_dir dir;
    auto r = real("run --help", dir);
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(has(r.out, "--since"));
    r = real("--version", dir);
    BOOST_TEST(r.code == 0);
    BOOST_TEST(r.out == "stripe-reconciler " + std::string(RECONCILER_TEST_VERSION) + "\n");
    r = real("run --sincee 72h", dir);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(has(r.err, "did you mean --since?"), r.err);
    const fs::path good = fixtures / "config" / "minimal.yaml";
    r = real("check-config --config " + good.string(), dir);
    BOOST_TEST(r.code == 0, r.err);
    r = real("check-config", dir);  // RECONCILER_CONFIG from the environment
    BOOST_TEST((r.code == 0) == (std::getenv("RECONCILER_CONFIG") != nullptr ||
                                 fs::exists("/etc/stripe-reconciler/reconciler.yaml")), r.err);
    ::setenv("RECONCILER_CONFIG", good.c_str(), 1);
    r = real("check-config", dir);
    ::unsetenv("RECONCILER_CONFIG");
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(has(r.out, good.string()), r.out);
}

BOOST_AUTO_TEST_SUITE_END()
