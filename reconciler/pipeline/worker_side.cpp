#include "pipeline/worker_side.hpp"

namespace reconciler::pipeline {

worker_side::worker_side(const config& cfg, const run_options& opts, store::store& db, run_result& result,
                         report_writer& report, const diff_policy& policy, replayer replay)
    : opts_(opts), db_(db), result_(result), report_(report), policy_(policy),
      corrector_(cfg, db, opts.dry_run, [&report](const boost::json::object& line) { report.entitlement_change(line); },
                 std::move(replay)),
      escalator_(db, report), verified_until_(result.window_start) {}

void worker_side::settle(std::vector<finding> findings, unix_seconds from, unix_seconds to,
                         const std::vector<finding_kind>& resolve_kinds) {
    const std::size_t first = result_.outcomes.size();
    corrector_.apply(std::move(findings), result_);
    if (!opts_.dry_run) {  // a dry run writes nothing but the report
        escalator_.raise_for(result_, first, corrector_.take_raised());
        if (!resolve_kinds.empty()) escalator_.resolve_absent(result_, from, to, resolve_kinds);
    }
    report_.findings(result_);  // to findings.jsonl: the part's findings leave memory
}

}  // namespace reconciler::pipeline
