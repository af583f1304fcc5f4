// `reconciler report RUN_ID`: a run's report rebuilt from the database (a
// report directory that filled up, a run killed before it wrote one).
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "pipeline/run_lock.hpp"
#include "report/report.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <iostream>
#include <memory>
#include <optional>

namespace reconciler::cli {

namespace {

struct report_args {
    std::string config, run_id, output;
};

}  // namespace

action add_report(CLI::App& app, const environment& env) {
    auto a = std::make_shared<report_args>();
    auto* cmd = app.add_subcommand(
        "report", "Rebuild a run's report directory from the database (its row, findings, ledger and pages).");
    cmd->footer("Default --output: output.dir/run-RUN_ID, the run's own report directory (rewritten).");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("RUN_ID", a->run_id, "The run's id (the report's run.id, `reconciler inspect --runs`)");
    cmd->add_option("--output", a->output, "Write the report files in DIR instead")->type_name("DIR");
    return [a] {
        if (a->run_id.empty()) throw usage_error("`report` needs exactly one RUN_ID");
        const std::int64_t id = whole_number(a->run_id, "RUN_ID", "a positive integer (the report's run.id)");
        if (id <= 0) throw usage_error("RUN_ID must be a positive integer (the report's run.id), got " + a->run_id);
        const config cfg = load_config(a->config);
        const database_access access = database_access_of(cfg);
        auto db = open_store(access);
        db->check_schema();
        const auto row = db->find_run(id);
        if (!row)
            throw usage_error("no run " + std::to_string(id) + " in database " + access.name +
                              " (`reconciler inspect --runs` lists the latest)");
        std::filesystem::path dir = a->output;
        bool latest = false;
        std::unique_ptr<run_lock> lock;
        if (dir.empty()) {
            // A 'running' row may be a live run still writing that directory: its
            // lock says (exit 3 while it runs); a killed run's is free.
            if (row->status == "running") lock = take_run_lock(access);
            prepare_output_dir(cfg.output.dir);
            dir = prepare_report_dir(cfg.output.dir, id, 0);
            const auto newest = db->recent_runs(1);
            latest = !newest.empty() && newest.front().id == id;  // `latest` never moves back to an older run
        }
        const run_result r = rebuild_report(*db, id, dir, latest);
        std::cout << "report of run " << id << " (" << (r.succeeded ? "succeeded" : "not succeeded") << ", "
                  << r.tally.total << " findings, " << r.applied() << " applied) rebuilt in " << dir.string()
                  << "\n";
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
