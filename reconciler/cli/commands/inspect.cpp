// `reconciler inspect`: one account as support needs it (runbook §2), or
// the latest runs as their rows say (--runs: abandoned ones included).
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "cli/support.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <boost/json/serialize.hpp>

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct inspect_args {
    std::string config, user;
    bool json = false;
    bool runs = false;
};

boost::json::object run_object(const store::run_row& r) {
    return {{"id", r.id},
            {"status", r.status},
            {"mode", r.mode},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"findings", r.findings},
            {"corrections_applied", r.corrections_applied},
            {"pages", r.pages},
            {"error", r.error}};
}

// The latest runs, newest first: a run killed mid-way shows as abandoned
// (once a later run found it) with what it committed.
int inspect_runs(const config& cfg, int limit, bool as_json) {
    auto db = open_store(cfg);
    db->check_schema();
    boost::json::array rows;
    for (const auto& r : db->recent_runs(limit)) {
        if (as_json) {
            rows.push_back(run_object(r));
            continue;
        }
        std::cout << "run " << r.id << "  " << r.status << "  " << r.mode << "  started " << r.started_at
                  << (r.finished_at.empty() ? "" : "  finished " + r.finished_at) << "  findings " << r.findings
                  << "  corrections " << r.corrections_applied << "  pages " << r.pages
                  << (r.error.empty() ? "" : "\n    " + r.error) << "\n";
    }
    if (as_json) std::cout << boost::json::serialize(boost::json::object{{"runs", std::move(rows)}}) << "\n";
    return int(exit_success);
}

}  // namespace

action add_inspect(CLI::App& app, const environment& env) {
    auto a = std::make_shared<inspect_args>();
    auto* cmd = app.add_subcommand(
        "inspect", "Show tier, Stripe customer, ai_credits, the last five credit events, open escalations.");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("--user", a->user, "The user's email address")->type_name("EMAIL");
    cmd->add_flag("--json", a->json, "Print the account as one JSON object");
    cmd->add_flag("--runs", a->runs,
                  "Show the latest 20 runs instead: status (abandoned: killed mid-way), findings, corrections");
    return [a] {
        if (a->user.empty() && !a->runs) throw usage_error("`inspect` needs --user EMAIL (or --runs)");
        if (!a->user.empty() && a->runs) throw usage_error("`inspect` takes --user or --runs, not both");
        const config cfg = load_config(a->config);
        if (a->runs) return inspect_runs(cfg, 20, a->json);
        const auto account = inspect_user(cfg, a->user);
        if (a->json) std::cout << boost::json::serialize(account) << "\n";
        else std::cout << format_inspect(account);
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
