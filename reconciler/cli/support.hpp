// The support runbook's §2-§3 as commands: `inspect` shows an account as a
// support engineer needs it; `adjust` makes one manual change, in one
// transaction, logged as an entitlement_change with a correlation id to paste
// into the ticket.
#pragma once

#include "config/config.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace reconciler {

// A request a support engineer should not be able to make (unknown user or
// tier, non-positive amount, a consume below zero without --force).
class support_refusal : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// tier, stripe_customer, ai_credits, the last five credit events, open escalations.
boost::json::object inspect_user(const config& cfg, const std::string& email);
std::string format_inspect(const boost::json::object& account);

struct adjust_request {
    std::string email;
    std::optional<std::int64_t> grant_credits;
    std::optional<std::int64_t> consume_credits;
    std::optional<std::string> set_tier;
    std::string reason = "support-adjustment";
    bool force = false;
};

// Returns the entitlement_change line it logged (with the correlation id).
boost::json::object adjust_user(const config& cfg, const adjust_request& req);

}  // namespace reconciler
