// reconciler.prom (report/metrics.hpp): each mode's run series kept apart,
// so a by-hand dry run or --since rerun cannot refresh the scheduled run's
// health; the database's gauges whatever the mode; the file written whole,
// readable by node_exporter, where output.metrics_file says.
#include "report/metrics.hpp"
#include "support/null_escalations.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;
using namespace reconciler;

namespace {

run_result run_at(unix_seconds finished, bool succeeded) {
    run_result r;
    r.succeeded = succeeded;
    r.started_at = finished - 60;
    r.finished_at = finished;
    r.pages = 3;
    r.requests = 9;
    r.retries = 4;
    r.tally.by_kind["tier_mismatch"] = 2;
    return r;
}

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct fake_escalations : test::null_escalations {
    bool broken = false;
    std::int64_t count_open_escalations() override {
        if (broken) throw std::runtime_error("database is locked");
        return 401;
    }
    std::map<std::string, std::int64_t> count_open_escalations_by_team() override {
        return {{"billing_engineering", 400}, {"devops", 1}};
    }
};

const unix_seconds night = 1'790'000'000, noon = night + 9 * 3600;

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(the_mode_rule) {
    BOOST_TEST(to_string(run_mode_of(false, false)) == std::string("scheduled"));
    BOOST_TEST(to_string(run_mode_of(false, true)) == std::string("manual"));
    BOOST_TEST(to_string(run_mode_of(true, false)) == std::string("dry_run"));
    BOOST_TEST(to_string(run_mode_of(true, true)) == std::string("dry_run"));
}

// The case: the nightly run succeeded, then someone tried a dry
// run at noon. The scheduled success time stays the night's; the dry run
// has its own series; the database gauges are the database's.
BOOST_AUTO_TEST_CASE(a_dry_run_leaves_the_scheduled_series_alone) {
    fake_escalations db;
    const std::string nightly =
        metrics_text(run_at(night, true), {run_mode::scheduled, 2, read_database_gauges(db)}, "");
    BOOST_TEST(has(nightly, "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} " + std::to_string(night)));
    BOOST_TEST(has(nightly, "stripe_reconciler_last_run_success{mode=\"scheduled\"} 1"));
    BOOST_TEST(has(nightly, "stripe_reconciler_last_run_retries{mode=\"scheduled\"} 4"));
    BOOST_TEST(has(nightly, "stripe_reconciler_last_run_rate_limited{mode=\"scheduled\"} 2"));
    BOOST_TEST(has(nightly, "stripe_reconciler_last_run_findings{mode=\"scheduled\",kind=\"tier_mismatch\"} 2"));
    BOOST_TEST(has(nightly, "stripe_reconciler_last_run_mode{mode=\"scheduled\"} 1"));

    run_result dry = run_at(noon, true);
    dry.dry_run = true;
    dry.open_escalations = 0;  // a dry run does not count them: the metrics must not use it
    const std::string after = metrics_text(dry, {run_mode::dry_run, 0, read_database_gauges(db)}, nightly);
    BOOST_TEST(has(after, "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} " + std::to_string(night)));
    BOOST_TEST(has(after, "stripe_reconciler_last_success_timestamp_seconds{mode=\"dry_run\"} " + std::to_string(noon)));
    BOOST_TEST(has(after, "stripe_reconciler_last_run_timestamp_seconds{mode=\"scheduled\"} " + std::to_string(night)));
    BOOST_TEST(has(after, "stripe_reconciler_last_run_rate_limited{mode=\"scheduled\"} 2"));
    BOOST_TEST(has(after, "stripe_reconciler_last_run_rate_limited{mode=\"dry_run\"} 0"));
    BOOST_TEST(has(after, "stripe_reconciler_last_run_mode{mode=\"dry_run\"} 1"));
    BOOST_TEST(has(after, "stripe_reconciler_last_run_mode{mode=\"scheduled\"} 0"));
    BOOST_TEST(has(after, "stripe_reconciler_escalations_open 401"));
    BOOST_TEST(has(after, "stripe_reconciler_escalations_open_by_team{team=\"billing_engineering\"} 400"));
    BOOST_TEST(has(after, "stripe_reconciler_escalations_open_by_team{team=\"devops\"} 1"));
    BOOST_TEST(has(after, "stripe_reconciler_escalations_open_by_team{team=\"data_platform\"} 0"));  // every team
    // The text format: each family's HELP/TYPE once, its samples together.
    BOOST_TEST(count(after, "# TYPE stripe_reconciler_last_run_success gauge") == 1u);
    const auto first = after.find("stripe_reconciler_last_run_success{");
    const auto next = after.find("# HELP", first);
    BOOST_TEST(after.find("stripe_reconciler_last_run_success{mode=\"scheduled\"}") < next);
    BOOST_TEST(after.find("stripe_reconciler_last_run_success{mode=\"dry_run\"}") < next);
    // A second dry run replaces the dry run's lines, not adds to them.
    const std::string again = metrics_text(dry, {run_mode::dry_run, 0, read_database_gauges(db)}, after);
    BOOST_TEST(count(again, "stripe_reconciler_last_run_success{mode=\"dry_run\"}") == 1u);
    BOOST_TEST(count(again, "stripe_reconciler_last_run_success{mode=\"scheduled\"}") == 1u);
}

// "Time since the last scheduled success" keeps counting through failures,
// including the first run after an upgrade from the file without modes.
BOOST_AUTO_TEST_CASE(a_failed_run_keeps_its_modes_last_success) {
    const std::string ok = metrics_text(run_at(night, true), {run_mode::scheduled, 0, std::nullopt}, "");
    const std::string failed = metrics_text(run_at(noon, false), {run_mode::scheduled, 0, std::nullopt}, ok);
    BOOST_TEST(has(failed, "stripe_reconciler_last_run_success{mode=\"scheduled\"} 0"));
    BOOST_TEST(has(failed, "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} " + std::to_string(night)));
    // A manual run that failed has no success of its own yet.
    const std::string manual = metrics_text(run_at(noon, false), {run_mode::manual, 0, std::nullopt}, ok);
    BOOST_TEST(count(manual, "stripe_reconciler_last_success_timestamp_seconds{") == 1u);
    const std::string legacy = "# TYPE stripe_reconciler_last_success_timestamp_seconds gauge\n"
                               "stripe_reconciler_last_success_timestamp_seconds 1700000000\n"
                               "stripe_reconciler_last_run_success 1\n";
    const std::string upgraded = metrics_text(run_at(noon, false), {run_mode::scheduled, 0, std::nullopt}, legacy);
    BOOST_TEST(has(upgraded, "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} 1700000000"));
    BOOST_TEST(upgraded.find("\nstripe_reconciler_last_run_success 1") == std::string::npos);  // unlabelled: gone
}

// A database that cannot be read leaves its gauges out: not a made-up 0.
// A run that found runs killed mid-way says how many, so an alert sees a job
// that something keeps killing.
BOOST_AUTO_TEST_CASE(abandoned_runs_found_are_a_series) {
    run_result r = run_at(night, true);
    r.abandoned_runs = 2;
    const std::string text = metrics_text(r, {run_mode::scheduled, 0, std::nullopt}, "");
    BOOST_TEST(has(text, "stripe_reconciler_last_run_abandoned_runs_found{mode=\"scheduled\"} 2"), text);
}

BOOST_AUTO_TEST_CASE(an_unreadable_database_leaves_its_gauges_out) {
    fake_escalations db;
    db.broken = true;
    const auto gauges = read_database_gauges(db);
    BOOST_TEST(!gauges.has_value());
    const std::string text = metrics_text(run_at(night, true), {run_mode::scheduled, 0, gauges}, "");
    BOOST_TEST(text.find("stripe_reconciler_escalations_open") == std::string::npos);
}

// output.metrics_file: written there, whole (no temporary *.prom left for
// the collector), 0644 (node_exporter is another user) whatever the umask.
BOOST_AUTO_TEST_CASE(written_atomically_where_configured) {
    const fs::path dir = fs::temp_directory_path() / ("recon-metrics-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir / "textfile");
    const fs::path file = dir / "textfile" / "stripe_reconciler.prom";
    const mode_t old_umask = ::umask(077);
    write_metrics(file, run_at(night, true), {run_mode::scheduled, 0, std::nullopt});
    run_result dry = run_at(noon, true);
    write_metrics(file, dry, {run_mode::dry_run, 0, std::nullopt});
    ::umask(old_umask);
    const std::string text = slurp(file);
    BOOST_TEST(has(text, "stripe_reconciler_last_success_timestamp_seconds{mode=\"scheduled\"} " + std::to_string(night)));
    BOOST_TEST(has(text, "stripe_reconciler_last_success_timestamp_seconds{mode=\"dry_run\"} " + std::to_string(noon)));
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir / "textfile")) {
        ++files;
        BOOST_TEST(e.path() == file);
    }
    BOOST_TEST(files == 1);
    struct stat st {};
    BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0644u);
    // A directory that is not there: an error naming the file.
    try {
        write_metrics(dir / "missing" / "m.prom", dry, {run_mode::dry_run, 0, std::nullopt});
        BOOST_FAIL("wrote into a missing directory");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find("write metrics file " + (dir / "missing" / "m.prom").string()) == 0u);
    }
    fs::remove_all(dir);
}

