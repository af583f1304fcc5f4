// The window part's rules (worker_side::window_rules), a chunk at a time, so
// that neither the app's users nor its webhook log is ever in memory whole.
#include "pipeline/worker_side.hpp"

#include "pipeline/process_memory.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

namespace reconciler::pipeline {

namespace {

// Customers (tier rules) or users (user rules) per chunk: a chunk's app rows
// (users with their credit-event logs) stay a few MB.
constexpr std::size_t window_chunk = 2000;
// Failed webhook deliveries per chunk: each is a finding with its evidence,
// so fewer than the rows of a window chunk.
constexpr std::size_t deliveries_chunk = 500;

}  // namespace

window_input worker_side::window_input_of_part() const {
    window_input in;
    in.start = result_.window_start;
    in.end = result_.window_end;
    return in;
}

store::local_query worker_side::window_query() const {
    store::local_query q;
    q.start = result_.window_start;
    q.end = result_.window_end;
    q.window_rules = false;
    q.window_payments = false;
    return q;
}

// Escalations of the window's kinds that no chunk saw are resolved after the
// last chunk, not per chunk.
void worker_side::settle_window_part(std::vector<finding> findings) {
    settle(std::move(findings), result_.window_start, result_.window_end, {});
}

void worker_side::window_rules(fetched f, std::vector<store::fetched_page> pages) {
    db_.record_pages(result_.run_id, pages);
    tier_rules(f.subscriptions);
    user_rules();
    webhook_rules();
    missed_subscription_events(f);
    if (!opts_.dry_run)
        escalator_.resolve_absent(result_, result_.window_start, result_.window_end,
                                  kinds_decided_by(diff_scope::window_rules));
    // The subscription scratch (attached to the store) is dropped here, on
    // the worker, not on the network thread.
    f = fetched{};
    release_freed_memory();
}

// Tiers, by customer.
void worker_side::tier_rules(subscription_folder& subscriptions) {
    subscriptions.drain_by_customer(window_chunk, [&](std::vector<subscription_state>&& states) {
        window_input in = window_input_of_part();
        in.subscriptions = std::move(states);
        store::local_query q = window_query();  // views into `in`
        q.credit_event_sources.emplace();       // tiers read no credit events
        for (const auto& st : in.subscriptions)
            if (q.customer_ids.empty() || q.customer_ids.back() != st.sub.customer)
                q.customer_ids.push_back(st.sub.customer);
        settle_window_part(diff(in, db_.load_local(q), policy_, diff_scope::tier_rules, memory_));
    });
}

// Balances and usage, by user id.
void worker_side::user_rules() {
    const window_input no_stripe = window_input_of_part();
    for (std::int64_t after = std::numeric_limits<std::int64_t>::min();;) {
        store::local_query q = window_query();
        q.active_users_after = after;
        q.active_users_limit = static_cast<std::int64_t>(window_chunk);
        const local_snapshot local = db_.load_local(q);
        if (local.users.empty()) break;
        after = local.users.back().id;
        settle_window_part(diff(no_stripe, local, policy_, diff_scope::user_rules, memory_));
        // Each of these users was re-evaluated over the window: what the
        // chunk did not raise about them is resolved (not by window time:
        // their findings have none, docs/findings.md "Lifecycle").
        if (!opts_.dry_run) {
            std::vector<std::string> emails;
            for (const auto& u : local.users) emails.push_back(u.email);
            escalator_.resolve_rechecked_users(result_, emails);
        }
        if (local.users.size() < window_chunk) break;
    }
}

// The webhook log's rules, over the deliveries they can flag: each delivery
// that failed twice is a finding of its own, so they go a chunk at a time;
// the signature failures are counted over the window, in one chunk apart.
void worker_side::webhook_rules() {
    const window_input no_stripe = window_input_of_part();
    store::local_query q = window_query();
    q.flaggable_deliveries = true;
    local_snapshot all = db_.load_local(q);
    auto failed = std::stable_partition(all.webhooks.begin(), all.webhooks.end(),
                                        [](const auto& w) { return w.status == "signature_failed"; });
    const auto rules_over = [&](auto from, auto to) {
        local_snapshot chunk;
        chunk.webhooks.assign(std::make_move_iterator(from), std::make_move_iterator(to));
        settle_window_part(diff(no_stripe, chunk, policy_, diff_scope::webhook_rules, memory_));
    };
    rules_over(all.webhooks.begin(), failed);
    while (failed != all.webhooks.end()) {
        const auto n = std::min<std::ptrdiff_t>(all.webhooks.end() - failed, deliveries_chunk);
        rules_over(failed, failed + n);
        failed += n;
    }
}

// The subscription events the app has no row for, a chunk at a time (their
// findings at once could be the run's peak memory).
void worker_side::missed_subscription_events(fetched& f) {
    for (std::size_t i = 0; i < f.events.size(); i += window_chunk) {
        window_input in = window_input_of_part();
        const std::size_t last = std::min(f.events.size(), i + window_chunk);
        for (std::size_t k = i; k < last; ++k) {
            event_ref& e = f.events[k];
            if (auto it = f.request_ids.find(e.id); it != f.request_ids.end())
                in.request_ids.insert(f.request_ids.extract(it));
            in.events.push_back(std::move(e));
        }
        store::local_query q = window_query();  // views into `in`
        for (const auto& e : in.events) q.event_ids.push_back(e.id);
        settle_window_part(diff(in, db_.load_local(q), policy_, diff_scope::missed_events, memory_));
    }
}

}  // namespace reconciler::pipeline
