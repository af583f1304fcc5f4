#include "pipeline/run.hpp"

#include "report/report.hpp"
#include "core/json_log.hpp"
#include "core/timeutil.hpp"
#include "pipeline/async.hpp"
#include "pipeline/fetcher.hpp"
#include "pipeline/key_check.hpp"
#include "pipeline/process_memory.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/run_bookkeeping.hpp"
#include "pipeline/database.hpp"
#include "pipeline/delivery.hpp"
#include "pipeline/run_lock.hpp"
#include "pipeline/slice_scheduler.hpp"
#include "pipeline/slice_split.hpp"
#include "pipeline/stripe_setup.hpp"
#include "pipeline/window.hpp"
#include "pipeline/worker_side.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

namespace reconciler {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using namespace pipeline;

// `work`, with a lost database connection saying what the run was doing
// (the statement and the database are in the store's own message).
template <class Work>
void naming_the_step(const std::string& step, Work&& work) {
    try {
        work();
    } catch (const store::connection_lost& e) {
        throw store::connection_lost(step + ": " + e.what());
    }
}

// The window once the run is set up: the window part (fetcher, then its
// rules on the worker) and the slices, fetched ahead by two fetchers while
// one consumer finishes them in window order. Each slice is fetched, diffed,
// applied, escalated and checkpointed before the next is finished: memory is
// bounded by a few slices, and a run killed half-way resumes from the last
// finished slice. The database belongs to the worker side (worker_side.hpp).
// The run lock is checked on the worker before each part's writes: a lost
// PostgreSQL lock session stops the run there (run_lock::check_held).
class window_run {
public:
    window_run(asio::io_context& ioc, const config& cfg, fetcher& fetch, worker_side& work, run_lock& lock,
               run_result& result, const std::atomic<bool>* stop)
        : cfg_(cfg), fetcher_(fetch), work_(work), lock_(lock), result_(result), stop_(stop),
          plan_(result.window_start, result.window_end, cfg.slice, cfg.slice_objects),
          changed_(ioc, asio::steady_timer::time_point::max()) {}

    // Throws what ended it; whatever was verified before stays checkpointed.
    // Two fetchers: four kept 1M's peak over 40 MB at any slice size that
    // kept the requests down (bench/RESULTS.md, thirteenth session).
    asio::awaitable<void> operator()() {
        static_assert(slice_scheduler::slices_ahead == 2);
        co_await together(consume(), fetch_ahead(), fetch_ahead());
    }

private:
    asio::awaitable<void> consume() {
        co_await window_part();
        for (;;) {
            while (!plan_.front_ready()) {
                if (plan_.done()) co_return;
                co_await wait_for_change();
            }
            auto cur = plan_.take_front();
            changed_.cancel();  // room for a fetcher
            for (auto& part : split(std::move(cur))) co_await finish(std::move(part));
        }
    }

    asio::awaitable<void> fetch_ahead() {
        for (;;) {
            while (!plan_.all_claimed() && !plan_.room_ahead()) co_await wait_for_change();
            if (plan_.all_claimed()) co_return;
            auto& me = plan_.claim();
            co_await fetcher_.fetch_lists(me.lists, me.s, me.e);
            plan_.fetched_into(me);
            changed_.cancel();
        }
    }

    asio::awaitable<void> window_part() {
        co_await fetcher_.fetch_subscriptions(result_.window_start);
        plan_.set_window_rules_running(true);
        changed_.cancel();  // room for a fetcher
        auto job = [this, f = fetcher_.take(), pages = fetcher_.take_pages()]() mutable {
            lock_.check_held();
            naming_the_step("settle the window part", [&] { work_.window_rules(std::move(f), std::move(pages)); });
        };
        co_await on_worker(worker_, job);
        plan_.set_window_rules_running(false);
    }

    std::vector<slice_part> split(slice_scheduler::slot cur) {
        const std::int64_t objects = cur.lists.objects;
        auto parts = split_overfull(std::move(cur.lists), cur.s, cur.e, cfg_.slice_objects);
        if (parts.size() > 1)
            log::info("slice_split", {{"run_id", result_.run_id},
                                      {"from", format_rfc3339(cur.s)},
                                      {"to", format_rfc3339(cur.e)},
                                      {"objects", objects},
                                      {"parts", static_cast<std::int64_t>(parts.size())},
                                      {"slice_objects", cfg_.slice_objects}});
        return parts;
    }

