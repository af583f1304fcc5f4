#include "core/subscription_folder.hpp"

#include "core/diff.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <map>
#include <string_view>

namespace reconciler {

namespace json = boost::json;

namespace {

// Two snapshots "disagree" when they would lead to different entitlements.
bool same_entitlement_state(const subscription& a, const subscription& b) {
    if (a.status != b.status || a.items.size() != b.items.size()) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (a.items[i].price_id != b.items[i].price_id || a.items[i].quantity != b.items[i].quantity)
            return false;
    return true;
}

// Where a status sits in Stripe's subscription lifecycle: `incomplete` is
// only ever a subscription's first status, and `canceled` and
// `incomplete_expired` its last (neither is ever left). Two same-second
// snapshots of different stages are therefore ordered without asking Stripe.
int lifecycle_rank(const std::string& status) {
    if (status == "incomplete") return 0;
    if (status == "canceled" || status == "incomplete_expired") return 2;
    return 1;
}

class memory_subscription_table final : public subscription_state_table {
public:
    std::optional<row> find(const std::string& id) override {
        auto it = rows_.find(id);
        if (it == rows_.end()) return std::nullopt;
        return it->second;
    }
    void put(const std::string& id, const row& r) override { rows_[id] = r; }
    std::vector<std::string> ambiguous_ids() override {
        std::vector<std::string> ids;
        for (const auto& [id, r] : rows_)
            if (r.ambiguous) ids.push_back(id);
        return ids;
    }
    void each(const std::function<void(const row&)>& visit) override {
        for (const auto& [id, r] : rows_) visit(r);
    }
    void drain_by_customer(std::size_t customers,
                           const std::function<void(std::vector<subscription_state>&&)>& chunk) override {
        std::vector<subscription_state> all;
        for (auto it = rows_.begin(); it != rows_.end(); it = rows_.erase(it))
            if (!it->second.ambiguous) all.push_back(std::move(it->second.state));
        std::stable_sort(all.begin(), all.end(), [](const subscription_state& a, const subscription_state& b) {
            return a.sub.customer < b.sub.customer;
        });
        std::vector<subscription_state> part;
        std::size_t in_part = 0;
        for (auto& st : all) {
            const bool new_customer = part.empty() || part.back().sub.customer != st.sub.customer;
            if (new_customer && in_part == customers) {
                chunk(std::move(part));
                part.clear();
                in_part = 0;
            }
            if (new_customer) ++in_part;
            part.push_back(std::move(st));
        }
        if (!part.empty()) chunk(std::move(part));
    }

private:
    std::map<std::string, row> rows_;
};

json::value optional_time(const std::optional<unix_seconds>& t) { return t ? json::value(*t) : json::value(nullptr); }

std::optional<unix_seconds> time_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    return v->to_number<std::int64_t>();
}

std::string text_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

}  // namespace

std::unique_ptr<subscription_state_table> make_memory_subscription_table() {
    return std::make_unique<memory_subscription_table>();
}

json::object subscription_state_json(const subscription_state& s) {
    json::array items;
    for (const auto& i : s.sub.items)
        items.push_back(json::object{{"id", i.id},
                                     {"price", i.price_id},
                                     {"nickname", i.price_nickname},
                                     {"product", i.product},
                                     {"quantity", i.quantity},
                                     {"period_end", optional_time(i.current_period_end)}});
    return json::object{{"id", s.sub.id},
                        {"customer", s.sub.customer},
                        {"status", s.sub.status},
                        {"created", s.sub.created},
                        {"period_end", optional_time(s.sub.current_period_end)},
                        {"items", std::move(items)},
                        {"event", s.event_id},
                        {"as_of", s.as_of},
                        {"retrieved", s.retrieved},
                        {"request_id", s.request_id}};
}

