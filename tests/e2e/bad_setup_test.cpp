// Bad setups (docs/RELIABILITY.md has the table): the real binary with a
// broken config, key, database, output directory or TLS setup must say in
// ONE stderr line what is wrong and how to fix it, exit 2, and write nothing:
// no report directory, no run row, the database file untouched.
#include "e2e/e2e_support.hpp"

#include <SQLiteCpp/Database.h>

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

using namespace e2e;

namespace {

struct bad_case {
    std::string name;
    std::function<std::string(const e2e_env&)> setup;  // returns the `run` arguments
    std::vector<std::string> stderr_has;                // the problem and the fix, in the one line
    bool as_nobody = false;                             // run as uid 65534 (root ignores file modes)
};

std::string with_config(const e2e_env& env, const std::string& name, const std::string& from, const std::string& to) {
    auto text = slurp(env.config);
    const auto at = text.find(from);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "config has no " << from);
    text.replace(at, from.size(), to);
    const fs::path p = env.dir / (name + ".yaml");
    std::ofstream(p, std::ios::trunc) << text;
    ::chmod(p.c_str(), 0644);
    return p.string();
}

std::string with_config_file(const std::string& config, const std::string& from, const std::string& to) {
    auto text = slurp(config);
    const auto at = text.find(from);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "config has no " << from);
    text.replace(at, from.size(), to);
    std::ofstream(config, std::ios::trunc) << text;
    return config;
}

std::string run_args(const std::string& config, const e2e_env& env) {
    return "run --config " + config + env.window_args();
}

std::string copy_db(const e2e_env& env, const std::string& name) {
    const fs::path p = env.dir / name;
    env.snapshot_db(p);
    return p.string();
}

std::size_t line_count(const std::string& s) {
    std::size_t n = 0;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ++n;
    return n;
}

