// Port: what the support commands look up (runbook §2-§3).
#pragma once

#include "store/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reconciler::store {

class support_queries {
public:
    virtual ~support_queries() = default;

    virtual std::optional<local_user> find_user_by_email(const std::string& email) = 0;
    // Open escalations about this user: subject is the email or evidence names the customer/user.
    virtual std::vector<escalation> escalations_for(const local_user& u) = 0;
};

}  // namespace reconciler::store
