// Where a secret (the Stripe key, the webhook signing secret) comes from, and
// reading it from there. The config file names the source, never the value.
#pragma once

#include "config/config_error.hpp"

#include <string>

namespace reconciler {

// Where a secret comes from. Exactly one of the three is set.
struct secret_source {
    std::string env;         // environment variable name, e.g. STRIPE_API_KEY
    std::string file;        // path to a file holding the secret (trailing newline trimmed)
    std::string credential;  // name under $CREDENTIALS_DIRECTORY (systemd LoadCredential=)
};

// Resolves a secret from its source. Throws config_error naming the source
// (never the value) when it is missing or empty; `config_key` is the key the
// hint points at ("stripe.key", "webhook.secret"). A secret file readable by
// all users is refused; trailing whitespace is trimmed, inner whitespace or
// control characters are refused (the value becomes an HTTP header).
std::string read_secret(const secret_source& source, const std::string& what,
                        const std::string& config_key = "stripe.key");

}  // namespace reconciler
