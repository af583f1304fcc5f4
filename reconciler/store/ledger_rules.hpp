// The ledger's rules, the same on every backend: what a correction does to
// the user as the transaction re-read it (apply it, or say why not), the
// balance it leaves, the details JSON its ledger row keeps. The backends
// (sqlite/ledger.cpp, postgres/ledger.cpp) do only the reads and writes.
#pragma once

#include "core/finding.hpp"
#include "core/model.hpp"
#include "store/types.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reconciler::store::ledger_rules {

// The user already has a credit event of `kind` ("grant", "revoke") from `source`.
bool has_credit_event(const local_user& u, std::string_view kind, const std::string& source);

// Whether the correction still applies to `u` (re-read in its transaction);
// when it does not, r.outcome and r.detail say why (superseded or conflict).
// revoke_amount: the credits to revoke, never more than the unused balance
// (the app may have consumed since the diff); nullopt: nothing to revoke.
std::optional<std::int64_t> revoke_amount(const proposed_correction& c, const local_user& u, apply_result& r);
bool grant_applies(const proposed_correction& c, const local_user& u, apply_result& r);
bool tier_applies(const proposed_correction& c, const std::string& plan, apply_result& r);

// `before` + `delta`, checked: a balance that wraps is a wrong balance
// written, so store_error naming the change and the user instead (the
// transaction rolls back and the correction is reported failed).
std::int64_t balance_after(std::int64_t before, std::int64_t delta, const char* kind, std::int64_t user_id);

// The details JSON of a credit change: the balance before and after.
void note_balance(boost::json::object& details, std::int64_t before, std::int64_t after);
// What a revoke could not take back: the correction's own unrecovered part
// plus what the balance no longer held.
void note_unrecovered(boost::json::object& details, const proposed_correction& c, std::int64_t revoked);
// The last details every applied correction carries.
void note_origin(boost::json::object& details, const proposed_correction& c);

// The ledger row's credits_delta: grants positive, revokes negative, 0 for a tier.
std::int64_t ledger_delta(const proposed_correction& c, const apply_result& r);

}  // namespace reconciler::store::ledger_rules
