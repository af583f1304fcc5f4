// Bookkeeping that survives kills and full disks (issue 19, docs/RELIABILITY.md):
// the real binary SIGKILLed mid-run, with its report directory on a full
// filesystem, and against a database another connection holds.
#include "e2e/e2e_support.hpp"

#include <SQLiteCpp/Database.h>

#include <boost/test/unit_test.hpp>

#include <sys/mount.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

using namespace e2e;

namespace {

std::string run_args(const e2e_env& env) { return "run --config " + env.config.string() + env.window_args(); }

json::object read_json(const fs::path& p) { return json::parse(slurp(p)).as_object(); }

std::vector<std::string> run_dirs(const fs::path& reports) {
    std::vector<std::string> out;
    if (!fs::exists(reports)) return out;
    for (const auto& e : fs::directory_iterator(reports))
        if (e.path().filename().string().rfind("run-", 0) == 0) out.push_back(e.path().filename().string());
    return out;
}

// A rebuilt report (`reconciler report ID --output DIR`): its files, and the ledger's corrections in it.
void check_rebuilt(const e2e_env& env, long long run_id, long long corrections, long long findings) {
    const fs::path dir = env.dir / ("rebuilt-" + std::to_string(run_id));
    auto rb = run(env.dir, "report " + std::to_string(run_id) + " --config " + env.config.string() + " --output " +
                               dir.string());
    BOOST_TEST_INFO("stderr: " << rb.err);
    BOOST_REQUIRE_EQUAL(rb.exit_code, 0);
    for (const char* f : {"report.json", "report.html", "summary.md", "findings.csv", "request_ids.txt"})
        BOOST_TEST(fs::exists(dir / f), f << " missing");
    const auto report = read_json(dir / "report.json");
    BOOST_TEST(report.at("run").at("id").as_int64() == run_id);
    BOOST_TEST(static_cast<long long>(report.at("corrections").as_array().size()) == corrections);
    BOOST_TEST(static_cast<long long>(report.at("findings").as_array().size()) == findings);
    BOOST_TEST(report.at("totals").at("findings").as_int64() == findings);
    BOOST_TEST(slurp(dir / "summary.md").find(std::to_string(run_id)) != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bookkeeping)

// A run SIGKILLed after some corrections committed leaves its row 'running';
// the next run closes it as abandoned with what the ledger says it did, and
// says so in its report, its summary and `inspect --runs`.
BOOST_AUTO_TEST_CASE(a_killed_run_is_closed_as_abandoned_by_the_next_with_its_ledger_counts) {
    reconciler::sim::fault_options slow;
    slow.latency = std::chrono::milliseconds(15);
    e2e_env env(30, slow);
    const pid_t pid = spawn({"run", "--config", env.config.string(), "--since", std::to_string(env.window_start),
                             "--until", std::to_string(env.window_end)},
                            "/dev/null", "/dev/null", {"RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=40"});
    BOOST_REQUIRE(pid > 0);
    for (int i = 0; i < 1500 && env.count("SELECT COUNT(*) FROM recon_corrections") < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE_MESSAGE(kill_after(pid, 0), "the run finished before it could be killed");
    const long long killed = env.count("SELECT MAX(id) FROM recon_runs");
    const std::string where = " WHERE run_id = " + std::to_string(killed);
    const long long committed = env.count("SELECT COUNT(*) FROM recon_corrections" + where);
    const long long findings = env.count("SELECT COUNT(*) FROM recon_findings" + where);
    BOOST_REQUIRE_GE(committed, 2);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'running'") == 1);

    auto next = run(env.dir, run_args(env));
    BOOST_TEST_INFO("stderr: " << next.err);
    BOOST_REQUIRE_EQUAL(next.exit_code, 0);
    const std::string row = " FROM recon_runs WHERE id = " + std::to_string(killed);
    BOOST_TEST(env.count("SELECT COUNT(*)" + row + " AND status = 'abandoned' AND finished_at IS NOT NULL") == 1);
    BOOST_TEST(env.count("SELECT corrections_applied" + row) == committed);
    BOOST_TEST(env.count("SELECT findings" + row) == findings);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'running'") == 0);
    const auto report = env.latest_report();
    BOOST_TEST(report.at("run").at("abandoned_runs").as_int64() == 1);
    const std::string named = "run " + std::to_string(killed) + " (started ";
    const std::string notes = json::serialize(report.at("run").at("notes"));
    BOOST_TEST(notes.find(named) != std::string::npos, notes);
    BOOST_TEST(notes.find(std::to_string(committed) + " corrections") != std::string::npos, notes);
    BOOST_TEST(next.out.find("abandoned runs closed: " + named) != std::string::npos, next.out);

    auto runs = run(env.dir, "inspect --runs --config " + env.config.string());
    BOOST_REQUIRE_EQUAL(runs.exit_code, 0);
    BOOST_TEST(runs.out.find("run " + std::to_string(killed) + "  abandoned") != std::string::npos, runs.out);
    BOOST_TEST(runs.out.find("corrections " + std::to_string(committed)) != std::string::npos, runs.out);

    // The killed run never wrote a report: it can be rebuilt from the database.
    check_rebuilt(env, killed, committed, findings);
    auto none = run(env.dir, "report 999 --config " + env.config.string());
    BOOST_TEST(none.exit_code == 2);
    BOOST_TEST(none.err.find("no run 999 in database") != std::string::npos, none.err);
}

// The report directory on a filesystem that fills up during the run: the
// run exits 1 saying so, its corrections stay committed, its row counts them
// from the ledger, and `reconciler report ID` rebuilds the report elsewhere.
BOOST_AUTO_TEST_CASE(a_full_report_disk_fails_the_run_and_the_report_can_be_rebuilt) {
    e2e_env env(60);
    const fs::path small = env.dir / "small";
    fs::create_directories(small);
    if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k,mode=0750") != 0) {
        BOOST_WARN_MESSAGE(false, "skipped: cannot mount a small tmpfs here (needs root): " << std::strerror(errno));
        return;
    }
    struct unmount {
        fs::path at;
        ~unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount_after{small};
    env.edit_config("dir: reports", "dir: small");

    auto r = run(env.dir, run_args(env));
    BOOST_TEST_MESSAGE("a run on a full disk says:\n" << r.out);
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    const long long id = env.count("SELECT MAX(id) FROM recon_runs");
    BOOST_TEST(r.out.find("the report could not be written") != std::string::npos);
    BOOST_TEST(r.out.find("reconciler report " + std::to_string(id)) != std::string::npos);
    const std::string where = " WHERE run_id = " + std::to_string(id);
    const long long committed = env.count("SELECT COUNT(*) FROM recon_corrections" + where);
    const long long findings = env.count("SELECT COUNT(*) FROM recon_findings" + where);
    BOOST_REQUIRE_GT(committed, 0);
    // The summary counts what was applied once, as the ledger does.
    BOOST_TEST(r.out.find("(applied " + std::to_string(committed) + ",") != std::string::npos);
    const std::string row = " FROM recon_runs WHERE id = " + std::to_string(id);
    BOOST_TEST(env.count("SELECT COUNT(*)" + row + " AND status = 'failed'") == 1);
    BOOST_TEST(env.count("SELECT corrections_applied" + row) == committed);
    BOOST_TEST(env.count("SELECT findings" + row) == findings);
    BOOST_TEST(!fs::exists(small / ("run-" + std::to_string(id)) / "report.json"));

    check_rebuilt(env, id, committed, findings);
}

// Another writer holds the database past the busy timeout when the run
// begins: the error names the database and what to do, and no report
// directory is left behind.
BOOST_AUTO_TEST_CASE(a_locked_database_is_named_with_the_fix_and_leaves_no_report_dir) {
    e2e_env env(30);
    env.edit_config("path: app.db", "path: app.db\n  busy_timeout: 1s");
    SQLite::Database holder((env.dir / "app.db").string(), SQLite::OPEN_READWRITE);
    holder.exec("BEGIN EXCLUSIVE");
    auto r = run(env.dir, run_args(env));
    holder.exec("ROLLBACK");
    BOOST_TEST_MESSAGE("a run on a locked database says: " << r.err);
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(r.exit_code == 1);
    for (const char* needle : {"app.db is locked", "another writer", "the app or a second tool", "retry later",
                               "database.busy_timeout"})
        BOOST_TEST(r.err.find(needle) != std::string::npos, "no \"" << needle << "\"");
    BOOST_TEST(run_dirs(env.dir / "reports").empty());
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'running'") == 0);
}

// The database is taken by another writer while the run applies: the run
// fails naming it and the fix, its report is still written (not an empty
// directory), and the row it could not close is closed by the next run.
BOOST_AUTO_TEST_CASE(a_database_locked_mid_run_still_gets_a_report_and_its_row_closed) {
    reconciler::sim::fault_options slow;
    slow.latency = std::chrono::milliseconds(15);
    e2e_env env(30, slow);
    env.edit_config("path: app.db", "path: app.db\n  busy_timeout: 1s");
    const pid_t pid = spawn({"run", "--config", env.config.string(), "--since", std::to_string(env.window_start),
                             "--until", std::to_string(env.window_end)},
                            env.dir / "run.out", env.dir / "run.err", {"RECONCILER_CRASH_TEST_APPLY_PAUSE_MS=40"});
    BOOST_REQUIRE(pid > 0);
    for (int i = 0; i < 1500 && env.count("SELECT COUNT(*) FROM recon_corrections") < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    SQLite::Database holder((env.dir / "app.db").string(), SQLite::OPEN_READWRITE, 5000);
    holder.exec("BEGIN EXCLUSIVE");
    const int code = wait_exit(pid);  // held until the run has given up
    holder.exec("ROLLBACK");
    const std::string out = slurp(env.dir / "run.out");
    BOOST_TEST_INFO("stdout: " << out << "\nstderr: " << slurp(env.dir / "run.err"));
    BOOST_TEST(code == 1);
    BOOST_TEST(out.find("app.db is locked") != std::string::npos);
    BOOST_TEST(out.find("another writer") != std::string::npos);
    const long long id = env.count("SELECT MAX(id) FROM recon_runs");
    const fs::path report = env.dir / "reports" / ("run-" + std::to_string(id)) / "report.json";
    BOOST_REQUIRE(fs::exists(report));
    BOOST_TEST(read_json(report).at("run").at("status").as_string() == "failed");
    // Its row could not be closed while the lock was held: the next run closes it.
    BOOST_REQUIRE_EQUAL(run(env.dir, run_args(env)).exit_code, 0);
    BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs WHERE status = 'running'") == 0);
    BOOST_TEST(env.count("SELECT corrections_applied FROM recon_runs WHERE id = " + std::to_string(id)) ==
               env.count("SELECT COUNT(*) FROM recon_corrections WHERE run_id = " + std::to_string(id)));
}

BOOST_AUTO_TEST_SUITE_END()
