// One slice's rules (worker_side::slice_rules): diff, corrections,
// escalations and checkpoint, on the worker.
#include "pipeline/worker_side.hpp"

#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "pipeline/process_memory.hpp"
#include "pipeline/slice_input.hpp"
#include "pipeline/window.hpp"

namespace reconciler::pipeline {

namespace {


// Unknown prices lead the run's notes (the summary, summary.md, report.json):
// until someone maps them, their customers' invoices grant nothing.
void note_unknown_prices(run_result& result, const std::vector<finding>& unknown) {
    std::vector<std::string> lines;
    for (const auto& f : unknown) {
        const auto count = [&](const char* k) { return std::to_string(f.evidence.at(k).as_int64()); };
        lines.push_back("unknown price " + f.subject_id + ": " + count("customers") + " customers, " + count("invoices") +
                        " paid invoices, " + count("subscriptions") +
                        " subscriptions; add it to prices: or mark it { ignore: true }");
    }
    result.notes.insert(result.notes.begin(), lines.begin(), lines.end());
}

}  // namespace

void worker_side::slice_rules(fetched f, std::vector<store::fetched_page> pages, unix_seconds s, unix_seconds e,
                              unix_seconds end, std::optional<portal_audit_input> portal) {
    const bool last = e == end;
    {  // the slice's objects are freed at the end of this block, on the worker
        db_.record_pages(result_.run_id, pages);
        db_.record_invoice_links(f.invoice_links);  // before the next slice's charges are linked
        window_input in = to_window_input(f, s, e);
        in.window_end = end;
        const local_snapshot local = load_local_for(db_, in);
        auto findings = diff(in, local, policy_, diff_scope::slice_rules, memory_);
        result_.passed_over = memory_.passed_over;
        if (last) {
            for (auto& p : pending_customers(memory_)) findings.push_back(std::move(p));
            auto unknown = unknown_price_findings(memory_);
            note_unknown_prices(result_, unknown);
            for (auto& p : unknown) findings.push_back(std::move(p));
            if (portal)
                for (auto& p : audit_billing_portal(*portal, policy_)) findings.push_back(std::move(p));
        }
        ++result_.slices;
        // Invoices paid in the slice's last minutes went on with the next
        // slice: what this one verified ends before them.
        const unix_seconds done_until = last ? end : e - slice_margin;
        settle(std::move(findings), verified_until_, done_until, kinds_decided_by(diff_scope::slice_rules));
        if (!opts_.dry_run) db_.advance_checkpoint(checkpoint_stream, verified_until_, done_until, result_.run_id);
        // Where a run killed from here on resumes (a dry run checkpoints nothing).
        log::info("slice_checkpoint", {{"run_id", result_.run_id},
                                       {"from", format_rfc3339(verified_until_)},
                                       {"to", format_rfc3339(done_until)},
                                       {"checkpointed", !opts_.dry_run}});
        verified_until_ = done_until;
        forget_older_repairs(memory_);
    }
    f = fetched{};
    pages = {};
    release_freed_memory();
}

}  // namespace reconciler::pipeline
