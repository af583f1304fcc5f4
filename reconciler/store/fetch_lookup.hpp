// Port: what the Stripe fetch stage asks of the database while it fetches,
// and nothing more (it never writes the app's tables).
#pragma once

#include "core/diff.hpp"
#include "core/timeutil.hpp"

#include <memory>
#include <string>
#include <vector>

namespace reconciler::store {

class fetch_lookup {
public:
    virtual ~fetch_lookup() = default;

    // Scratch space for the newest state of every subscription of a window:
    // a database file beside the app's (<path>.reconciler-scratch, not
    // journaled), attached to this connection and removed with the returned
    // table. Only one at a time.
    virtual std::unique_ptr<subscription_state_table> subscription_scratch() = 0;
    // Payments whose paid_at lies in [start, end): their invoice ids.
    virtual std::vector<std::string> payments_paid_between(unix_seconds start, unix_seconds end) = 0;
    // Of these Stripe event ids, those the app's webhook log has a row for.
    virtual std::vector<std::string> delivered_event_ids(const std::vector<std::string>& event_ids) = 0;
};

}  // namespace reconciler::store
