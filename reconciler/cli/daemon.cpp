#include "cli/daemon.hpp"

#include "config/config.hpp"
#include "pipeline/run.hpp"
#include "pipeline/run_lock.hpp"
#include "core/json_log.hpp"
#include "core/timeutil.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <csignal>
#include <exception>

namespace reconciler {

namespace asio = boost::asio;

namespace detail {

std::chrono::seconds until_next(const daemon_options& o, unix_seconds now) {
    if (o.every) return *o.every;
    const unix_seconds day = 86400, at = static_cast<unix_seconds>(*o.daily_minute) * 60;
    unix_seconds next = now - now % day + at;
    if (next <= now) next += day;
    return std::chrono::seconds(next - now);
}

}  // namespace detail

int run_daemon(const daemon_options& opts) {
    config cfg = load_config(opts.config_file);
    asio::io_context ioc;
    asio::signal_set signals(ioc, SIGTERM, SIGINT, SIGHUP);
    asio::steady_timer timer(ioc);
    bool stopping = false;
    // Runs are coroutines on this io_context, so a signal is handled while a
    // run is under way: SIGTERM lets it finish its current slice (checkpointed)
    // and end; SIGHUP's new config applies from the next run.
    std::atomic<bool> stop_run{false};

    std::function<void()> run_now;
    auto schedule = [&](std::chrono::seconds delay) {
        timer.expires_after(delay);
        log::info("daemon_next_run", {{"at", format_rfc3339(now_unix() + delay.count())}});
        timer.async_wait([&](const boost::system::error_code& ec) {
            if (!ec && !stopping) run_now();
        });
    };
    run_now = [&] {
        // The run gets a copy of the config: a reload mid-run does not touch it.
        asio::co_spawn(ioc, run_once_async(ioc, cfg, run_options{}, &stop_run),
                       [&](std::exception_ptr failure, run_result r) {
                           try {
                               if (failure) std::rethrow_exception(failure);
                               log::info("daemon_run_done", {{"run_id", r.run_id}, {"succeeded", r.succeeded}});
                           } catch (const run_locked_error& e) {
                               log::warn("daemon_run_skipped", {{"reason", e.what()}});
                           } catch (const std::exception& e) {
                               log::error("daemon_run_failed", {{"error", log::redact(e.what())}});
                           }
                           if (!stopping) schedule(detail::until_next(opts, now_unix()));
                       });
    };
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            try {
                cfg = load_config(opts.config_file);
                log::info("daemon_config_reloaded", {{"config", opts.config_file.string()}});
            } catch (const std::exception& e) {
                log::error("daemon_config_reload_failed", {{"error", log::redact(e.what())}, {"kept", "previous config"}});
            }
            signals.async_wait(on_signal);
            return;
        }
        log::info("daemon_stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        stopping = true;
        stop_run = true;
        timer.cancel();
        signals.cancel();
    };
    signals.async_wait(on_signal);
    log::info("daemon_started", {{"config", opts.config_file.string()}});
    if (opts.every) asio::post(ioc, run_now);  // interval mode: run at start, then every interval
    else schedule(detail::until_next(opts, now_unix()));
    ioc.run();
    log::info("daemon_stopped", {});
    return exit_success;
}

}  // namespace reconciler
