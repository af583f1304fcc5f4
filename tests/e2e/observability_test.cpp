// What an on-call engineer reads, from the real binary against the
// simulator (issue 19, "Metrics and logs an on-call engineer can trust"):
// the metrics file after a scheduled run and a by-hand dry run, journald
// priorities and text log lines, and a running reconciler that its own
// user cannot core-dump (the key is in its memory).
#include "e2e_support.hpp"

#include <pty.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

using namespace e2e;

namespace {

// The line of `text` that starts with `prefix` ("" when none does).
std::string line_of(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0) return line;
    return "";
}

std::int64_t value_of(const std::string& line) { return line.empty() ? -1 : std::stoll(line.substr(line.rfind(' ') + 1)); }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

const std::string scheduled_success = "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} ";

// Runs `argv` with stdout+stderr to `log`, as `uid` when it is not this
// process's (through setpriv: this process is root); returns the pid.
pid_t spawn_as(uid_t uid, std::vector<std::string> argv, const fs::path& log) {
    if (uid != ::geteuid()) {
        const std::string id = std::to_string(uid);
        argv.insert(argv.begin(), {"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"});
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (!std::freopen(log.c_str(), "w", stdout) || ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) ::_exit(126);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

bool on_path(const std::string& tool) {
    return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(observability)

// The case: the nightly (scheduled) run succeeded; someone then ran
// a dry run by hand over the same window. Before: the dry run refreshed
// last_success (hiding a broken nightly job) and wrote escalations_open 0
// with escalations open. Now the scheduled series are untouched and the
// escalation gauges are the database's. The file is where
// output.metrics_file says (node_exporter's textfile directory).
BOOST_AUTO_TEST_CASE(a_dry_run_by_hand_leaves_the_scheduled_health_alone) {
    e2e_env env(40);
    fs::create_directories(env.dir / "textfile");
    env.edit_config("output:\n  dir: reports\n",
                    "output:\n  dir: reports\n  metrics_file: textfile/stripe_reconciler.prom\n");
    const fs::path prom = env.dir / "textfile" / "stripe_reconciler.prom";
    const std::string open_sql = "SELECT COUNT(*) FROM recon_escalations WHERE status IN ('open','watching')";

    auto nightly = run(env.dir, "run --config " + env.config.string());  // no window given: scheduled
    BOOST_TEST_INFO("stderr: " << nightly.err);
    BOOST_REQUIRE_EQUAL(nightly.exit_code, 0);
    BOOST_TEST(!fs::exists(env.dir / "reports" / "reconciler.prom"));
    const std::string after_nightly = slurp(prom);
    const std::string success_line = line_of(after_nightly, scheduled_success);
    BOOST_REQUIRE_MESSAGE(!success_line.empty(), after_nightly);
    const long long open = env.count(open_sql);
    BOOST_REQUIRE(open > 0);
    BOOST_TEST(value_of(line_of(after_nightly, "stripe_reconciler_escalations_open ")) == open);

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a later second: a refresh would show
    auto dry = run(env.dir, "run --dry-run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << dry.err);
    BOOST_REQUIRE_EQUAL(dry.exit_code, 0);
    const std::string after_dry = slurp(prom);
    BOOST_TEST(line_of(after_dry, scheduled_success) == success_line, after_dry);
    BOOST_TEST(line_of(after_dry, "stripe_reconciler_last_run_success{mode=\"scheduled\"} ") ==
               line_of(after_nightly, "stripe_reconciler_last_run_success{mode=\"scheduled\"} "));
    const auto dry_success =
        value_of(line_of(after_dry, "stripe_reconciler_last_success_timestamp_seconds{mode=\"dry_run\"} "));
    BOOST_TEST(dry_success > value_of(success_line));
    BOOST_TEST(value_of(line_of(after_dry, "stripe_reconciler_last_run_mode{mode=\"dry_run\"} ")) == 1);
    // The database's gauges are the database's, after a dry run too.
    BOOST_TEST(env.count(open_sql) == open);
    BOOST_TEST(value_of(line_of(after_dry, "stripe_reconciler_escalations_open ")) == open, after_dry);
    long long by_team = 0;
    for (const auto& line : lines_of(after_dry))
        if (line.rfind("stripe_reconciler_escalations_open_by_team{", 0) == 0) by_team += value_of(line);
    BOOST_TEST(by_team == open);
    // A manual rerun of the window has its own series too.
    auto manual = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_REQUIRE_EQUAL(manual.exit_code, 0);
    const std::string after_manual = slurp(prom);
    BOOST_TEST(line_of(after_manual, scheduled_success) == success_line);
    BOOST_TEST(!line_of(after_manual, "stripe_reconciler_last_run_success{mode=\"manual\"} 1").empty());
    BOOST_TEST(!line_of(after_manual, "stripe_reconciler_last_run_success{mode=\"dry_run\"} 1").empty());
}

// Under systemd ($JOURNAL_STREAM names stderr) every line carries its
// priority: `journalctl -p err` finds run_failed, `-p warning` the retries
// and 429s. Each retry is logged with its path, status, attempt and wait.
BOOST_AUTO_TEST_CASE(journald_priorities_and_logged_retries) {
    e2e_options o;
    o.customers = 30;
    o.faults.rate_429 = 1.0;  // Stripe answers nothing but 429
    e2e_env env(o);
    env.edit_config("  request_timeout: 5s\n", "  request_timeout: 5s\n  max_retries: 1\n");

    const fs::path err = env.dir / "stderr.txt";  // what run() redirects stderr to (truncated: same inode)
    std::ofstream{err};
    struct stat st {};
    BOOST_REQUIRE(::stat(err.c_str(), &st) == 0);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    ::unsetenv("JOURNAL_STREAM");
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 1);
    int failed = 0, started = 0, retries = 0;
    for (const auto& line : lines_of(r.err)) {
        BOOST_REQUIRE_MESSAGE(line.size() > 3 && line[0] == '<' && line[2] == '>', "no priority prefix: " << line);
        const auto v = json::parse(line.substr(3)).as_object();
        const std::string event(v.at("event").as_string());
        if (event == "run_failed") failed += line[1] == '3';
        if (event == "run_started") started += line[1] == '6';
        if (event == "request_retry") {
            BOOST_TEST(line[1] == '4');
            BOOST_TEST(v.at("status").as_int64() == 429);
            BOOST_TEST(v.at("path").as_string().starts_with("/v1/"));
            BOOST_TEST(v.at("attempt").as_int64() == 2);
            BOOST_TEST(v.contains("wait_ms"));
            BOOST_TEST(v.at("request_id").as_string().starts_with("req_"));
            ++retries;
        }
    }
    BOOST_TEST(failed == 1);
    BOOST_TEST(started == 1);
    BOOST_TEST(retries >= 1);
    const std::string prom = slurp(env.dir / "reports" / "reconciler.prom");
    BOOST_TEST(value_of(line_of(prom, "stripe_reconciler_last_run_rate_limited{mode=\"manual\"} ")) >= retries, prom);

    // A setup refusal's plain line (exit 2) is filed as an error too.
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    r = run(env.dir, "run --config " + env.config.string() + " --since yesterday-ish");
    ::unsetenv("JOURNAL_STREAM");
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.err.rfind("<3>reconciler: ", 0) == 0u, r.err);

    // Stderr redirected elsewhere (a child of the service, a shell): no prefix.
    ::setenv("JOURNAL_STREAM", "1:1", 1);
    r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    ::unsetenv("JOURNAL_STREAM");
    for (const auto& line : lines_of(r.err)) BOOST_TEST(line[0] == '{', line);

    // --log-format text: lines for a person.
    r = run(env.dir, "--log-format text run --config " + env.config.string() + env.window_args());
    BOOST_TEST(r.exit_code == 1);
    const auto text = lines_of(r.err);
    BOOST_REQUIRE(!text.empty());
    for (const auto& line : text) BOOST_TEST((line.size() > 9 && line[2] == ':' && line[5] == ':' && line[8] == ' '), line);
    BOOST_TEST(r.err.find(" info run_started run_id=") != std::string::npos, r.err);
    BOOST_TEST(r.err.find(" warn request_retry action=") != std::string::npos, r.err);
    BOOST_TEST(r.err.find(" error run_failed run_id=") != std::string::npos, r.err);
}

// On a terminal (stdout and stderr one pty, as in a shell): log lines are
// text, not JSON, and the progress line steps aside for them: each log line
// starts on a cleared line with its clock, never glued to the progress text.
BOOST_AUTO_TEST_CASE(on_a_terminal_log_lines_are_text_and_clear_of_the_progress_line) {
    e2e_env env(40);
    // Slices of an hour: a slice_checkpoint line per slice while the progress line is up.
    std::ofstream(env.config, std::ios::app) << "window:\n  slice: 1h\n";
    std::fflush(stdout);
    std::fflush(stderr);
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        const std::string cfg = env.config.string(), since = std::to_string(env.window_start),
                          until = std::to_string(env.window_end);
        ::execl(RECONCILER_BIN, RECONCILER_BIN, "run", "--config", cfg.c_str(), "--since", since.c_str(), "--until",
                until.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(master);
    BOOST_TEST_INFO("terminal: " << out);
    BOOST_REQUIRE_EQUAL(wait_exit(pid), 0);
    BOOST_TEST(out.find("fetching ") != std::string::npos);  // the progress line was drawn
    BOOST_TEST(out.find("{\"ts\":") == std::string::npos);  // no JSON on a terminal
    int log_lines = 0;
    for (auto line : lines_of(out)) {
        if (line.find(" info ") == std::string::npos && line.find(" warn ") == std::string::npos) continue;
        if (const auto at = line.rfind("\033[K"); at != std::string::npos) line = line.substr(at + 3);
        ++log_lines;
        BOOST_TEST((line.size() > 9 && line[2] == ':' && line[5] == ':' && line[8] == ' '), "garbled: " << line);
    }
    BOOST_TEST(log_lines >= 10);
    BOOST_TEST(out.find(" info slice_checkpoint run_id=") != std::string::npos);
}

// The key is in a running reconciler's memory: `gcore` by its own user (no
// CAP_SYS_PTRACE) must be refused, and its /proc/PID files are root's (the
// kernel's sign of a non-dumpable process). Before prctl(PR_SET_DUMPABLE, 0)
// gcore wrote a core holding the key. The run is paused after its first
// correction (test hook RECONCILER_CRASH_TEST_APPLY_PAUSE_MS): well after
// the key was read.
BOOST_AUTO_TEST_CASE(a_running_reconciler_cannot_be_dumped_by_its_user) {
    const bool root = ::geteuid() == 0;
    if ((root && !on_path("setpriv")) || !on_path("gcore")) {
        BOOST_TEST_MESSAGE("skipped: needs gcore (gdb)" << (root ? " and setpriv" : ""));
        return;
    }
    e2e_env env(60);
    const uid_t user = root ? 65534 : ::geteuid();  // root could ptrace anything: run as nobody
    if (root)
        for (const auto& e : fs::recursive_directory_iterator(env.dir))
            BOOST_REQUIRE(::lchown(e.path().c_str(), user, user) == 0);
    if (root) BOOST_REQUIRE(::chown(env.dir.c_str(), user, user) == 0);

    // Through env(1), not setenv here: see e2e::spawn.
    const pid_t pid = spawn_as(user,
                               {"env", "RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=1500", RECONCILER_BIN, "run", "--config",
                                env.config.string(), "--since", std::to_string(env.window_start), "--until",
                                std::to_string(env.window_end)},
                               env.dir / "run.log");
    bool applying = false;
    for (int i = 0; i < 600 && !applying; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        applying = slurp(env.dir / "run.log").find("\"entitlement_change\"") != std::string::npos;
    }
    BOOST_REQUIRE_MESSAGE(applying, "the run applied nothing: " << slurp(env.dir / "run.log"));

    struct stat st {};
    BOOST_REQUIRE(::stat(("/proc/" + std::to_string(pid) + "/mem").c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 0u, "/proc/PID/mem belongs to uid " << st.st_uid << ": the process is dumpable");

    const pid_t g = spawn_as(user, {"gcore", "-o", (env.dir / "core").string(), std::to_string(pid)},
                             env.dir / "gcore.log");
    const int gcore_exit = wait_exit(g);
    bool core_with_key = false, any_core = false;
    for (const auto& e : fs::directory_iterator(env.dir))
        if (e.path().filename().string().rfind("core.", 0) == 0) {
            any_core = true;
            core_with_key = core_with_key || slurp(e.path()).find(api_key) != std::string::npos;
        }
    ::kill(pid, SIGKILL);
    wait_exit(pid);
    BOOST_TEST(gcore_exit != 0, "gcore by the run's own user succeeded: " << slurp(env.dir / "gcore.log"));
    BOOST_TEST(!any_core);
    BOOST_TEST(!core_with_key, "a core dump of the run holds the Stripe key");
}

BOOST_AUTO_TEST_SUITE_END()