// Deliveries (escalations.routes): pending and failed from the outbox, sent
// by this run; every status of each route, 0 when it has none.
BOOST_AUTO_TEST_CASE(escalation_deliveries_by_route_and_status) {
    run_result r = run_at(1'000'000, true);
    BOOST_TEST(metrics_text(r, {run_mode::scheduled, 0, std::nullopt}, "").find("escalation_deliveries") ==
               std::string::npos);  // no routes: no family
    r.deliveries_configured = true;
    r.deliveries_by_route["devops/webhook"].sent = 2;
    r.outbox_counts = {{"data_platform/pagerduty", "failed", 1}, {"data_platform/pagerduty", "pending", 3},
                       {"devops/webhook", "sent", 9}};
    const std::string text = metrics_text(r, {run_mode::scheduled, 0, std::nullopt}, "");
    for (const std::string line :
         {"stripe_reconciler_escalation_deliveries{route=\"data_platform/pagerduty\",status=\"failed\"} 1",
          "stripe_reconciler_escalation_deliveries{route=\"data_platform/pagerduty\",status=\"pending\"} 3",
          "stripe_reconciler_escalation_deliveries{route=\"data_platform/pagerduty\",status=\"sent\"} 0",
          "stripe_reconciler_escalation_deliveries{route=\"devops/webhook\",status=\"sent\"} 2",
          "stripe_reconciler_escalation_deliveries{route=\"devops/webhook\",status=\"pending\"} 0"})
        BOOST_TEST(text.find(line + "\n") != std::string::npos, "missing: " << line);
}

BOOST_AUTO_TEST_SUITE_END()
