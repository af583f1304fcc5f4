// The run's worker side: everything that touches the app's database and the
// report spools while the window is verified. Its methods run on the run's
// one worker thread, one at a time (run.cpp hands them over with on_worker),
// so nothing here is shared with the network thread, which only fetches;
// the one exception is the fetcher's read-only lookups, made while this side
// is idle.
#pragma once

#include "config/config.hpp"
#include "report/report_writer.hpp"
#include "core/diff.hpp"
#include "core/portal_audit.hpp"
#include "pipeline/corrector.hpp"
#include "pipeline/escalator.hpp"
#include "pipeline/fetched.hpp"
#include "pipeline/run.hpp"
#include "store/store.hpp"

#include <optional>
#include <vector>

namespace reconciler::pipeline {

class worker_side {
public:
    worker_side(const config& cfg, const run_options& opts, store::store& db, run_result& result, report_writer& report,
                const diff_policy& policy, replayer replay);

    // The window part, after fetcher::fetch_subscriptions: the rules that
    // need the whole window (tiers, balances, usage, the webhook log, missed
    // subscription events), a chunk at a time (window_rules.cpp).
    void window_rules(fetched f, std::vector<store::fetched_page> pages);

    // Slice [s, e) of the window ending at `end`, after fetcher::finish_slice:
    // its diff, corrections, escalations and checkpoint (slice_rules.cpp).
    // The last slice also reports what the window leaves open (customers no
    // user matched, unknown prices) and the portal audit (`portal`: empty
    // when it was not done).
    void slice_rules(fetched f, std::vector<store::fetched_page> pages, unix_seconds s, unix_seconds e, unix_seconds end,
                     std::optional<portal_audit_input> portal);

    // [window start, verified_until) is verified, and checkpointed unless dry.
    unix_seconds verified_until() const { return verified_until_; }

private:
    // Applies or flags a part's findings, escalates what a person must see
    // (resolving the open escalations of `resolve_kinds` about [from, to)
    // that the part no longer sees), and moves the outcomes to the report.
    void settle(std::vector<finding> findings, unix_seconds from, unix_seconds to,
                const std::vector<finding_kind>& resolve_kinds);

    // window_rules' steps, in this order.
    void tier_rules(subscription_folder& subscriptions);
    void user_rules();
    void webhook_rules();
    void missed_subscription_events(fetched& f);
    window_input window_input_of_part() const;  // the whole window, no Stripe objects yet
    store::local_query window_query() const;
    void settle_window_part(std::vector<finding> findings);

    const run_options& opts_;
    store::store& db_;
    run_result& result_;
    report_writer& report_;
    const diff_policy& policy_;
    diff_memory memory_;
    corrector corrector_;
    escalator escalator_;
    unix_seconds verified_until_;
};

}  // namespace reconciler::pipeline
