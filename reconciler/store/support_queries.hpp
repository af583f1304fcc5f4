// Port: what the support commands look up (runbook §2-§3).
#pragma once

#include "store/types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reconciler::store {

// One run as the report's trend and the runs index show it (recon_runs and
// its recon_findings counted by kind).
struct run_summary {
    std::int64_t id = 0;
    std::string status;  // running | succeeded | failed | abandoned
    std::string mode;    // apply | dry_run
    std::string started_at, finished_at;  // RFC 3339; finished_at "" while running
    unix_seconds window_start = 0, window_end = 0;
    std::int64_t findings = 0, corrections_applied = 0;
    struct kind_count {
        std::int64_t findings = 0, applied = 0;
    };
    std::map<std::string, kind_count> by_kind;
};

class support_queries {
public:
    virtual ~support_queries() = default;

    virtual std::optional<local_user> find_user_by_email(const std::string& email) = 0;
    // Open escalations about this user: subject is the email or evidence names the customer/user.
    virtual std::vector<escalation> escalations_for(const local_user& u) = 0;
    // The newest `limit` runs kept in the database, oldest first, with their
    // findings counted by kind (the report's trend, reports/index.html).
    virtual std::vector<run_summary> run_trend(int limit) = 0;
};

}  // namespace reconciler::store
