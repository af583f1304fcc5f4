// Random identifiers the store writes and the run logs.
#pragma once

#include <string>

namespace reconciler::store {

// "ce_" + 24 hex: a credit event's id in plan_metadata.
std::string random_credit_event_id();
// UUID v4 text: ties a correction's log line, ledger row and credit event.
std::string random_correlation_id();

}  // namespace reconciler::store
