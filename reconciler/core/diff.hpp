// The diff: Stripe's truth for a window against the app's state. Pure: value
// types in, findings out; no network, no database, no clock.
//
// docs/findings.md is the specification: every kind's rule, subject,
// correction and team. A finding whose correction cannot be computed safely
// carries no correction and is flagged for its team.
#pragma once

#include "core/model.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler {

enum class finding_kind {
    credits_not_granted,
    paid_without_entitlement_change,
    tier_mismatch,
    amount_mismatch,
    currency_mismatch,
    orphan_local_payment,
    refund_or_dispute,
    unknown_customer,
    credits_not_decrementing,
    negative_or_stuck_balance,
    balance_drift,
    webhook_failed_twice,
    missed_webhook,
    webhook_signature_failures,
    missing_correlation_id,
    charge_without_invoice,
    unknown_price,
    billing_portal_misconfigured,
};
inline constexpr int finding_kind_count = 18;
enum class team { billing_engineering, backend_engineering, data_platform, devops, stripe_support };

const char* to_string(finding_kind k) noexcept;
const char* to_string(team t) noexcept;

enum class correction_kind { grant_credits, set_tier, revoke_credits };
const char* to_string(correction_kind k) noexcept;

struct proposed_correction {
    correction_kind kind = correction_kind::grant_credits;
    // The Stripe object the correction derives from: (ledger_key, kind) is
    // unique in the corrections ledger, so a correction applies at most once.
    std::string ledger_key;
    std::int64_t user_id = 0;
    std::int64_t credits = 0;                     // grant_credits, revoke_credits (positive)
    std::int64_t unrecovered = 0;                 // revoke_credits: refunded credits already spent
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
    unix_seconds at = 0;                     // when it happened (0: not tied to the window)
    boost::json::object evidence;            // Stripe and local ids, amounts, request ids, times
    std::optional<proposed_correction> correction;
};

struct diff_policy {
    std::map<std::string, price_entitlement> prices;
    std::string free_tier = "free";
    std::string past_due_tier = "keep";  // "keep": the price's tier
    bool clawback = true;                // refund_or_dispute: revoke unused credits
    unix_seconds webhook_grace = 3600;   // a delivery younger than this may still arrive
    std::int64_t signature_failure_threshold = 3;
};

// A Stripe event of the window, as the webhook checks need it.
struct event_ref {
    std::string id;
    std::string type;
    unix_seconds created = 0;
    std::string object_id;
};

// A refund or a dispute of a charge, from charge.refunded / charge.dispute.created.
struct charge_case {
    std::string event_id;
    bool dispute = false;
    // The charge (retrieved for disputes). ch.invoice is its invoice as the
    // charge named it (before basil) or as its InvoicePayment links it (the
    // run fills it in); empty when nothing ties the charge to an invoice.
    charge ch;
    std::int64_t amount = 0;    // refunded or disputed amount
    unix_seconds created = 0;   // the event's time
    std::string unlinked{};        // why ch.invoice is empty (a human line); "" when linked
    std::string link_request_id{};  // Request-Id of the response that linked (or failed to link) the invoice
};

// The newest known state of one subscription in the window.
struct subscription_state {
    subscription sub;
    std::string event_id;     // the newest event that carried it
    unix_seconds as_of = 0;   // that event's created time
    bool retrieved = false;   // true when sub was fetched because events disagreed
    std::string request_id;   // of the response that carried the state ("" when unknown)
};

// Where a subscription_folder keeps its states. The default keeps them in
// memory; a run over a long window keeps them on disk (store.hpp,
// subscription_scratch), so that a window's subscriptions need not fit in
// memory. Implementations see whole rows; the folding rules stay here.
class subscription_state_table {
public:
    struct row {
        subscription_state state;
        bool ambiguous = false;
    };
    virtual ~subscription_state_table() = default;
    virtual std::optional<row> find(const std::string& subscription_id) = 0;
    virtual void put(const std::string& subscription_id, const row& r) = 0;
    virtual std::vector<std::string> ambiguous_ids() = 0;
    // Every row, in no particular order.
    virtual void each(const std::function<void(const row&)>& visit) = 0;
    // The rows that are not ambiguous, ordered by customer, handed out in
    // chunks of at most `customers` customers (a customer's rows are never
    // split); the table is empty afterwards.
    virtual void drain_by_customer(std::size_t customers,
                                   const std::function<void(std::vector<subscription_state>&&)>& chunk) = 0;
};

