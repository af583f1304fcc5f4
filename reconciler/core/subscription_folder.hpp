// The newest state of each subscription of a window, folded from its events
// in any order, and where those states are kept (memory or the store's
// scratch table).
#pragma once

#include "core/diff_input.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reconciler {

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
    // The ids the next finds will ask for (a page's events): a table behind
    // a network round trip reads them at once. Memory and SQLite: nothing to do.
    virtual void prefetch(const std::vector<std::string>& /*subscription_ids*/) {}
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
    // The subscriptions of the events about to be added (subscription_state_table::prefetch).
    void prefetch(const std::vector<std::string>& subscription_ids) { table_->prefetch(subscription_ids); }
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

}  // namespace reconciler