    // The rest of a slice (or part) once its lists are in: lookups, then its
    // rules on the worker. Its only suspension points before the worker are
    // the lookups, before anything is written: cancelled (the next slice's
    // fetch failed), it leaves the slice unapplied and unchecked.
    asio::awaitable<void> finish(slice_part part) {
        const unix_seconds start = result_.window_start, end = result_.window_end;
        fetcher_.set_progress(static_cast<double>(part.s - start) / static_cast<double>(end - start));
        // The daemon's SIGTERM: stop between slices, everything before checkpointed.
        if (stop_ && stop_->load())
            throw std::runtime_error("stopped by a signal before the window was done; the next run resumes from the "
                                     "checkpoint");
        const bool last = part.e == end;
        try {  // its lookups read the app's payments
            co_await fetcher_.finish_slice(std::move(part.lists), part.s, part.e, last);
        } catch (const store::connection_lost& e) {
            throw store::connection_lost("fetch the slice " + format_rfc3339(part.s) + " .. " +
                                         format_rfc3339(part.e) + ": " + e.what());
        }
        std::optional<portal_audit_input> portal;
        if (last) portal = co_await fetcher_.audit_portal();
        auto job = [this, s = part.s, e = part.e, end, f = fetcher_.take(), pages = fetcher_.take_pages(),
                    portal = std::move(portal)]() mutable {
            lock_.check_held();
            naming_the_step("settle the slice " + format_rfc3339(s) + " .. " + format_rfc3339(e), [&] {
                work_.slice_rules(std::move(f), std::move(pages), s, e, end, std::move(portal));
            });
        };
        co_await on_worker(worker_, job);
    }

    asio::awaitable<void> wait_for_change() {
        co_await changed_.async_wait(asio::as_tuple(asio::use_awaitable));
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none)
            throw boost::system::system_error(asio::error::operation_aborted);
    }

    const config& cfg_;
    fetcher& fetcher_;
    worker_side& work_;
    run_lock& lock_;
    run_result& result_;
    const std::atomic<bool>* stop_;
    slice_scheduler plan_;
    asio::steady_timer changed_;  // cancel() wakes every waiter
    asio::thread_pool worker_{1};  // declared last: joined first, before what its jobs use
};

diff_policy policy_of(const config& cfg) {
    diff_policy p;
    p.prices = cfg.prices;
    p.free_tier = cfg.policy.free_tier;
    p.past_due_tier = cfg.policy.past_due_tier;
    p.clawback = cfg.corrections.clawback_refunds;
    p.webhook_grace = cfg.policy.webhook_grace.count();
    p.signature_failure_threshold = cfg.policy.signature_failure_threshold;
    p.max_line_quantity = cfg.policy.max_line_quantity;
    p.max_credits_per_invoice = cfg.policy.max_credits_per_invoice;
    return p;
}

struct secrets {
    std::string stripe_key;
    std::string webhook_secret;  // read only under the `replay` policy
    delivery_routes routes;      // escalations.routes; none in a dry run (it delivers nothing)
};

// Read before anything is written, and registered for redaction at once.
secrets read_secrets(const config& cfg, bool dry_run) {
    secrets s;
    s.stripe_key = read_secret(cfg.stripe.key, "stripe key");
    log::add_secret(s.stripe_key);
    if (cfg.corrections.replay_missing_credits || cfg.corrections.replay_tiers) {
        s.webhook_secret = read_secret(cfg.webhook.secret, "webhook secret", "webhook.secret");
        log::add_secret(s.webhook_secret);
    }
    if (!dry_run) s.routes = read_delivery_routes(cfg.escalations);
    return s;
}

