// How every command talks to Stripe: the configured URL, CA, timeout, pinned
// version and account, and a request budget of 25/s for test keys and 90/s
// for live keys unless configured. The key is masked in every error.
#pragma once

#include "config/config.hpp"
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"

#include <string>

namespace reconciler {

stripe::beast_transport_options stripe_transport_options(const config& cfg, const std::string& key);
stripe::client_options stripe_client_options(const config& cfg, const std::string& key);

}  // namespace reconciler
