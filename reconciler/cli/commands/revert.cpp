// `reconciler revert`: undoes one applied correction.
#include "cli/commands/commands.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "core/entitlement_change.hpp"
#include "store/store.hpp"
#include "pipeline/database.hpp"

#include <iostream>
#include <memory>

namespace reconciler::cli {

namespace {

struct revert_args {
    std::string config, correction_id;
};

// The entitlement_change line of a revert: the plan back, or the credits' compensating delta.
boost::json::object change_of(const store::revert_result& r) {
    if (r.kind == "set_tier") return {{"plan", boost::json::object{{"from", r.tier_from}, {"to", r.tier_to}}}};
    return {{"ai_credits", boost::json::object{{"delta", r.credits_delta}}}};
}

}  // namespace

action add_revert(CLI::App& app, const environment& env) {
    auto a = std::make_shared<revert_args>();
    auto* cmd = app.add_subcommand(
        "revert", "Undo one applied correction (compensating credit event, or the previous plan).");
    add_config_option(*cmd, a->config, env);
    cmd->add_option("CORRECTION_ID", a->correction_id, "The correction_id from the run's report");
    return [a] {
        if (a->correction_id.empty()) throw usage_error("`revert` needs exactly one CORRECTION_ID");
        const std::int64_t id = whole_number(a->correction_id, "CORRECTION_ID",
                                             "a positive integer (the report's correction_id)");
        if (id <= 0)
            throw usage_error("CORRECTION_ID must be a positive integer (the report's correction_id), got " +
                              a->correction_id);
        const config cfg = load_config(a->config);
        auto db = open_store(cfg);
        db->check_schema();
        const auto r = db->revert(id, store::random_correlation_id());
        entitlement_change line;
        line.action = "correction_reverted";
        line.correlation_id = r.correlation_id;
        line.user_id = r.user_id;
        line.correction_id = id;
        line.change = change_of(r);
        line.actor = "stripe-reconciler";
        log_entitlement_change(line);
        std::cout << "reverted correction " << id << " (" << r.kind << ") for user " << r.user_id
                  << "; correlation id " << r.correlation_id << "\n";
        return int(exit_success);
    };
}

}  // namespace reconciler::cli
