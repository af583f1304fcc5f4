#include "pipeline/stripe_setup.hpp"

namespace reconciler {

namespace {

double requests_per_second(const config& cfg, const std::string& key) {
    if (cfg.stripe.requests_per_second) return *cfg.stripe.requests_per_second;
    // Stripe's documented read limits: ~100/s live, 25/s test; keep headroom live.
    const bool live = key.rfind("sk_live_", 0) == 0 || key.rfind("rk_live_", 0) == 0;
    return live ? 90.0 : 25.0;
}

}  // namespace

stripe::beast_transport_options stripe_transport_options(const config& cfg, const std::string& key) {
    return stripe::beast_transport_options{
        .base_url = cfg.stripe.base_url,
        .ca_file = cfg.stripe.ca_file,
        .allow_plain_http_loopback = cfg.stripe.allow_plain_http_loopback,
        .timeout = cfg.stripe.request_timeout,
        .api_key = key,
        .stripe_version = cfg.stripe.api_version,
        .stripe_account = cfg.stripe.account,
    };
}

stripe::client_options stripe_client_options(const config& cfg, const std::string& key) {
    stripe::client_options copts;
    copts.max_retries = cfg.stripe.max_retries;
    copts.requests_per_second = requests_per_second(cfg, key);
    copts.concurrency = cfg.stripe.concurrency;
    copts.redact = {key};
    return copts;
}

}  // namespace reconciler