std::unique_ptr<subscription_state_table> make_memory_subscription_table();

// A state as one JSON object and back (for tables that keep rows as text).
boost::json::object subscription_state_json(const subscription_state& s);
subscription_state subscription_state_from_json(const boost::json::object& o);

// Folds subscription events of a window into the newest state per
// subscription. Events may arrive in any order; the newest `created` wins
// (a late-arriving older event never overrides a newer one). When the newest
// second holds events that disagree (status or items), the state is marked
// ambiguous: the caller fetches the subscription and calls resolve().
class subscription_folder {
public:
    // With a policy, same-second snapshots disagree only when they imply
    // different tiers (target_tier): the diff uses a state for nothing else,
    // and a signup's incomplete -> active in one second is then no reason to
    // fetch the subscription. Without one, any status or item difference does.
    // `table`: where the states live (null: memory).
    subscription_folder() : subscription_folder(nullptr) {}
    explicit subscription_folder(const diff_policy* policy, std::unique_ptr<subscription_state_table> table = nullptr)
        : table_(table ? std::move(table) : make_memory_subscription_table()), policy_(policy) {}

    // `request_id`: of the response that carried it, kept with the state
    // (the run needs no id map for every subscription event of the window).
    void add(const event& e, const std::string& request_id = {});  // ignores non-subscription events
    std::vector<std::string> ambiguous() const;  // subscription ids to fetch
    // The fetched truth for an ambiguous one.
    void resolve(const subscription& current, const std::string& request_id = {});
    // The current state from a subscription list, for subscriptions no event
    // of the window covers (the part of a window past Stripe's event retention).
    // Never overrides an event-derived state. Returns whether it was added.
    bool add_current(const subscription& current, const std::string& request_id = {});
    std::vector<subscription_state> states() const;  // ambiguous ones left out, by subscription id
    // The states (ambiguous ones left out) by customer, in chunks of at most
    // `customers` customers; the folder is empty afterwards.
    void drain_by_customer(std::size_t customers, const std::function<void(std::vector<subscription_state>&&)>& chunk);

private:
    std::unique_ptr<subscription_state_table> table_;
    const diff_policy* policy_ = nullptr;
};

struct window_input {
    unix_seconds start = 0, end = 0;  // [start, end): the window, or one slice of it
    // The whole window's end when this input is one slice of it: events younger
    // than webhook_grace before it may still be delivered. 0: `end`.
    unix_seconds window_end = 0;
    std::vector<invoice> invoices;    // deduplicated by id
    std::vector<subscription_state> subscriptions;
    std::vector<event_ref> events;
    std::vector<charge_case> charge_cases;
    std::vector<customer> customers;  // created in the window or referenced by it
    // Invoices of app payments that the window did not bring, looked up one by
    // one: id -> Stripe status, or "" when Stripe answered 404.
    std::map<std::string, std::string> looked_up_invoices;
    std::map<std::string, std::string> request_ids;  // Stripe object id -> Request-Id it came with
};

// The app's side: users of the window's customers plus users with activity
// in the window or a broken balance; their payments; the window's usage and
// webhook deliveries.
struct local_snapshot {
    std::vector<local_user> users;
    std::vector<local_payment> payments;
    std::vector<usage_row> usage;
    std::vector<webhook_delivery> webhooks;
};

// Credits an invoice entitles to under the price map (proration lines excluded).
std::int64_t invoice_credits(const invoice& inv, const diff_policy& policy);

// The tier a subscription state implies, or nullopt when it implies none.
std::optional<std::string> target_tier(const subscription& sub, const diff_policy& policy);