// A replay happens in the middle of applying, on the worker, while the run's
// coroutines hold its io_context: it gets a short-lived one of its own
// (replays are few: one per finding under the `replay` policy).
replayer replayer_for(const config& cfg, const secrets& keys, store::store& db) {
    return [&cfg, &keys, &db](const std::string& event_id) {
        asio::io_context replay_ioc;
        auto transport = stripe::make_beast_transport(replay_ioc, stripe_transport_options(cfg, keys.stripe_key));
        stripe::client client(*transport, stripe_client_options(cfg, keys.stripe_key));
        const replay_options ro{event_id, cfg.webhook.forward_to, cfg.webhook.ca_file};
        auto replayed = asio::co_spawn(
            replay_ioc, replay_one(client, db, keys.webhook_secret, ro, cfg.stripe.request_timeout), asio::use_future);
        replay_ioc.run();
        return replayed.get();
    };
}

void note_unverified(run_result& result, unix_seconds verified_until, bool dry_run) {
    const unix_seconds start = result.window_start, end = result.window_end;
    const bool partial = verified_until > start && !dry_run;
    result.notes.push_back("unverified: " + format_rfc3339(partial ? verified_until : start) + " .. " +
                           format_rfc3339(end) +
                           (partial ? " (" + format_rfc3339(start) + " .. " + format_rfc3339(verified_until) +
                                          " was verified and checkpointed; rerun the rest)"
                                    : " (nothing checkpointed; rerun the window)"));
}

// The run's end, succeeded or not: its counts, the report (with the open
// escalations of a run that saw the whole window), the metrics and the
// store's run row. A report that cannot be written fails the run; nothing
// here throws past it. `connection_lost`: the run failed on a lost database
// connection; when the store cannot read its checkpoint either, the report
// is written without the database and the run row stays 'running' (the next
// run closes it as abandoned, as after a kill).
void finish_run(const config& cfg, const run_options& opts, store::store& db, const stripe::client& client,
                report_writer& report, run_result& result, bool connection_lost) {
    const auto stats = client.stats();
    result.requests = static_cast<std::int64_t>(stats.requests);
    result.retries = static_cast<std::int64_t>(stats.retries);
    bool db_usable = true;
    try {
        if (auto cp = db.checkpoint(checkpoint_stream)) result.checkpoint = *cp;
    } catch (const std::exception&) {  // the report then shows no cursor; the checkpoint itself is committed
        db_usable = !connection_lost;
    }
    if (!opts.dry_run && db_usable) {
        try {
            result.escalations_by_team = db.count_escalations_by_team(result.run_id);
        } catch (const std::exception&) {  // the report then shows no by-team counts
        }
    }
    if (!db_usable)
        result.notes.push_back("the database connection was lost: this report lists no open escalations and no trend, "
                               "and the run's row is closed as abandoned by the next run");
    result.finished_at = now_unix();
    try {
        report.findings(result);  // any a failure left behind
        report.request_ids_done();
        // No conditional expressions here: GCC 12 under ASan warns that
        // their temporary "may be used uninitialized".
        store::store* open_from = nullptr;
        if (result.succeeded && !opts.dry_run) open_from = &db;
        store::support_queries* trend_from = nullptr;
        if (db_usable) trend_from = &db;
        write_report(result, open_from, trend_from);
    } catch (const std::exception& e) {
        report_failed(result, e);
    }
    try {
        // The run's own series under its mode; the database's gauges whatever the mode.
        write_metrics(cfg.output.metrics_file, result,
                      {run_mode_of(opts.dry_run, opts.since || opts.until), stats.rate_limited,
                       db_usable ? read_database_gauges(db) : std::nullopt});
    } catch (const std::exception& e) {
        log::error("metrics_failed", {{"run_id", result.run_id}, {"error", log::redact(e.what())}});
    }
    if (db_usable) record_run_end(cfg, db, result);
    log::info("run_finished", {{"run_id", result.run_id},
                               {"status", result.succeeded ? "succeeded" : "failed"},
                               {"findings", result.tally.total},
                               {"applied", result.applied()},
                               {"report", result.report_dir.string()}});
}

}  // namespace

run_result run_once(const config& cfg, const run_options& opts) {
    asio::io_context ioc;
    auto done = asio::co_spawn(ioc, run_once_async(ioc, cfg, opts, nullptr), asio::use_future);
    ioc.run();
    return done.get();
}

