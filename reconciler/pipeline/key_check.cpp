#include "pipeline/key_check.hpp"

#include "core/json_log.hpp"
#include "pipeline/stripe_setup.hpp"
#include "stripe/client.hpp"

namespace reconciler::pipeline {

namespace asio = boost::asio;

namespace {

// Where the key came from, for an error message: never the key.
std::string key_source(const secret_source& s) {
    if (!s.env.empty()) return "stripe.key (environment variable " + s.env + ")";
    if (!s.file.empty()) return "stripe.key (file " + s.file + ")";
    return "stripe.key (systemd credential " + s.credential + ")";
}

}  // namespace

// Its own client: no retries (a 401 or 403 is final anyway) and not the
// run's request count.
asio::awaitable<void> check_key(stripe::transport& transport, const config& cfg, const std::string& key) {
    stripe::client_options o = stripe_client_options(cfg, key);
    o.max_retries = 0;
    o.concurrency = 1;
    stripe::client first(transport, o);
    unsigned status = 0;
    std::string what;
    try {
        co_await first.retrieve("/v1/events?limit=1");
    } catch (const stripe::stripe_error& e) {
        status = e.http_status();
        what = log::redact(e.what());
    }
    if (status == 401)
        throw config_error("Stripe refused the key from " + key_source(cfg.stripe.key) + ": " + what +
                           " (check that the key is the account's, not rolled or expired; nothing was written)");
    if (status == 403)
        throw config_error("the key from " + key_source(cfg.stripe.key) +
                           " lacks a permission the run needs: " + what +
                           " (give the restricted key read access to what the README's key section lists; "
                           "nothing was written)");
}

}  // namespace reconciler::pipeline