// Event types the app's webhook handler processes (missed_webhook considers only these).
bool app_handles_event_type(std::string_view type);

// The whole window at once: every rule over one input.
std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy);

// A long window is diffed in parts so that memory is bounded by a slice, not
// by the window (and a run can checkpoint after each slice):
//  - window_rules, once and first: tiers from the newest subscription states,
//    the app's balances, usage and webhook log, and missed subscription events.
//    Its input carries the subscriptions and the subscription events.
//  - slice_rules, once per chronological slice: paid invoices, refunds and
//    disputes, customers, orphan payments, missed events of the slice.
//  - pending_customers(), once and last.
// Together they find what diff() finds over the same window.
//
// The window part may itself be split so that memory is bounded by a chunk,
// not by the window's customers (each subject is decided by exactly one part):
//  - tier_rules over chunks of subscription states, grouped by customer, with
//    the users of those customers (tiers, subscription customers unknown);
//  - user_rules over chunks of users, with their usage in the window
//    (balances, usage, correlation ids);
//  - webhook_rules once, with the deliveries the webhook-log rules can flag;
//  - missed_events over chunks of the window's subscription events, with
//    the app's deliveries of those events (the other scopes also check the
//    events they are given).
// window_rules = all of these over one input.
enum class diff_scope { window_rules, slice_rules, tier_rules, user_rules, webhook_rules, missed_events };

// What a window's earlier parts leave for the later ones, so a subject is
// reported once per window however many slices mention it. Its size is
// bounded by the window's customers and charges and by two parts'
// corrections, not by its events.
struct diff_memory {
    // unknown_customer decided: reported, or matched by email (a customer a
    // user matches by id is matched again wherever it reappears).
    std::set<std::string> customers_checked;
    std::set<std::string> charges_checked;    // refund_or_dispute considered
    // Subscription customers no user matched by id: an invoice of a later
    // slice may still match them by email. id -> (as_of, request id).
    std::map<std::string, std::pair<unix_seconds, std::string>> pending_customers;
    // Object id -> the kind of the finding whose correction repairs a missed
    // event's effect (the finding's subject is the object), in two
    // generations: this part's and the one before (forget_older_repairs).
    std::map<std::string, finding_kind> repaired_by, repaired_before;
    // Stripe objects a rule read and had no finding for, by reason (e.g. a
    // refunded charge whose customer has no app user): counted in the
    // report, so that nothing Stripe sent is passed over without a trace.
    std::map<std::string, std::int64_t> passed_over;
    // Prices the price map does not know (nor ignores), as the window's paid
    // invoices and live subscriptions use them: one unknown_price finding
    // each when the window ends (unknown_price_findings).
    struct price_use {
        std::string nickname, product;
        std::set<std::string> customers;
        std::int64_t invoices = 0, subscriptions = 0;
        std::vector<std::string> examples;  // the first few objects that use it
        unix_seconds first_seen = 0;
        std::string request_id;  // of the response that carried the first example
    };
    std::map<std::string, price_use> unknown_prices;
};

// Ends a part of the window for the repairs: an event lands in its object's
// part or, paid at the part's very end, the next one (the run's slice
// margin), so repairs older than the part before are dropped. Without this
// a window's every correction stayed in memory to its end (17,000 at 1M
// events). Call it between slices, not between the window part's chunks:
// its missed subscription events are checked after all its tier chunks.
void forget_older_repairs(diff_memory& memory);

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                          diff_scope scope, diff_memory& memory);

// Subscription customers that no slice matched: unknown_customer findings.
std::vector<finding> pending_customers(diff_memory& memory);

// One unknown_price finding per price the window used that the price map
// neither knows nor ignores (billing engineering: "add it to prices: or mark
// it ignore"), with the customers, invoices and subscriptions that use it;
// call once, when the window ends. Their invoices grant nothing and their
// subscriptions imply no tier until the price is mapped.
std::vector<finding> unknown_price_findings(diff_memory& memory);

// True when the price map neither maps nor ignores `price_id`.
bool price_unknown(const diff_policy& policy, const std::string& price_id);

}  // namespace reconciler
