// The diff: Stripe's truth for a window against the app's state. Pure: value
// types in, findings out; no network, no database, no clock.
//
// Rules (the runbook's scenarios; README "What it checks" documents them):
//  credits_not_granted  a paid invoice (either API shape) whose customer maps
//                       to a user with no `grant` credit event sourced from
//                       that invoice. Credits = sum over non-proration lines of
//                       price-map credits x quantity. Correction: grant them
//                       (and record the payment when the app has none).
//  tier_mismatch        the user's plan differs from the tier the NEWEST state
//                       of the subscription implies: active/trialing -> the
//                       price's tier; canceled/unpaid/incomplete_expired -> the
//                       free tier; past_due -> policy; incomplete/paused -> no
//                       opinion. Correction: set the tier.
// A finding whose correction cannot be computed safely (embedded invoice lines
// truncated, ...) carries no correction and is flagged for its team.
#pragma once

#include "core/model.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reconciler {

enum class finding_kind { credits_not_granted, tier_mismatch };
enum class team { billing_engineering, backend_engineering, data_platform, devops, stripe_support };

const char* to_string(finding_kind k) noexcept;
const char* to_string(team t) noexcept;

enum class correction_kind { grant_credits, set_tier };
const char* to_string(correction_kind k) noexcept;

struct proposed_correction {
    correction_kind kind = correction_kind::grant_credits;
    // The Stripe object the correction derives from: (ledger_key, kind) is
    // unique in the corrections ledger, so a correction applies at most once.
    std::string ledger_key;
    std::int64_t user_id = 0;
    std::int64_t credits = 0;                     // grant_credits
    std::string tier_from, tier_to;               // set_tier
    std::optional<local_payment> record_payment;  // grant_credits when the app has no payment row
    std::string source;                           // credit event source (Stripe id)
    std::string reason;                           // credit event reason / log action
};

struct finding {
    finding_kind kind = finding_kind::credits_not_granted;
    std::string subject_type;  // invoice | subscription | user | customer | event
    std::string subject_id;
    std::string customer_id;
    std::optional<std::int64_t> user_id;
    std::string user_email;
    team owner = team::backend_engineering;  // who acts when it is not (or cannot be) fixed
    std::string summary;                     // one human line
    boost::json::object evidence;            // Stripe and local ids, amounts, request ids, times
    std::optional<proposed_correction> correction;
};

struct diff_policy {
    std::map<std::string, price_entitlement> prices;
    std::string free_tier = "free";
    std::string past_due_tier = "keep";  // "keep": the price's tier
};

// The newest known state of one subscription in the window.
struct subscription_state {
    subscription sub;
    std::string event_id;     // the newest event that carried it
    unix_seconds as_of = 0;   // that event's created time
    bool retrieved = false;   // true when sub was fetched because events disagreed
};

// Folds subscription events of a window into the newest state per
// subscription. Events may arrive in any order; the newest `created` wins
// (a late-arriving older event never overrides a newer one). When the newest
// second holds events that disagree (status or items), the state is marked
// ambiguous: the caller fetches the subscription and calls resolve().
class subscription_folder {
public:
    void add(const event& e);  // ignores events whose object is not a subscription
    std::vector<std::string> ambiguous() const;  // subscription ids to fetch
    void resolve(const subscription& current);    // the fetched truth for an ambiguous one
    std::vector<subscription_state> states() const;

private:
    struct entry {
        subscription_state state;
        bool ambiguous = false;
    };
    std::map<std::string, entry> by_id_;
};

struct window_input {
    std::vector<invoice> invoices;  // deduplicated by id
    std::vector<subscription_state> subscriptions;
    std::map<std::string, std::string> request_ids;  // Stripe object id -> Request-Id it came with
};

// The app's side for the customers of the window.
struct local_snapshot {
    std::vector<local_user> users;
    std::vector<local_payment> payments;
};

// Credits an invoice entitles to under the price map (proration lines excluded).
std::int64_t invoice_credits(const invoice& inv, const diff_policy& policy);

// The tier a subscription state implies, or nullopt when it implies none.
std::optional<std::string> target_tier(const subscription& sub, const diff_policy& policy);

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy);

}  // namespace reconciler
