#include "pipeline/fetcher.hpp"

#include "core/invalid_object.hpp"
#include "core/json_log.hpp"
#include "core/stripe_parse.hpp"
#include "core/timeutil.hpp"
#include "pipeline/async.hpp"
#include "pipeline/window.hpp"

#include <algorithm>
#include <set>

namespace reconciler::pipeline {

namespace asio = boost::asio;

namespace {

// The event types whose objects the diff needs: subscription events feed the
// window part (newest state per subscription), the others each slice.
const std::vector<std::string>& subscription_event_types() {
    static const std::vector<std::string> types{
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    };
    return types;
}

// Not invoice.payment_succeeded: Stripe sends invoice.paid for every paid
// invoice (a payment that succeeds or one marked paid out of band), with
// the same object. Not customer.created: the customers list of the slice
// has the same customers, as they are now. Either would page a large share
// of the run's objects a second time, from the account's shared budget.
const std::vector<std::string>& slice_event_types() {
    static const std::vector<std::string> types{
        "invoice.paid", "charge.refunded", "charge.dispute.created",
        "billing_portal.session.created",  // counted only: the portal's traffic
    };
    return types;
}

}  // namespace

fetcher::fetcher(stripe::client& client, store::fetch_lookup& lookups, store::invoice_links& links, run_result& result,
                 report_writer& report, unix_seconds window_end, const diff_policy& policy,
                 const std::string& api_version)
    : client_(client), lookups_(lookups), links_(links), result_(result), report_(report), window_end_(window_end),
      policy_(policy), pinned_charges_name_invoices_(charge_names_its_invoice(api_version)) {}

asio::awaitable<void> fetcher::fetch_subscriptions(unix_seconds start) {
    // Ambiguous only when tiers differ; the states live on disk (a
    // window's subscriptions need not fit in memory).
    data_.subscriptions = subscription_folder(&policy_, lookups_.subscription_scratch());
    co_await fetch_events(data_, start, window_end_, subscription_event_types(), true);
    if (start < window_end_ - event_retention) {
        stripe::list_query subs{"/v1/subscriptions", {{"status", "all"}}, 0, window_end_};
        co_await client_.list_all(subs, [this](const list_page_info& p, list_envelope&& env) {
            on_page(p);
            for (auto& v : env.data) {
                auto sub = parse_or_note(parse_subscription, v, p.resource, p.request_id, window_invalid_);
                if (sub && data_.subscriptions.add_current(*sub, p.request_id)) ++result_.subscriptions_from_list;
            }
        });
    }
    // Events in the newest second disagree: ask Stripe for the current truth.
    // (All at once, up to stripe.concurrency in flight: one by one, a
    // thousand of them cost a thousand round trips.)
    const auto ambiguous = data_.subscriptions.ambiguous();
    std::vector<std::string> sub_paths;
    for (const auto& id : ambiguous) sub_paths.push_back("/v1/subscriptions/" + id);
    auto subs = co_await client_.retrieve_all(std::move(sub_paths));
    for (auto& r : subs) {
        record(list_page_info{r.path, 1, r.request_id, 1, false});
        // Unresolved when invalid: the events' newest state stands, and the
        // object is flagged.
        if (auto sub = parse_or_note(parse_subscription, *r.object, r.path, r.request_id, window_invalid_))
            data_.subscriptions.resolve(std::move(*sub), r.request_id);
    }
}

asio::awaitable<void> fetcher::fetch_lists(fetched& f, unix_seconds s, unix_seconds e) {
    // The slice's three lists at once (they share the client's rate
    // budget): one after another they would cost three round trips of
    // latency per slice whatever the data.
    co_await together(fetch_events(f, s, e, slice_event_types()), fetch_invoices(f, s, e),
                      fetch_customers(f, s, e));
    co_await fetch_disputed_charges(f);
    co_await link_charges_to_invoices(f);
}

asio::awaitable<void> fetcher::finish_slice(fetched f, unix_seconds s, unix_seconds e, bool last) {
    data_ = std::move(f);
    // Invoices an earlier slice deferred join this one (merged with any
    // newer snapshot); those paid after this slice wait for the next.
    for (auto& [id, d] : carried_) {
        data_.add_invoice(std::move(d.inv), d.request_id);
        for (auto& ev : d.events) data_.events.push_back(std::move(ev));
    }
    carried_.clear();
    for (auto& o : window_invalid_) data_.invalid_objects.push_back(std::move(o));
    window_invalid_.clear();
    if (!last) {
        for (auto it = data_.invoices.begin(); it != data_.invoices.end();) {
            if (it->second.paid_at.value_or(it->second.created) < e - slice_margin) {
                ++it;
                continue;
            }
            deferred d{std::move(it->second), data_.request_ids[it->first], {}};
            for (const auto& ev : data_.events)
                if (ev.object_id == it->first) d.events.push_back(ev);
            carried_.emplace(it->first, std::move(d));
            it = data_.invoices.erase(it);
        }
    }
    co_await together(look_up_app_payments(s, e), link_by_invoice_payments());
}

// App payments of slice [s, e) whose invoice the window has not brought:
// does Stripe have them at all? A listed void invoice answers for itself
// (void is final: no later request could say otherwise).
asio::awaitable<void> fetcher::look_up_app_payments(unix_seconds s, unix_seconds e) {
    std::vector<std::string> lookup_ids, lookup_paths;
    for (const auto& id : lookups_.payments_paid_between(s, e)) {
        if (data_.invoices.count(id) || carried_.count(id)) continue;
        if (auto v = void_invoices_.find(id); v != void_invoices_.end()) {
            data_.request_ids[id] = v->second;
            data_.looked_up_invoices[id] = "void";
            void_invoices_.erase(v);
            continue;
        }
        lookup_ids.push_back(id);
        lookup_paths.push_back("/v1/invoices/" + id);
    }
    auto looked_up = co_await client_.retrieve_all(std::move(lookup_paths), true);
    for (std::size_t i = 0; i < looked_up.size(); ++i) {
        const auto& id = lookup_ids[i];
        auto& r = looked_up[i];
        data_.request_ids[id] = r.request_id;
        if (r.object) {
            record(list_page_info{r.path, 1, r.request_id, 1, false});
            // Invalid: flagged, and no opinion on the app's payment.
            if (auto inv = parse_or_note(parse_invoice, *r.object, r.path, r.request_id, data_.invalid_objects))
                data_.looked_up_invoices[id] = inv->status;
        } else {
            data_.looked_up_invoices[id] = "";  // Stripe has no such invoice
        }
    }
}

// Every invoice created in [s, e), not only the paid ones: the few
// others cost hardly a page, and a void one answers an app payment's
// lookup (finish_slice) without a request of its own. At basil with their
// InvoicePayments: the links that tie refunds and disputes to invoices.
asio::awaitable<void> fetcher::fetch_invoices(fetched& f, unix_seconds s, unix_seconds e) {
    stripe::list_query invoices{"/v1/invoices", {}, s, e};
    if (!pinned_charges_name_invoices_) invoices.params.emplace_back("expand[]", "data.payments");
    co_await client_.list_all(invoices, [this, &f](const list_page_info& p, list_envelope&& env) {
        on_page(p);
        f.objects += static_cast<std::int64_t>(p.object_count);
        for (auto& v : env.data) {
            if (!pinned_charges_name_invoices_) note_invoice_links(v, f.invoice_links);
            auto inv = parse_or_note(parse_invoice, v, p.resource, p.request_id, f.invalid_objects);
            if (!inv) continue;
            if (inv->paid) f.add_invoice(std::move(*inv), p.request_id);
            else if (inv->status == "void") void_invoices_.emplace(std::move(inv->id), p.request_id);
        }
    });
}

asio::awaitable<void> fetcher::fetch_customers(fetched& f, unix_seconds s, unix_seconds e) {
    stripe::list_query customers{"/v1/customers", {}, s, e};
    co_await client_.list_all(customers, [this, &f](const list_page_info& p, list_envelope&& env) {
        on_page(p);
        f.objects += static_cast<std::int64_t>(p.object_count);
        for (auto& v : env.data) {
            auto c = parse_or_note(parse_customer, v, p.resource, p.request_id, f.invalid_objects);
            if (!c) continue;
            f.request_ids.emplace(c->id, p.request_id);
            f.customers.emplace(c->id, std::move(*c));
        }
    });
}

// Events of [s, e) that Stripe still keeps (30 days). `undelivered_only`
// (the window part's subscription events): each page's events fold into
// the subscription states at once, and only those the app's webhook log
// has no row for are kept as refs (the missed-webhook check's input), so
// memory does not grow with every subscription event of the window.
asio::awaitable<void> fetcher::fetch_events(fetched& f, unix_seconds s, unix_seconds e,
                                   const std::vector<std::string>& types, bool undelivered_only) {
    stripe::list_query events{"/v1/events", {}, std::max(s, window_end_ - event_retention), e};
    for (std::size_t i = 0; i < types.size(); ++i)
        events.params.emplace_back("types[" + std::to_string(i) + "]", types[i]);
    if (events.created_gte >= events.created_lt) co_return;
    co_await client_.list_all(events, [this, &f, undelivered_only](const list_page_info& p, list_envelope&& env) {
        on_page(p);
        f.objects += static_cast<std::int64_t>(p.object_count);
        if (!undelivered_only) {
            for (auto& v : env.data)
                if (auto ev = parse_or_note(parse_event, v, p.resource, p.request_id, f.invalid_objects))
                    on_event(f, std::move(*ev), p.request_id);
            return;
        }
        std::vector<event_ref> refs;
        std::vector<std::string> ids, subscription_ids;
        std::vector<event> page;
        for (auto& v : env.data)
            if (auto parsed = parse_or_note(parse_event, v, p.resource, p.request_id, window_invalid_)) {
                if (const auto* sub = std::get_if<subscription>(&parsed->object)) subscription_ids.push_back(sub->id);
                page.push_back(std::move(*parsed));
            }
        f.subscriptions.prefetch(subscription_ids);  // a page's states in one read, not one each
        for (const event& ev : page) {
            f.subscriptions.add(ev, p.request_id);
            refs.push_back(event_ref{ev.id, ev.type, ev.created, ev.object_id});
            ids.push_back(ev.id);
        }
        const auto delivered = lookups_.delivered_event_ids(ids);
        const std::set<std::string> done(delivered.begin(), delivered.end());
        for (auto& r : refs) {
            if (done.count(r.id)) continue;
            f.request_ids.emplace(r.id, p.request_id);
            f.events.push_back(std::move(r));
        }
    });
}

void fetcher::on_page(const list_page_info& p) {
    record(p);
    result_.objects += static_cast<std::int64_t>(p.object_count);
    progress_.update(p.resource, result_.pages, result_.objects, done_);
}

void fetcher::record(const list_page_info& p) {
    ++result_.pages;
    report_.request_id(p.request_id);
    pages_.push_back(store::fetched_page{p, now_unix()});
}

void fetcher::on_event(fetched& f, event e, const std::string& request_id) {
    // An event is kept (with its Request-Id) only where a rule reads it:
    // those the app handles (a delivery to check, the invoice.paid a
    // grant replays) and those a charge case names.
    const bool handled = app_handles_event_type(e.type);
    if (handled) f.events.push_back(event_ref{e.id, e.type, e.created, e.object_id});
    if (auto* inv = std::get_if<invoice>(&e.object)) {
        if (handled) f.request_ids.emplace(e.id, request_id);
        f.add_invoice(std::move(*inv), request_id);
    } else if (std::holds_alternative<subscription>(e.object)) {
        f.request_ids.emplace(e.id, request_id);
        f.subscriptions.add(e);
    } else if (auto* ch = std::get_if<charge>(&e.object); ch && e.type == "charge.refunded") {
        f.request_ids.emplace(e.id, request_id);
        f.charge_cases.push_back(charge_case{e.id, false, *ch, ch->amount_refunded, e.created});
    } else if (auto* d = std::get_if<dispute>(&e.object)) {
        f.request_ids.emplace(e.id, request_id);
        f.disputes.emplace_back(*d, e.id);
    } else if (e.type == "billing_portal.session.created") {
        ++result_.portal_sessions;
    }
}

}  // namespace reconciler::pipeline
