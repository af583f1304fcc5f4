// What `reconciler check-config --connect` reaches, each the way a run does,
// without changing anything: the app database and Stripe.
#pragma once

#include "config/config.hpp"

#include <string>

namespace reconciler::cli {

// Opens the database and checks its schema. Returns the line to print.
// Throws store::schema_error (missing, foreign or unmigrated: exit 2) or
// store::store_error.
std::string check_database(const config& cfg);

// Reads the Stripe key from its source, connects (the certificate verified
// as a run verifies it) and GETs /v1/events?limit=1, the cheapest read.
// Returns the line to print. Throws config_error (no key) or
// std::invalid_argument (URL, CA file, certificate refused): exit 2;
// stripe::stripe_error when Stripe is unreachable or refuses the key: exit 1.
std::string check_stripe(const config& cfg);

}  // namespace reconciler::cli