asio::awaitable<run_result> run_once_async(asio::io_context& ioc, config cfg, run_options opts,
                                           const std::atomic<bool>* stop) {
    tune_process_memory();
    run_result result;
    result.started_at = now_unix();
    result.dry_run = opts.dry_run;
    result.config_hash = cfg.content_hash;
    result.api_version = cfg.stripe.api_version;
    const secrets keys = read_secrets(cfg, opts.dry_run);
    // The report's Dashboard links: test or live path, connected account prefix.
    result.livemode = keys.stripe_key.rfind("sk_live_", 0) == 0 || keys.stripe_key.rfind("rk_live_", 0) == 0;
    result.stripe_account = cfg.stripe.account;

    // Setup problems end the run here, before it writes anything, not even
    // the run lock's file (exit 2): a database that is not the app's, a bad
    // window, a bad CA file or URL, a certificate the server cannot pass, a
    // key Stripe refuses (the run's first request), an output directory that
    // cannot be written.
    const database_access access = database_access_of(cfg);
    auto db = co_await open_store_async(access, stop);  // a server not answering yet: retried
    db->check_schema();
    db->set_delivery_routes(keys.routes.team_routes);  // an escalation that opens is queued for them
    // Read before the lock: a run that finishes in between only makes this
    // window start earlier, and what it applied is not applied twice.
    auto window = window_of(opts.since, opts.until, result.started_at, db->checkpoint(checkpoint_stream), cfg.overlap,
                            cfg.default_lookback);
    result.window_start = window.start;
    result.window_end = window.end;
    result.notes = std::move(window.notes);
    auto transport = stripe::make_beast_transport(ioc, stripe_transport_options(cfg, keys.stripe_key));
    const stripe::transport_result probed = co_await transport->probe();
    stripe::refuse_tls_failure(probed, cfg.stripe.base_url);
    co_await check_key(*transport, cfg, keys.stripe_key);
    prepare_output_dir(cfg.output.dir);
    const auto lock = co_await take_run_lock_async(access, stop);  // held until the run returns

    begin_run_row(cfg, opts, *db, result);
    try {
        result.report_dir = prepare_report_dir(cfg.output.dir, result.run_id, result.started_at);
    } catch (const std::exception& e) {  // the row must not stay 'running'
        result.error = log::redact(e.what());
        record_run_end(cfg, *db, result);
        throw;
    }
    log::info("run_started", {{"run_id", result.run_id},
                              {"window_start", format_rfc3339(result.window_start)},
                              {"window_end", format_rfc3339(result.window_end)},
                              {"dry_run", opts.dry_run}});

    stripe::client client(*transport, stripe_client_options(cfg, keys.stripe_key));
    report_writer report(result.report_dir);
    const diff_policy policy = policy_of(cfg);
    fetcher fetch(client, *db, *db, result, report, result.window_end, policy, cfg.stripe.api_version);
    worker_side work(cfg, opts, *db, result, report, policy, replayer_for(cfg, keys, *db));
    bool lost = false;  // the database connection went away: finish_run spares it
    try {
        window_run verify(ioc, cfg, fetch, work, *lock, result, stop);
        co_await verify();
        db->record_pages(result.run_id, fetch.take_pages());  // the worker is idle now
        if (!opts.dry_run) result.open_escalations = db->count_open_escalations();
        result.succeeded = true;
    } catch (const std::exception& e) {
        result.succeeded = false;
        result.error = explain_store_failure(cfg, e);
        lost = dynamic_cast<const store::connection_lost*>(&e) != nullptr;
        try {
            db->record_pages(result.run_id, fetch.take_pages());
        } catch (const std::exception&) {  // bookkeeping of a run already failing: its error stands
        }
        note_unverified(result, work.verified_until(), opts.dry_run);
        log::error("run_failed", {{"run_id", result.run_id}, {"error", result.error}});
    }
    // What the run escalated is delivered, succeeded or not (the worker is
    // idle), unless the database is gone: the outbox waits for the next run.
    if (!lost) co_await deliver_for_run(*db, cfg.escalations, keys.routes, result);
    finish_run(cfg, opts, *db, client, report, result, lost);
    co_return result;
}

}  // namespace reconciler
