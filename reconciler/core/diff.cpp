#include "core/diff.hpp"

#include "core/timeutil.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

namespace reconciler {

namespace json = boost::json;

const char* to_string(finding_kind k) noexcept {
    switch (k) {
    case finding_kind::credits_not_granted: return "credits_not_granted";
    case finding_kind::paid_without_entitlement_change: return "paid_without_entitlement_change";
    case finding_kind::tier_mismatch: return "tier_mismatch";
    case finding_kind::amount_mismatch: return "amount_mismatch";
    case finding_kind::currency_mismatch: return "currency_mismatch";
    case finding_kind::orphan_local_payment: return "orphan_local_payment";
    case finding_kind::refund_or_dispute: return "refund_or_dispute";
    case finding_kind::unknown_customer: return "unknown_customer";
    case finding_kind::credits_not_decrementing: return "credits_not_decrementing";
    case finding_kind::negative_or_stuck_balance: return "negative_or_stuck_balance";
    case finding_kind::balance_drift: return "balance_drift";
    case finding_kind::webhook_failed_twice: return "webhook_failed_twice";
    case finding_kind::missed_webhook: return "missed_webhook";
    case finding_kind::webhook_signature_failures: return "webhook_signature_failures";
    case finding_kind::missing_correlation_id: return "missing_correlation_id";
    case finding_kind::charge_without_invoice: return "charge_without_invoice";
    case finding_kind::unknown_price: return "unknown_price";
    case finding_kind::billing_portal_misconfigured: return "billing_portal_misconfigured";
    }
    return "unknown";
}

const char* to_string(team t) noexcept {
    switch (t) {
    case team::billing_engineering: return "billing_engineering";
    case team::backend_engineering: return "backend_engineering";
    case team::data_platform: return "data_platform";
    case team::devops: return "devops";
    case team::stripe_support: return "stripe_support";
    }
    return "unknown";
}

const char* to_string(correction_kind k) noexcept {
    switch (k) {
    case correction_kind::grant_credits: return "grant_credits";
    case correction_kind::set_tier: return "set_tier";
    case correction_kind::revoke_credits: return "revoke_credits";
    }
    return "unknown";
}

// ------------------------------------------------------- subscription_folder

namespace detail {

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

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace detail

namespace {

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
               detail::lifecycle_rank(sub->status) != detail::lifecycle_rank(cur.state.sub.status)) {
        // Same second, but Stripe's lifecycle orders them: the later stage is
        // the newer snapshot, and no request is needed to know it.
        if (detail::lifecycle_rank(sub->status) <= detail::lifecycle_rank(cur.state.sub.status)) return;
        cur.state.sub = *sub;
        cur.state.event_id = e.id;
        cur.state.request_id = request_id;
        cur.ambiguous = false;
    } else if (e.created == cur.state.as_of && !cur.state.retrieved) {
        // Same second: Stripe gives no order within it, so only agreement is safe.
        const bool agree = policy_ ? target_tier(cur.state.sub, *policy_) == target_tier(*sub, *policy_)
                                   : detail::same_entitlement_state(cur.state.sub, *sub);
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

// ----------------------------------------------------------------- the rules

std::int64_t invoice_credits(const invoice& inv, const diff_policy& policy) {
    std::int64_t credits = 0;
    for (const auto& line : inv.lines) {
        // Prorations adjust money for a mid-cycle change; entitlements follow
        // the tier (tier_mismatch) and the next cycle's full-price line.
        if (line.proration) continue;
        auto it = policy.prices.find(line.price_id);
        if (it == policy.prices.end()) continue;
        credits += it->second.credits * std::max<std::int64_t>(line.quantity, 0);
    }
    return credits;
}

bool price_unknown(const diff_policy& policy, const std::string& price_id) {
    return !price_id.empty() && !policy.prices.count(price_id);
}

std::optional<std::string> target_tier(const subscription& sub, const diff_policy& policy) {
    auto price_tier = [&]() -> std::optional<std::string> {
        for (const auto& item : sub.items) {
            auto it = policy.prices.find(item.price_id);
            if (it != policy.prices.end() && !it->second.tier.empty()) return it->second.tier;
        }
        return std::nullopt;
    };
    const auto& s = sub.status;
    if (s == "active" || s == "trialing") return price_tier();
    if (s == "canceled" || s == "unpaid" || s == "incomplete_expired") return policy.free_tier;
    if (s == "past_due") return policy.past_due_tier == "keep" ? price_tier() : policy.past_due_tier;
    return std::nullopt;  // incomplete, paused, unknown: no opinion
}

namespace detail {

// Keys are views into the snapshot, which outlives the index (a dense
// slice's ids copied were ~2 MB of a 1M-event run's peak). Emails are
// folded to lower case, so those keys are strings of their own.
struct local_index {
    std::unordered_map<std::string_view, const local_user*> by_customer;
    std::unordered_map<std::string, const local_user*> by_email;
    std::unordered_map<std::string_view, const local_payment*> payment_by_invoice;
    std::unordered_map<std::string_view, const webhook_delivery*> delivery_by_event;

    explicit local_index(const local_snapshot& local) {
        for (const auto& u : local.users) {
            if (!u.stripe_customer_id.empty()) by_customer.emplace(u.stripe_customer_id, &u);
            by_email.emplace(lower(u.email), &u);
        }
        for (const auto& p : local.payments) payment_by_invoice.emplace(p.invoice_id, &p);
        for (const auto& w : local.webhooks) delivery_by_event.emplace(w.event_id, &w);
    }

    const local_user* user_for(std::string_view customer_id, const std::string& email) const {
        if (auto it = by_customer.find(customer_id); it != by_customer.end()) return it->second;
        if (!email.empty())
            if (auto it = by_email.find(lower(email)); it != by_email.end()) return it->second;
        return nullptr;
    }

    const local_payment* payment_for(std::string_view invoice_id) const {
        auto it = payment_by_invoice.find(invoice_id);
        return it == payment_by_invoice.end() ? nullptr : it->second;
    }
};

// Shared context of one diff.
struct ctx {
    const window_input& in;
    const local_snapshot& local;
    const diff_policy& policy;
    diff_memory& mem;
    local_index idx;
    std::multimap<std::string_view, const event_ref*> events_by_object;  // views into `in`
    std::vector<finding> out;

    ctx(const window_input& i, const local_snapshot& l, const diff_policy& p, diff_memory& m)
        : in(i), local(l), policy(p), mem(m), idx(l) {
        for (const auto& e : in.events) events_by_object.emplace(e.object_id, &e);
    }

    bool in_window(unix_seconds t) const { return t >= in.start && t < in.end; }
    unix_seconds window_end() const { return in.window_end ? in.window_end : in.end; }

    std::string request_id_of(const std::string& object_id) const {
        auto it = in.request_ids.find(object_id);
        return it == in.request_ids.end() ? std::string{} : it->second;
    }

    finding& add(finding_kind kind, team owner, std::string subject_type, std::string subject_id, unix_seconds at) {
        finding f;
        f.kind = kind;
        f.owner = owner;
        f.subject_type = std::move(subject_type);
        f.subject_id = std::move(subject_id);
        f.at = at;
        out.push_back(std::move(f));
        return out.back();
    }

    static void set_user(finding& f, const local_user& u) {
        f.user_id = u.id;
        f.user_email = u.email;
        if (f.customer_id.empty()) f.customer_id = u.stripe_customer_id;
    }
};

// RFC 3339 text from the app's tables; unparseable times are outside every window.
std::optional<unix_seconds> app_time(const std::string& text) {
    try {
        return parse_rfc3339(text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool has_credit_event(const local_user& u, std::string_view kind, const std::string& source) {
    return std::any_of(u.credit_events.begin(), u.credit_events.end(),
                       [&](const credit_event& e) { return e.kind == kind && e.source == source; });
}

json::array lines_json(const invoice& inv) {
    json::array lines;
    for (const auto& l : inv.lines)
        lines.push_back(json::object{{"price", l.price_id}, {"quantity", l.quantity}, {"proration", l.proration}});
    return lines;
}

// A use of a price the price map does not know, for unknown_price_findings.
void note_unknown_price(ctx& c, const std::string& price, const std::string& nickname, const std::string& product,
                        const std::string& customer, const std::string& object_id, bool is_invoice, unix_seconds at) {
    constexpr std::size_t max_examples = 5;
    auto& use = c.mem.unknown_prices[price];
    if (use.nickname.empty()) use.nickname = nickname;
    if (use.product.empty()) use.product = product;
    if (!customer.empty()) use.customers.insert(customer);
    if (use.invoices + use.subscriptions == 0 || at < use.first_seen) use.first_seen = at;
    if (use.request_id.empty()) use.request_id = c.request_id_of(object_id);
    if (use.examples.size() < max_examples) use.examples.push_back(object_id);
    ++(is_invoice ? use.invoices : use.subscriptions);
}

// Notes the paid invoice's non-proration lines on unknown prices; true when
// it has any (such an invoice grants nothing until the price is mapped: a
// grant from its known lines alone would be a wrong amount).
bool invoice_uses_unknown_prices(ctx& c, const invoice& inv, unix_seconds at) {
    std::set<std::string_view> noted;
    for (const auto& l : inv.lines) {
        if (l.proration || !price_unknown(c.policy, l.price_id) || !noted.insert(l.price_id).second) continue;
        note_unknown_price(c, l.price_id, l.price_nickname, l.product, inv.customer, inv.id, true, at);
    }
    return !noted.empty();
}

// credits_not_granted, paid_without_entitlement_change, amount/currency_mismatch.
void check_invoice(ctx& c, const invoice& inv) {
    if (!inv.paid) return;
    const unix_seconds at = inv.paid_at.value_or(inv.created);
    const bool unknown_prices = invoice_uses_unknown_prices(c, inv, at);
    const local_user* user = c.idx.user_for(inv.customer, inv.customer_email);
    const local_payment* payment = c.idx.payment_for(inv.id);

    if (payment) {
        json::object ev{{"invoice", inv.id},
                        {"customer", inv.customer},
                        {"stripe_amount_paid", inv.amount_paid},
                        {"stripe_currency", inv.currency},
                        {"local_amount", payment->amount},
                        {"local_currency", payment->currency},
                        {"stripe_request_id", c.request_id_of(inv.id)}};
        if (payment->amount != inv.amount_paid) {
            auto& f = c.add(finding_kind::amount_mismatch, team::billing_engineering, "invoice", inv.id, at);
            f.customer_id = inv.customer;
            if (user) ctx::set_user(f, *user);
            f.evidence = ev;
            f.summary = "payment for " + inv.id + " is recorded as " + std::to_string(payment->amount) +
                        " but Stripe collected " + std::to_string(inv.amount_paid);
        }
        if (lower(payment->currency) != lower(inv.currency)) {
            auto& f = c.add(finding_kind::currency_mismatch, team::billing_engineering, "invoice", inv.id, at);
            f.customer_id = inv.customer;
            if (user) ctx::set_user(f, *user);
            f.evidence = ev;
            f.summary = "payment for " + inv.id + " is recorded in " + payment->currency + " but Stripe charged " +
                        inv.currency;
        }
    }

    if (unknown_prices) return;
    const std::int64_t credits = invoice_credits(inv, c.policy);
    if (credits <= 0 && !inv.lines_truncated) return;
    if (!user || has_credit_event(*user, "grant", inv.id)) return;

    auto& f = c.add(finding_kind::credits_not_granted, team::backend_engineering, "invoice", inv.id, at);
    f.customer_id = inv.customer;
    ctx::set_user(f, *user);
    f.evidence = json::object{
        {"invoice", inv.id},
        {"customer", inv.customer},
        {"subscription", inv.subscription},
        {"amount_paid", inv.amount_paid},
        {"currency", inv.currency},
        {"paid_at", inv.paid_at ? json::value(*inv.paid_at) : json::value(nullptr)},
        {"lines", lines_json(inv)},
        {"credits", credits},
        {"stripe_request_id", c.request_id_of(inv.id)},
        {"local_payment", payment != nullptr},
        {"local_ai_credits", user->ai_credits},
        {"local_plan", user->plan},
    };
    // The event whose delivery grants the credits (the `replay` policy re-sends it).
    auto [pb, pe] = c.events_by_object.equal_range(inv.id);
    for (auto it = pb; it != pe; ++it)
        if (it->second->type == "invoice.paid") f.evidence["invoice_paid_event"] = it->second->id;
    if (inv.lines_truncated) {
        f.summary = "paid invoice " + inv.id + " has no credit grant, but its embedded lines are truncated: "
                    "credits cannot be computed safely";
    } else {
        proposed_correction corr;
        corr.kind = correction_kind::grant_credits;
        corr.ledger_key = inv.id;
        corr.user_id = user->id;
        corr.credits = credits;
        corr.source = inv.id;
        corr.reason = "stripe invoice paid; grant missing (reconciler)";
        if (!payment) {
            local_payment p;
            p.invoice_id = inv.id;
            p.customer_id = inv.customer;
            p.user_id = user->id;
            p.amount = inv.amount_paid;
            p.currency = inv.currency;
            p.status = "paid";
            p.paid_at = format_rfc3339(at);
            corr.record_payment = std::move(p);
        }
        f.summary = "paid invoice " + inv.id + " (" + std::to_string(inv.amount_paid) + " " + inv.currency +
                    ") granted no credits to " + user->email + ": grant " + std::to_string(credits) +
                    (payment ? "" : " and record the payment");
        f.correction = std::move(corr);
    }

    // Neither the payment nor any delivery of its invoice.paid: the webhook
    // path itself is broken, whatever the reconciler repairs.
    if (payment) return;
    json::array paid_events;
    bool delivered = false;
    auto [b, e] = c.events_by_object.equal_range(inv.id);
    for (auto it = b; it != e; ++it) {
        if (it->second->type != "invoice.paid") continue;
        paid_events.push_back(json::string(it->second->id));
        delivered = delivered || c.idx.delivery_by_event.count(it->second->id) > 0;
    }
    if (delivered) return;
    const std::string user_email = user->email;
    const std::int64_t user_id = user->id;
    auto& w = c.add(finding_kind::paid_without_entitlement_change, team::billing_engineering, "invoice", inv.id, at);
    w.customer_id = inv.customer;
    w.user_id = user_id;
    w.user_email = user_email;
    w.evidence = json::object{{"invoice", inv.id},
                              {"customer", inv.customer},
                              {"amount_paid", inv.amount_paid},
                              {"currency", inv.currency},
                              {"invoice_paid_events", std::move(paid_events)},
                              {"stripe_request_id", c.request_id_of(inv.id)}};
    w.summary = "Stripe shows " + inv.id + " paid but the app recorded no payment, no grant and no webhook "
                "delivery for it: the webhook path is broken";
}

void check_customer_tier(ctx& c, const std::vector<const subscription_state*>& states) {
    const std::string& customer_id = states.front()->sub.customer;
    for (const auto* st : states) {
        const auto& s = st->sub.status;
        if (s != "active" && s != "trialing" && s != "past_due") continue;
        for (const auto& item : st->sub.items)
            if (price_unknown(c.policy, item.price_id))
                note_unknown_price(c, item.price_id, item.price_nickname, item.product, customer_id, st->sub.id, false,
                                   st->as_of);
    }
    const local_user* user = c.idx.user_for(customer_id, {});
    if (!user) return;

    // A customer may hold several subscriptions (a canceled one and its
    // replacement): a paid tier from any live subscription wins over "free".
    const subscription_state* chosen = nullptr;
    std::optional<std::string> tier;
    bool conflict = false;
    for (const auto* st : states) {
        auto t = target_tier(st->sub, c.policy);
        if (!t) continue;
        const bool is_free = *t == c.policy.free_tier;
        const bool cur_free = tier && *tier == c.policy.free_tier;
        if (!tier || (cur_free && !is_free)) {
            tier = t;
            chosen = st;
        } else if (!is_free && *t != *tier) {
            conflict = true;
        } else if (is_free && cur_free && st->as_of > chosen->as_of) {
            chosen = st;
        }
    }
    if (!tier || *tier == user->plan) return;

    const auto& sub = chosen->sub;
    auto& f = c.add(finding_kind::tier_mismatch, team::billing_engineering, "subscription", sub.id, chosen->as_of);
    f.customer_id = customer_id;
    ctx::set_user(f, *user);
    json::array items;
    for (const auto& i : sub.items) items.push_back(json::object{{"price", i.price_id}, {"quantity", i.quantity}});
    f.evidence = json::object{
        {"subscription", sub.id},
        {"customer", customer_id},
        {"status", sub.status},
        {"items", std::move(items)},
        {"newest_event", chosen->event_id},
        {"as_of", chosen->as_of},
        {"retrieved", chosen->retrieved},
        {"stripe_request_id", !chosen->request_id.empty() ? chosen->request_id
                                                          : c.request_id_of(chosen->retrieved ? sub.id : chosen->event_id)},
        {"local_plan", user->plan},
        {"expected_plan", *tier},
    };
    if (conflict) {
        f.summary = "customer " + customer_id + " has live subscriptions implying different tiers; plan " +
                    user->plan + " left as is";
        return;
    }
    proposed_correction corr;
    corr.kind = correction_kind::set_tier;
    // Keyed by the state's newest event: a later state change is a new
    // correction. A state from the subscription list (no event) is keyed by
    // what it says, so the same state never applies twice either.
    corr.ledger_key = chosen->event_id.empty()
                          ? sub.id + "#current:" + sub.status + ":" + (sub.items.empty() ? "" : sub.items.front().price_id)
                          : sub.id + "#" + chosen->event_id;
    corr.user_id = user->id;
    corr.tier_from = user->plan;
    corr.tier_to = *tier;
    corr.source = chosen->event_id;
    corr.reason = "subscription_updated";
    f.summary = user->email + " is on plan " + user->plan + " but subscription " + sub.id + " is " + sub.status +
                ": set plan " + *tier;
    f.correction = std::move(corr);
}

finding unknown_customer_finding(const std::string& id, const std::string& email, unix_seconds at,
                                 const std::string& request_id) {
    finding f;
    f.kind = finding_kind::unknown_customer;
    f.owner = team::backend_engineering;
    f.subject_type = "customer";
    f.subject_id = id;
    f.at = at;
    f.customer_id = id;
    f.evidence = json::object{{"customer", id}, {"email", email}, {"stripe_request_id", request_id}};
    f.summary = "Stripe customer " + id + (email.empty() ? "" : " (" + email + ")") +
                " has no user in the app (matched by customer id and by email)";
    return f;
}

// `defer`: a subscription's customer carries no email; unmatched by id, it
// waits for a later slice's invoice or customer object to match by email.
void check_unknown_customers(ctx& c, bool defer) {
    // What showed each customer: its email, time and the Request-Id of the
    // response (the customer object's, else the invoice's or subscription's
    // that named it: the finding's evidence either way).
    struct sighting {
        std::string email;
        unix_seconds at = 0;
        std::string request_id;
    };
    std::map<std::string, sighting> seen;
    for (const auto& cu : c.in.customers)
        if (!cu.deleted) seen.emplace(cu.id, sighting{cu.email, cu.created, c.request_id_of(cu.id)});
    for (const auto& inv : c.in.invoices) {
        auto [it, inserted] = seen.emplace(inv.customer, sighting{inv.customer_email, inv.created, c.request_id_of(inv.id)});
        if (!inserted && it->second.email.empty()) it->second.email = inv.customer_email;
    }
    for (const auto& st : c.in.subscriptions) seen.emplace(st.sub.customer, sighting{{}, st.as_of, st.request_id});
    for (const auto& [id, info] : seen) {
        if (c.idx.by_customer.count(id)) {
            // Matched by customer id: every later part that mentions the
            // customer loads its user by that id and matches again, so it
            // need not be remembered (memory stays with the unknown and the
            // email-matched customers, not every customer of the window).
            c.mem.pending_customers.erase(id);
            continue;
        }
        if (c.mem.customers_checked.count(id)) continue;
        if (!c.idx.user_for(id, info.email)) {
            if (defer && info.email.empty()) {
                c.mem.pending_customers.try_emplace(id, info.at, info.request_id);
                continue;
            }
            c.out.push_back(unknown_customer_finding(id, info.email, info.at, info.request_id));
        }
        c.mem.customers_checked.insert(id);
        c.mem.pending_customers.erase(id);
    }
}

void check_orphan_payments(ctx& c) {
    std::set<std::string> in_window_invoices;
    for (const auto& inv : c.in.invoices) in_window_invoices.insert(inv.id);
    for (const auto& p : c.local.payments) {
        const auto at = app_time(p.paid_at);
        if (!at || !c.in_window(*at) || in_window_invoices.count(p.invoice_id)) continue;
        auto it = c.in.looked_up_invoices.find(p.invoice_id);
        if (it == c.in.looked_up_invoices.end()) continue;  // not looked up: no opinion
        const std::string& status = it->second;
        if (!status.empty() && status != "void" && status != "uncollectible") continue;
        auto& f = c.add(finding_kind::orphan_local_payment, team::billing_engineering, "invoice", p.invoice_id, *at);
        f.customer_id = p.customer_id;
        if (p.user_id) f.user_id = *p.user_id;
        f.evidence = json::object{{"invoice", p.invoice_id},
                                  {"customer", p.customer_id},
                                  {"local_amount", p.amount},
                                  {"local_currency", p.currency},
                                  {"local_paid_at", p.paid_at},
                                  {"stripe_status", status.empty() ? json::value(nullptr) : json::value(status)},
                                  {"stripe_request_id", c.request_id_of(p.invoice_id)}};
        f.summary = "the app records a payment for " + p.invoice_id + " but Stripe " +
                    (status.empty() ? std::string("has no such invoice") : "shows it as " + status);
    }
}

// Money went back on a charge that nothing ties to an invoice (a one-off
// payment outside invoicing, or a link Stripe does not give): credits the app
// granted for it cannot be checked here, so a person looks.
void charge_without_invoice(ctx& c, const charge_case& cc, const local_user* user) {
    auto& f = c.add(finding_kind::charge_without_invoice, team::billing_engineering, "charge", cc.ch.id, cc.created);
    f.customer_id = cc.ch.customer;
    if (user) ctx::set_user(f, *user);
    const char* reason = cc.dispute ? "dispute" : "refund";
    f.evidence = json::object{{"charge", cc.ch.id},
                              {"payment_intent", cc.ch.payment_intent},
                              {"event", cc.event_id},
                              {"reason", reason},
                              {"amount", cc.ch.amount},
                              {"refunded_or_disputed", cc.amount},
                              {"currency", cc.ch.currency},
                              {"why", cc.unlinked},
                              {"stripe_request_id", c.request_id_of(cc.event_id)},
                              {"link_request_id", cc.link_request_id}};
    f.summary = std::string(cc.dispute ? "disputed" : "refunded") + " charge " + cc.ch.id + " of " +
                (user ? user->email : "customer " + cc.ch.customer) + " is tied to no invoice" +
                (cc.unlinked.empty() ? "" : " (" + cc.unlinked + ")") +
                ": credits granted for it outside invoicing are not checked";
}

void check_refunds(ctx& c) {
    for (const auto& cc : c.in.charge_cases) {
        if (cc.amount <= 0 || !c.mem.charges_checked.insert(cc.ch.id).second) continue;
        const local_user* user = c.idx.user_for(cc.ch.customer, {});
        if (cc.ch.invoice.empty()) {
            charge_without_invoice(c, cc, user);
            continue;
        }
        if (!user) {
            ++c.mem.passed_over["refunded_or_disputed_charge_of_customer_without_user"];
            continue;
        }
        if (has_credit_event(*user, "revoke", cc.ch.id)) continue;
        std::int64_t granted = 0;
        for (const auto& e : user->credit_events)
            if (e.kind == "grant" && e.source == cc.ch.invoice) granted += e.delta;
        const std::int64_t base = cc.ch.amount > 0 ? cc.ch.amount : cc.amount;
        const std::int64_t due = granted > 0 ? granted * std::min(cc.amount, base) / base : 0;
        if (due <= 0) {
            ++c.mem.passed_over["refunded_or_disputed_charge_without_credits_to_recover"];
            continue;
        }
        const std::int64_t recoverable = std::clamp<std::int64_t>(user->ai_credits, 0, due);

        auto& f = c.add(finding_kind::refund_or_dispute, team::billing_engineering, "charge", cc.ch.id, cc.created);
        f.customer_id = cc.ch.customer;
        ctx::set_user(f, *user);
        f.evidence = json::object{{"charge", cc.ch.id},
                                  {"invoice", cc.ch.invoice},
                                  {"event", cc.event_id},
                                  {"reason", cc.dispute ? "dispute" : "refund"},
                                  {"charge_amount", cc.ch.amount},
                                  {"refunded_or_disputed", cc.amount},
                                  {"currency", cc.ch.currency},
                                  {"credits_granted", granted},
                                  {"credits_due_back", due},
                                  {"local_ai_credits", user->ai_credits},
                                  {"stripe_request_id", c.request_id_of(cc.event_id)}};
        if (!cc.link_request_id.empty()) f.evidence["invoice_link_request_id"] = cc.link_request_id;
        const std::string what = std::string(cc.dispute ? "disputed" : "refunded") + " charge " + cc.ch.id +
                                 " (invoice " + cc.ch.invoice + ")";
        if (!c.policy.clawback || recoverable == 0) {
            f.summary = what + ": " + std::to_string(due) + " credits granted for it are still with " + user->email +
                        (c.policy.clawback ? " and already spent" : "");
            continue;
        }
        proposed_correction corr;
        corr.kind = correction_kind::revoke_credits;
        corr.ledger_key = cc.ch.id;
        corr.user_id = user->id;
        corr.credits = recoverable;
        corr.unrecovered = due - recoverable;
        corr.source = cc.ch.id;
        corr.reason = cc.dispute ? "stripe charge disputed (reconciler)" : "stripe charge refunded (reconciler)";
        f.summary = what + ": revoke " + std::to_string(recoverable) + " unused credits from " + user->email +
                    (corr.unrecovered ? "; " + std::to_string(corr.unrecovered) + " already spent" : "");
        f.correction = std::move(corr);
    }
}

void check_users(ctx& c) {
    std::unordered_map<std::int64_t, std::vector<const usage_row*>> usage_by_user;
    for (const auto& u : c.local.usage)
        if (c.in_window(u.created_at)) usage_by_user[u.user_id].push_back(&u);

    for (const auto& u : c.local.users) {
        std::int64_t sum = 0;
        std::vector<const credit_event*> consumes;
        for (const auto& e : u.credit_events) {
            sum += e.delta;
            const auto at = app_time(e.at);
            const bool in_window = at && c.in_window(*at);
            if (in_window && e.kind == "consume") consumes.push_back(&e);
            if (in_window && e.correlation_id.empty()) {
                auto& f = c.add(finding_kind::missing_correlation_id, team::devops, "credit_event", e.id, *at);
                ctx::set_user(f, u);
                f.evidence = json::object{{"credit_event", e.id}, {"kind", e.kind}, {"delta", e.delta},
                                          {"source", e.source}, {"at", e.at}};
                f.summary = "credit event " + e.id + " of " + u.email + " has no correlation id";
            }
        }
        if (sum != u.ai_credits) {
            auto& f = c.add(finding_kind::balance_drift, team::data_platform, "user", u.email, 0);
            ctx::set_user(f, u);
            f.evidence = json::object{{"ai_credits", u.ai_credits}, {"sum_of_credit_events", sum},
                                      {"credit_events", static_cast<std::int64_t>(u.credit_events.size())}};
            f.summary = u.email + " has ai_credits " + std::to_string(u.ai_credits) + " but its credit events sum to " +
                        std::to_string(sum);
        }

        const auto usage_it = usage_by_user.find(u.id);
        const auto* usage = usage_it == usage_by_user.end() ? nullptr : &usage_it->second;
        std::int64_t used = 0;
        if (usage)
            for (const auto* r : *usage) used += r->credits;
        if (u.ai_credits < 0 || (usage && consumes.empty())) {
            auto& f = c.add(finding_kind::negative_or_stuck_balance, team::data_platform, "user", u.email, 0);
            ctx::set_user(f, u);
            f.evidence = json::object{{"ai_credits", u.ai_credits},
                                      {"usage_rows_in_window", usage ? static_cast<std::int64_t>(usage->size()) : 0},
                                      {"usage_credits_in_window", used},
                                      {"consume_events_in_window", static_cast<std::int64_t>(consumes.size())}};
            f.summary = u.ai_credits < 0 ? u.email + " has a negative balance (" + std::to_string(u.ai_credits) + ")"
                                         : u.email + " used " + std::to_string(used) +
                                               " credits in the window but the balance never moved";
            continue;  // precedence: not also credits_not_decrementing
        }
        if (!usage) continue;
        std::set<std::string> request_ids, consume_sources;
        for (const auto* r : *usage) request_ids.insert(r->request_id);
        for (const auto* e : consumes) consume_sources.insert(e->source);
        json::array unmatched_usage, unmatched_consumes;
        for (const auto& id : request_ids)
            if (!consume_sources.count(id)) unmatched_usage.push_back(json::string(id));
        for (const auto& src : consume_sources)
            if (!request_ids.count(src)) unmatched_consumes.push_back(json::string(src));
        if (unmatched_usage.empty() && unmatched_consumes.empty()) continue;
        auto& f = c.add(finding_kind::credits_not_decrementing, team::data_platform, "user", u.email, 0);
        ctx::set_user(f, u);
        f.summary = u.email + ": " + std::to_string(unmatched_usage.size()) + " usage rows without a consume event, " +
                    std::to_string(unmatched_consumes.size()) + " consume events without usage";
        f.evidence = json::object{{"usage_without_consume", std::move(unmatched_usage)},
                                  {"consume_without_usage", std::move(unmatched_consumes)},
                                  {"ai_credits", u.ai_credits}};
    }
}

// The app's webhook log: forged deliveries, deliveries that failed twice.
void check_webhook_log(ctx& c) {
    json::array forged;
    unix_seconds first_failure = 0;
    for (const auto& w : c.local.webhooks) {
        if (!c.in_window(w.received_at)) continue;
        if (w.status == "signature_failed") {
            forged.push_back(json::string(w.event_id));
            if (!first_failure || w.received_at < first_failure) first_failure = w.received_at;
        }
        if (w.status == "failed" && w.attempts >= 2) {
            auto& f = c.add(finding_kind::webhook_failed_twice, team::billing_engineering, "event", w.event_id,
                            w.received_at);
            f.evidence = json::object{{"event", w.event_id}, {"type", w.type}, {"attempts", w.attempts},
                                      {"last_error", w.last_error}};
            f.summary = "webhook " + w.type + " " + w.event_id + " failed " + std::to_string(w.attempts) +
                        " times in the app (" + w.last_error + ")";
        }
    }
    if (static_cast<std::int64_t>(forged.size()) >= c.policy.signature_failure_threshold) {
        auto& f = c.add(finding_kind::webhook_signature_failures, team::stripe_support, "webhook_endpoint",
                        "webhook_endpoint", first_failure);
        f.summary = std::to_string(forged.size()) + " webhook deliveries failed signature verification in the window";
        f.evidence = json::object{{"count", static_cast<std::int64_t>(forged.size())},
                                  {"threshold", c.policy.signature_failure_threshold},
                                  {"event_ids", std::move(forged)}};
    }

}

// Stripe events of the input that the app never received.
void check_missed_events(ctx& c) {
    // Which finding repairs a missed event's effect, to name it.
    for (const auto& f : c.out)
        if (f.correction && (f.kind == finding_kind::credits_not_granted || f.kind == finding_kind::tier_mismatch))
            c.mem.repaired_by[f.subject_id] = f.kind;
    const auto repair_of = [&](const std::string& object_id) -> std::optional<std::string> {
        for (const auto* generation : {&c.mem.repaired_by, &c.mem.repaired_before})
            if (auto it = generation->find(object_id); it != generation->end())
                return std::string(to_string(it->second)) + " " + object_id;
        return std::nullopt;
    };
    for (const auto& e : c.in.events) {
        if (!app_handles_event_type(e.type) || !c.in_window(e.created)) continue;
        if (e.created >= c.window_end() - c.policy.webhook_grace) continue;  // may still be on its way
        if (c.idx.delivery_by_event.count(e.id)) continue;
        auto& f = c.add(finding_kind::missed_webhook, team::billing_engineering, "event", e.id, e.created);
        const auto rep = repair_of(e.object_id);
        f.evidence = json::object{{"event", e.id},
                                  {"type", e.type},
                                  {"object", e.object_id},
                                  {"created", e.created},
                                  {"repaired_by", rep ? json::value(*rep) : json::value(nullptr)},
                                  {"stripe_request_id", c.request_id_of(e.id)}};
        f.summary = "the app never received " + e.type + " " + e.id + " for " + e.object_id +
                    (rep ? "; its effect is repaired by " + *rep : "");
    }
}

}  // namespace detail

bool app_handles_event_type(std::string_view type) {
    return type == "invoice.paid" || type.rfind("customer.subscription.", 0) == 0;
}

namespace {

std::vector<finding> run_rules(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                               bool all, diff_scope scope, diff_memory& memory) {
    detail::ctx c(stripe, local, policy, memory);
    const bool window = all || scope == diff_scope::window_rules;
    const bool slice = all || scope == diff_scope::slice_rules;
    const bool tiers = window || scope == diff_scope::tier_rules;
    const bool users = window || scope == diff_scope::user_rules;
    const bool webhook_log = window || scope == diff_scope::webhook_rules;

    if (slice) {
        std::set<std::string> seen;
        for (const auto& inv : stripe.invoices)
            if (seen.insert(inv.id).second) detail::check_invoice(c, inv);
    }
    if (tiers) {
        std::map<std::string, std::vector<const subscription_state*>> by_customer;
        for (const auto& st : stripe.subscriptions) by_customer[st.sub.customer].push_back(&st);
        for (const auto& [customer, states] : by_customer) detail::check_customer_tier(c, states);
    }
    // Subscription customers wait for a later slice's email match.
    detail::check_unknown_customers(c, !slice);
    if (slice) {
        detail::check_orphan_payments(c);
        detail::check_refunds(c);
    }
    if (users) detail::check_users(c);
    if (webhook_log) detail::check_webhook_log(c);
    detail::check_missed_events(c);
    if (all)
        for (auto& f : unknown_price_findings(memory)) c.out.push_back(std::move(f));
    return std::move(c.out);
}

}  // namespace

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy) {
    diff_memory memory;
    return run_rules(stripe, local, policy, true, diff_scope::window_rules, memory);
}

std::vector<finding> diff(const window_input& stripe, const local_snapshot& local, const diff_policy& policy,
                          diff_scope scope, diff_memory& memory) {
    return run_rules(stripe, local, policy, false, scope, memory);
}

void forget_older_repairs(diff_memory& memory) {
    memory.repaired_before = std::exchange(memory.repaired_by, {});
}

std::vector<finding> unknown_price_findings(diff_memory& memory) {
    std::vector<finding> out;
    for (auto& [price, use] : memory.unknown_prices) {
        finding f;
        f.kind = finding_kind::unknown_price;
        f.owner = team::billing_engineering;
        f.subject_type = "price";
        f.subject_id = price;
        f.at = use.first_seen;
        if (use.customers.size() == 1) f.customer_id = *use.customers.begin();
        json::array examples;
        for (const auto& e : use.examples) examples.emplace_back(e);
        const auto customers = static_cast<std::int64_t>(use.customers.size());
        f.evidence = json::object{{"price", price},
                                  {"nickname", use.nickname},
                                  {"product", use.product},
                                  {"customers", customers},
                                  {"invoices", use.invoices},
                                  {"subscriptions", use.subscriptions},
                                  {"examples", std::move(examples)}};
        // A use known only from the scratch (a subscription read in an earlier slice) has no Request-Id.
        if (!use.request_id.empty()) f.evidence["stripe_request_id"] = use.request_id;
        std::string label;
        if (!use.nickname.empty()) label = use.nickname;
        if (!use.product.empty()) label += (label.empty() ? "" : ", ") + use.product;
        f.summary = "price " + price + (label.empty() ? "" : " (" + label + ")") + " is not in the price map: " +
                    std::to_string(customers) + " customers, " + std::to_string(use.invoices) + " paid invoices, " +
                    std::to_string(use.subscriptions) + " subscriptions use it, and nothing is granted or re-tiered " +
                    "for them; add it to prices: or mark it { ignore: true }";
        out.push_back(std::move(f));
    }
    memory.unknown_prices.clear();
    return out;
}

std::vector<finding> pending_customers(diff_memory& memory) {
    std::vector<finding> out;
    for (const auto& [id, info] : memory.pending_customers) {
        out.push_back(detail::unknown_customer_finding(id, "", info.first, info.second));
        memory.customers_checked.insert(id);
    }
    memory.pending_customers.clear();
    return out;
}

}  // namespace reconciler