subscription_state subscription_state_from_json(const json::object& o) {
    subscription_state s;
    s.sub.id = text_at(o, "id");
    s.sub.customer = text_at(o, "customer");
    s.sub.status = text_at(o, "status");
    s.sub.created = time_at(o, "created").value_or(0);
    s.sub.current_period_end = time_at(o, "period_end");
    if (const auto* items = o.if_contains("items"); items && items->is_array())
        for (const auto& v : items->get_array()) {
            const auto& io = v.as_object();
            s.sub.items.push_back(subscription_item{text_at(io, "id"), text_at(io, "price"),
                                                    time_at(io, "quantity").value_or(1), time_at(io, "period_end"),
                                                    text_at(io, "nickname"), text_at(io, "product")});
        }
    s.event_id = text_at(o, "event");
    s.as_of = time_at(o, "as_of").value_or(0);
    const auto* r = o.if_contains("retrieved");
    s.retrieved = r && r->is_bool() && r->get_bool();
    s.request_id = text_at(o, "request_id");
    return s;
}

void subscription_folder::add(const event& e, const std::string& request_id) {
    const auto* sub = std::get_if<subscription>(&e.object);
    if (!sub) return;
    auto found = table_->find(sub->id);
    const bool inserted = !found;
    subscription_state_table::row cur = found ? std::move(*found) : subscription_state_table::row{};
    if (inserted || e.created > cur.state.as_of) {
        cur.state = subscription_state{*sub, e.id, e.created, false, request_id};
        cur.ambiguous = false;
    } else if (e.created == cur.state.as_of && !cur.state.retrieved &&
               lifecycle_rank(sub->status) != lifecycle_rank(cur.state.sub.status)) {
        // Same second, but Stripe's lifecycle orders them: the later stage is
        // the newer snapshot, and no request is needed to know it.
        if (lifecycle_rank(sub->status) <= lifecycle_rank(cur.state.sub.status)) return;
        cur.state.sub = *sub;
        cur.state.event_id = e.id;
        cur.state.request_id = request_id;
        cur.ambiguous = false;
    } else if (e.created == cur.state.as_of && !cur.state.retrieved) {
        // Same second: Stripe gives no order within it, so only agreement is safe.
        const bool agree = policy_ ? target_tier(cur.state.sub, *policy_) == target_tier(*sub, *policy_)
                                   : same_entitlement_state(cur.state.sub, *sub);
        if (!agree) cur.ambiguous = true;
        // Deterministic choice of the carrying event whatever the arrival order.
        if (e.id > cur.state.event_id) {
            cur.state.sub = *sub;
            cur.state.event_id = e.id;
            cur.state.request_id = request_id;
        }
    } else {
        return;  // older: nothing changes
    }
    table_->put(sub->id, cur);
}

std::vector<std::string> subscription_folder::ambiguous() const { return table_->ambiguous_ids(); }

void subscription_folder::resolve(const subscription& current, const std::string& request_id) {
    auto found = table_->find(current.id);
    if (!found) return;
    found->state.sub = current;
    found->state.request_id = request_id;
    found->state.retrieved = true;
    found->ambiguous = false;
    table_->put(current.id, *found);
}

bool subscription_folder::add_current(const subscription& current, const std::string& request_id) {
    if (table_->find(current.id)) return false;
    table_->put(current.id, subscription_state_table::row{subscription_state{current, "", 0, true, request_id}, false});
    return true;
}

void subscription_folder::drain_by_customer(std::size_t customers,
                                            const std::function<void(std::vector<subscription_state>&&)>& chunk) {
    table_->drain_by_customer(customers, chunk);
}

std::vector<subscription_state> subscription_folder::states() const {
    std::vector<subscription_state> out;
    table_->each([&](const subscription_state_table::row& r) {
        if (!r.ambiguous) out.push_back(r.state);
    });
    std::sort(out.begin(), out.end(),
              [](const subscription_state& a, const subscription_state& b) { return a.sub.id < b.sub.id; });
    return out;
}

}  // namespace reconciler