// The real binary as uid/gid 65534, for the read-only database case under root.
process_result run_as_nobody(const fs::path& dir, const std::string& args) {
    const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
    std::fflush(stdout);  // or the child's freopen writes the buffer a second time
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Open the output files while still root: nobody cannot create files here.
        if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(125);
        const std::string cmd = std::string(RECONCILER_BIN) + " " + args;
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

std::unique_ptr<reconciler::sim::server> server_with(const e2e_env& env, reconciler::sim::tls_identity id) {
    auto so = env.server_opts;
    so.identity = std::move(id);
    return std::make_unique<reconciler::sim::server>(so);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bad_setup)

BOOST_AUTO_TEST_CASE(every_bad_setup_is_one_clear_line_exit_2_and_writes_nothing) {
    e2e_env env(30);
    const std::string port = std::to_string(env.sim->port());
    const std::string base = "https://127.0.0.1:" + port;
    // Servers whose certificate the client must refuse, each with its own CA file.
    const auto mismatch_id = reconciler::sim::generate_tls_identity({"stripe.invalid"}, {});
    const auto expired_id = reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}, true);
    std::ofstream(env.dir / "mismatch-ca.pem") << mismatch_id.ca_cert_pem;
    std::ofstream(env.dir / "expired-ca.pem") << expired_id.ca_cert_pem;
    auto mismatch = server_with(env, mismatch_id);
    auto expired = server_with(env, expired_id);
    const std::string mismatch_url = "https://127.0.0.1:" + std::to_string(mismatch->port());
    const std::string expired_url = "https://127.0.0.1:" + std::to_string(expired->port());
    // A restricted key without read access to events: the run's first request is refused (403).
    auto no_events_opts = env.server_opts;
    no_events_opts.forbidden_resources = {"events"};
    auto no_events = std::make_unique<reconciler::sim::server>(no_events_opts);
    const std::string no_events_url = "https://127.0.0.1:" + std::to_string(no_events->port());
    const std::string wrong_key = "sk_test_WRONG_key_e2e_9d1c7a";
    ::setenv("RECON_E2E_WRONG_KEY", wrong_key.c_str(), 1);

    std::vector<bad_case> cases = {
        {"missing config file",
         [](const e2e_env& e) { return run_args((e.dir / "nope.yaml").string(), e); },
         {"nope.yaml", "cannot read", "No such file", "--config"}},
        {"unreadable config file",
         [](const e2e_env& e) {
             // Root reads any mode: a directory is unreadable for everyone.
             const fs::path p = e.dir / "unreadable.yaml";
             if (::geteuid() == 0) {
                 fs::create_directories(p);
             } else {
                 fs::copy_file(e.config, p);
                 ::chmod(p.c_str(), 0);
             }
             return run_args(p.string(), e);
         },
         {"unreadable.yaml", "cannot read", "permissions"}},
        {"unknown key",
         [](const e2e_env& e) { return run_args(with_config(e, "unknown", "tiers:", "tierz:"), e); },
         {"unknown key tierz", "did you mean tiers"}},
        {"bad type",
         [](const e2e_env& e) {
             return run_args(with_config(e, "badtype", "request_timeout: 5s", "request_timeout: soon"), e);
         },
         {"stripe.request_timeout", "invalid duration", "\"90s\""}},
        {"missing Stripe key",
         [](const e2e_env& e) {
             return run_args(with_config(e, "nokey", "RECON_E2E_STRIPE_KEY", "RECON_E2E_NO_SUCH_KEY"), e);
         },
         {"stripe key", "RECON_E2E_NO_SUCH_KEY is not set", "stripe.key.file"}},
        {"database file missing",
         [](const e2e_env& e) { return run_args(with_config(e, "nodb", "path: app.db", "path: nodb.db"), e); },
         {"nodb.db", "no such file", "database.path"}},
        {"database is an empty file",
         [](const e2e_env& e) {
             std::ofstream(e.dir / "empty.db");
             return run_args(with_config(e, "emptydb", "path: app.db", "path: empty.db"), e);
         },
         {"empty.db", "not the app's database", "database.path"}},
        {"database is not SQLite",
         [](const e2e_env& e) {
             std::ofstream(e.dir / "text.db") << "id,email\n1,a@example.com\n";
             return run_args(with_config(e, "textdb", "path: app.db", "path: text.db"), e);
         },
         {"text.db", "not an SQLite database", "database.path"}},
        {"database is another application's",
         [](const e2e_env& e) {
             SQLite::Database db((e.dir / "foreign.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
             db.exec("CREATE TABLE orders(id INTEGER PRIMARY KEY, total INTEGER)");
             return run_args(with_config(e, "foreign", "path: app.db", "path: foreign.db"), e);
         },
         {"foreign.db", "not the app's database", "table users is missing", "database.path"}},
        {"database not migrated",
         [](const e2e_env& e) {
             const auto p = copy_db(e, "old.db");
             SQLite::Database db(p, SQLite::OPEN_READWRITE);
             db.exec("DELETE FROM recon_schema_migrations");
             return run_args(with_config(e, "old", "path: app.db", "path: old.db"), e);
         },
         {"old.db", "reconciler migrate"}},
        {"database migrated by a newer version",
         [](const e2e_env& e) {
             const auto p = copy_db(e, "future.db");
             SQLite::Database db(p, SQLite::OPEN_READWRITE);
             db.exec("INSERT INTO recon_schema_migrations VALUES (99, 'future', '2031-01-01T00:00:00Z')");
             return run_args(with_config(e, "future", "path: app.db", "path: future.db"), e);
         },
         {"future.db", "schema version 99", "newer than this build", "upgrade stripe-reconciler"}},
        {"database read-only for this user",
         [](const e2e_env& e) {
             const auto p = copy_db(e, "ro.db");
             ::chmod(p.c_str(), 0444);
             ::chmod(e.dir.c_str(), 0755);
             return run_args(with_config(e, "ro", "path: app.db", "path: ro.db"), e);
         },
         {"ro.db", "read-only for this user", "write access"},
         true},
        {"output.dir cannot be created",
         [](const e2e_env& e) {
             return run_args(with_config(e, "badout", "dir: reports", "dir: ca.pem/reports"), e);
         },
         {"output.dir", "ca.pem/reports", "cannot create"}},
        {"CA file not PEM",
         [](const e2e_env& e) {
             std::ofstream(e.dir / "garbage.pem") << "not a certificate\n";
             return run_args(with_config(e, "garbageca", "ca_file: ca.pem", "ca_file: garbage.pem"), e);
         },
         {"garbage.pem", "cannot load CA certificates", "PEM bundle"}},
        {"wrong CA file",
         [](const e2e_env& e) {
             std::ofstream(e.dir / "other-ca.pem")
                 << reconciler::sim::generate_tls_identity({"localhost"}, {"127.0.0.1"}).ca_cert_pem;
             return run_args(with_config(e, "wrongca", "ca_file: ca.pem", "ca_file: other-ca.pem"), e);
         },
         {"certificate refused", "unable to get local issuer certificate", "stripe.ca_file"}},
        {"plain http to a non-loopback host",
         [base](const e2e_env& e) {
             return run_args(with_config(e, "plain", base, "http://api.example.com"), e);
         },
         {"plain http://", "https://"}},
        {"plain http to loopback not allowed",
         [base, port](const e2e_env& e) {
             return run_args(with_config(e, "plainlocal", base, "http://127.0.0.1:" + port), e);
         },
         {"allow_plain_http_loopback"}},
    };
    cases.push_back({"certificate for another host name",
                     [base, mismatch_url](const e2e_env& e) {
                         auto c = with_config(e, "mismatch", base, mismatch_url);
                         return run_args(with_config_file(c, "ca_file: ca.pem", "ca_file: mismatch-ca.pem"), e);
                     },
                     {"certificate refused", "mismatch", "stripe.base_url"}});
    cases.push_back({"expired certificate",
                     [base, expired_url](const e2e_env& e) {
                         auto c = with_config(e, "expired", base, expired_url);
                         return run_args(with_config_file(c, "ca_file: ca.pem", "ca_file: expired-ca.pem"), e);
                     },
                     {"certificate refused", "certificate has expired", "renew"}});

    // Issue 19: a key Stripe refuses is a setup error, found by the run's first request.
    cases.push_back({"Stripe refuses the key (401)",
                     [](const e2e_env& e) {
                         return run_args(with_config(e, "wrongkey", "RECON_E2E_STRIPE_KEY", "RECON_E2E_WRONG_KEY"), e);
                     },
                     {"Stripe refused the key", "stripe.key (environment variable RECON_E2E_WRONG_KEY)", "401",
                      "nothing was written"}});
    cases.push_back({"the key may not read events (403)",
                     [base, no_events_url](const e2e_env& e) {
                         return run_args(with_config(e, "noevents", base, no_events_url), e);
                     },
                     {"stripe.key (environment variable RECON_E2E_STRIPE_KEY)", "lacks a permission", "403",
                      "rak_event_read"}});

    const auto state_before = app_state(env.dir / "app.db");
    const auto app_db_bytes = slurp(env.dir / "app.db");
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("case: " << c.name) {
            const auto args = c.setup(env);
            // Byte images of every database file the case points at, to prove nothing was written.
            std::map<fs::path, std::string> dbs;
            for (const auto& entry : fs::directory_iterator(env.dir))
                if (entry.path().extension() == ".db") dbs[entry.path()] = slurp(entry.path());
            const bool nobody = c.as_nobody && ::geteuid() == 0;
            const auto r = nobody ? run_as_nobody(env.dir, args) : run(env.dir, args);
            BOOST_TEST_MESSAGE(c.name << " | " << r.exit_code << " | " << r.err.substr(0, r.err.find('\n')));
            BOOST_TEST(r.exit_code == 2);
            BOOST_TEST(line_count(r.err) == 1u, "stderr:\n" << r.err);
            BOOST_TEST(r.err.rfind("reconciler: ", 0) == 0u, r.err);
            for (const auto& needle : c.stderr_has) BOOST_TEST(r.err.find(needle) != std::string::npos, "no \"" << needle << "\" in " << r.err);
            BOOST_TEST(r.err.find(api_key) == std::string::npos);
            BOOST_TEST(r.err.find(wrong_key) == std::string::npos);
            BOOST_TEST(r.out.empty(), r.out);
            // Nothing written: no report directory, no run recorded, no database file changed or created beside it.
            BOOST_TEST(!fs::exists(env.dir / "reports"));
            BOOST_TEST(!fs::exists(env.dir / "ca.pem" / "reports"));
            for (const auto& [path, bytes] : dbs) {
                BOOST_TEST(slurp(path) == bytes, path.filename() << " changed");
                if (path.filename() != "app.db")
                    BOOST_TEST(!fs::exists(path.string() + "-wal"), path.filename() << "-wal created");
                // Not even the run lock's file: a refusal comes before the lock is taken.
                BOOST_TEST(!fs::exists(path.string() + ".reconciler.lock"), path.filename() << " lock created");
            }
            BOOST_TEST(env.count("SELECT COUNT(*) FROM recon_runs") == 0);
        }
    }
    BOOST_TEST(app_state(env.dir / "app.db") == state_before);
    BOOST_TEST(slurp(env.dir / "app.db") == app_db_bytes);
    BOOST_TEST(mismatch->stats().requests == 0u);  // refused at the handshake: not even the key was sent
    BOOST_TEST(expired->stats().requests == 0u);
    BOOST_TEST(no_events->stats().requests == 1u);  // the first request, refused; no retry, no run
}

// A missing output directory is not an error: it is created (0750, with its
// parents), as a fresh systemd StateDirectory or a new machine needs.
BOOST_AUTO_TEST_CASE(missing_output_dir_is_created_private) {
    e2e_env env(30);
    env.edit_config("dir: reports", "dir: state/nested/reports");
    const auto r = run(env.dir, "run --config " + env.config.string() + env.window_args());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    BOOST_TEST(fs::exists(env.dir / "state" / "nested" / "reports" / "latest" / "report.json"));
    for (const char* d : {"state", "state/nested", "state/nested/reports"}) {
        struct stat st {};
        BOOST_REQUIRE(::stat((env.dir / d).c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 07777) == 0750u, d << " mode " << std::oct << (st.st_mode & 07777));
    }
}


BOOST_AUTO_TEST_SUITE_END()
