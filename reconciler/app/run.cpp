#include "app/run.hpp"

#include "app/replay.hpp"
#include "report/report.hpp"
#include "app/run_lock.hpp"
#include "core/json_log.hpp"
#include "core/portal_audit.hpp"
#include "core/stripe_parse.hpp"
#include "core/timeutil.hpp"
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <deque>
#include <tuple>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <thread>
#include <map>
#include <set>
#include <unordered_map>

namespace reconciler {

namespace asio = boost::asio;
namespace json = boost::json;

namespace detail {

// Hands the pages malloc holds free back to the kernel. A slice's objects
// are freed when it is done, but glibc returns only the top of its heap:
// the free pages in between stayed resident, and a 1M-event run's RSS grew
// with every slice (46 -> 149 MB) while what it used stayed ~50 MB. Once
// per slice costs nothing measurable (1M: 64.5 s before, 65.6 s after) and
// its peak became 82 MB.
void release_freed_memory() {
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

// List page bodies (a few hundred KB each, one per request in flight) are
// freed as soon as they are parsed. glibc's mmap threshold adapts upwards to
// the largest block freed, so after the first pages every body came from the
// heap, and the freed ones stayed as holes between a slice's long-lived
// objects: a 1M-event run peaked at 50 MB of RSS for 28 MB of heap in use.
// A fixed threshold keeps blocks of 128 KB and more in mappings of their
// own, returned when freed: 1M peak 50 -> 42 MB, for ~0.2 CPU s of page
// faults per 100k objects. Process-wide; once is enough.
void keep_large_blocks_out_of_the_heap() {
#if defined(__GLIBC__)
    static const bool done = ::mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1;
    (void)done;
#endif
}

// Stripe keeps events for 30 days; older parts of a window are only in the object lists.
constexpr unix_seconds event_retention = 30 * 24 * 3600;

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

const std::vector<std::string>& slice_event_types() {
    static const std::vector<std::string> types{
        "invoice.paid", "invoice.payment_succeeded", "charge.refunded", "charge.dispute.created", "customer.created",
        "billing_portal.session.created",  // counted only: the portal's traffic
    };
    return types;
}

// Customers (tier rules) or users (user rules) per chunk of the window part:
// a chunk's app rows (users with their credit-event logs) stay a few MB.
constexpr std::size_t window_chunk = 2000;
// Failed webhook deliveries per chunk of the webhook-log rules: each is a
// finding with its evidence (~1.5 KB with its outcome), so fewer than the
// rows of a window chunk.
constexpr std::size_t deliveries_chunk = 500;

// An invoice paid this close to a slice's end is diffed with the next slice,
// where its invoice.paid event (created a moment after the payment) lands.
constexpr unix_seconds slice_margin = 300;

double requests_per_second(const config& cfg, const std::string& key) {
    if (cfg.stripe.requests_per_second) return *cfg.stripe.requests_per_second;
    // Stripe's documented read limits: ~100/s live, 25/s test; keep headroom live.
    const bool live = key.rfind("sk_live_", 0) == 0 || key.rfind("rk_live_", 0) == 0;
    return live ? 90.0 : 25.0;
}

diff_policy policy_of(const config& cfg) {
    diff_policy p;
    p.prices = cfg.prices;
    p.free_tier = cfg.policy.free_tier;
    p.past_due_tier = cfg.policy.past_due_tier;
    p.clawback = cfg.corrections.clawback_refunds;
    p.webhook_grace = cfg.policy.webhook_grace.count();
    p.signature_failure_threshold = cfg.policy.signature_failure_threshold;
    return p;
}

// Runs fetches side by side on this coroutine's executor; when one fails the
// others are cancelled and the error rethrown is the one that ended the group,
// never a sibling's cancellation (awaitable_operators' && prefers the first
// operand's error, so a 503 could surface as "operation cancelled").
template <typename... Ts>
asio::awaitable<void> together(asio::awaitable<Ts>... ops) {
    auto ex = co_await asio::this_coro::executor;
    auto group = asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(ops), asio::deferred)...);
    auto results = co_await group.async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    const auto& order = std::get<0>(results);
    std::array<std::exception_ptr, sizeof...(Ts)> errors;
    std::apply([&](const auto&, const auto&... ex_i) { errors = {ex_i...}; }, results);
    for (std::size_t i : order)
        if (errors[i]) std::rethrow_exception(errors[i]);
}

// Runs `work` (synchronous: diff, SQLite, report files) on `worker` and
// resumes the caller on its own executor once it is done; an exception it
// throws reaches the caller. Meanwhile the network thread keeps the
// fetchers' requests going: run on that thread, every slice's diff and apply
// stalled them (at 100 ms per request about a tenth of the budget idled).
// `work` is a named object of the caller: GCC 12 destroys a temporary of a
// co_await expression twice.
template <typename F>
asio::awaitable<void> on_worker(asio::thread_pool& worker, F& work) {
    co_await asio::co_spawn(
        worker, [&work]() -> asio::awaitable<void> {
            work();
            co_return;
        },
        asio::use_awaitable);
}

// Everything fetched for the window, folded as pages arrive.
struct fetched {
    std::map<std::string, invoice> invoices;
    subscription_folder subscriptions;
    std::vector<event_ref> events;
    std::vector<charge_case> charge_cases;
    std::vector<std::pair<dispute, std::string>> disputes;  // with their event id
    std::map<std::string, customer> customers;
    std::map<std::string, std::string> looked_up_invoices;
    std::map<std::string, std::string> request_ids;
    std::int64_t objects = 0;  // listed (a slice's density: the next slice's length)

    void add_invoice(invoice inv, const std::string& request_id) {
        request_ids.emplace(inv.id, request_id);
        const std::string id = inv.id;
        auto [it, inserted] = invoices.try_emplace(id, std::move(inv));  // leaves `inv` alone when not inserted
        // Payment is monotonic: a paid snapshot (event or list) wins over an
        // older unpaid one, whatever order they arrive in.
        if (!inserted && !it->second.paid && inv.paid) it->second = std::move(inv);
    }
};

// A live progress line for a person at a terminal (stdout is a TTY); nothing
// otherwise, so cron mail and journald get only the summary and JSON lines.
class progress_line {
public:
    progress_line() : enabled_(::isatty(STDOUT_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}
    ~progress_line() {
        if (shown_) std::fputs("\r\033[K", stdout);
    }
    // `done`: the fraction of the window verified so far (0 while unknown).
    void update(const std::string& resource, std::int64_t pages, std::int64_t objects, double done) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        shown_ = true;
        const double secs = std::max(0.001, std::chrono::duration<double>(now - start_).count());
        std::string eta = "ETA --";
        if (done > 0.001 && done < 1) eta = "ETA " + std::to_string(static_cast<long long>(secs * (1 - done) / done)) + " s";
        std::fprintf(stdout, "\r\033[K  fetching %s: %lld pages, %lld objects, %.0f objects/s, %.0f s, %.0f%%, %s",
                     resource.c_str(), static_cast<long long>(pages), static_cast<long long>(objects), objects / secs,
                     secs, done * 100, eta.c_str());
        std::fflush(stdout);
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

// Fetches the window in parts: first its subscriptions (fetch_subscriptions),
// then chronological slices (fetch_slice), each taken out with take() so
// that only one slice's objects are in memory at a time.
class fetcher {
public:
    // `api_version`: the pinned Stripe-Version, which decides how a charge is
    // tied to its invoice (link_charges_to_invoices).
    fetcher(stripe::client& client, store::store& db, run_result& result, report_writer& report,
            unix_seconds window_end, const diff_policy& policy, const std::string& api_version)
        : client_(client), db_(db), result_(result), report_(report), window_end_(window_end), policy_(policy),
          pinned_charges_name_invoices_(charge_names_its_invoice(api_version)) {}

    void set_progress(double done) { done_ = done; }

    // The window's subscription events, and past Stripe's 30-day event
    // retention every subscription's current state.
    asio::awaitable<void> fetch_subscriptions(unix_seconds start) {
        // Ambiguous only when tiers differ; the states live on disk (a
        // window's subscriptions need not fit in memory).
        data_.subscriptions = subscription_folder(&policy_, db_.subscription_scratch());
        co_await fetch_events(data_, start, window_end_, subscription_event_types(), true);
        if (start < window_end_ - event_retention) {
            stripe::list_query subs{"/v1/subscriptions", {{"status", "all"}}, 0, window_end_};
            co_await client_.list_all(subs, [this](const list_page_info& p, list_envelope&& env) {
                on_page(p);
                for (auto& v : env.data) {
                    auto sub = parse_subscription(v.as_object());
                    if (data_.subscriptions.add_current(sub, p.request_id)) ++result_.subscriptions_from_list;
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
            data_.subscriptions.resolve(parse_subscription(*r.object), r.request_id);
            record(list_page_info{r.path, 1, r.request_id, 1, false});
        }
    }

    // Slice [s, e), the part that depends on no other slice: its other
    // events, invoices and new customers, and the charges its disputes
    // name. The run fetches the next slice's lists with this while it applies
    // the current slice, so they go to `f` (empty on entry), not data_.
    asio::awaitable<void> fetch_lists(fetched& f, unix_seconds s, unix_seconds e) {
        // The slice's three lists at once (they share the client's rate
        // budget): one after another they would cost three round trips of
        // latency per slice whatever the data.
        co_await together(fetch_events(f, s, e, slice_event_types()), fetch_invoices(f, s, e),
                          fetch_customers(f, s, e));
        co_await fetch_disputed_charges(f);
        co_await link_charges_to_invoices(f);
    }

    // The rest of slice [s, e), in slice order: invoices an earlier slice
    // carried over join it, those paid in its last minutes go on to the next,
    // and app payments the window did not bring are looked up. `f` is what
    // fetch_lists(s, e) returned; take() then hands out the finished slice.
    asio::awaitable<void> finish_slice(fetched f, unix_seconds s, unix_seconds e, bool last) {
        data_ = std::move(f);
        // Invoices an earlier slice deferred join this one (merged with any
        // newer snapshot); those paid after this slice wait for the next.
        for (auto& [id, d] : carried_) {
            data_.add_invoice(std::move(d.inv), d.request_id);
            for (auto& ev : d.events) data_.events.push_back(std::move(ev));
        }
        carried_.clear();
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

        // App payments of the slice whose invoice the window has not brought:
        // does Stripe have them at all? A listed void invoice answers for
        // itself (void is final: no later request could say otherwise).
        std::vector<std::string> lookup_ids, lookup_paths;
        for (const auto& id : db_.payments_paid_between(s, e)) {
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
                data_.looked_up_invoices[id] = parse_invoice(*r.object).status;
            } else {
                data_.looked_up_invoices[id] = "";  // Stripe has no such invoice
            }
        }
    }

    // The support runbook's fourth row, once per run: the active Billing
    // Portal configurations (one request) and the prices the default one
    // offers (one each, a handful). A key that may not read the portal or
    // prices gets a note saying what was not checked, never a failed run.
    asio::awaitable<std::optional<portal_audit_input>> audit_portal() {
        portal_audit_input in;
        in.at = window_end_ - 1;
        const auto forbidden = [this](const stripe::stripe_error& e, const std::string& what) {
            if (e.http_status() != 403) return false;
            result_.notes.push_back(what + " (" + e.request_id() + ")");
            log::warn("billing_portal_not_checked", {{"error", log::redact(e.what())}, {"effect", what}});
            return true;
        };
        try {
            // Named: GCC 12 miscompiles an initializer list inside co_await.
            std::vector<std::string> list_path{"/v1/billing_portal/configurations?active=true&limit=100"};
            auto got = co_await client_.retrieve_all(std::move(list_path));
            const auto& r = got.front();
            in.request_id = r.request_id;
            const auto* data = r.object->if_contains("data");
            if (!data || !data->is_array())
                throw parse_error("retrieve " + r.path + " (" + r.request_id + "): expected a list of configurations");
            for (const auto& v : data->as_array()) {
                if (!v.is_object()) throw parse_error("retrieve " + r.path + " (" + r.request_id + "): expected objects");
                in.configurations.push_back(parse_billing_portal_configuration(v.as_object()));
            }
            record(list_page_info{r.path, 1, r.request_id, data->as_array().size(), false});
            if (const auto* more = r.object->if_contains("has_more"); more && more->is_bool() && more->as_bool())
                result_.notes.push_back("billing portal: over 100 active configurations; the newest 100 were checked");
        } catch (const stripe::stripe_error& e) {
            if (!forbidden(e, "billing portal not checked: the key lacks billing_portal read")) throw;
            co_return std::nullopt;
        }
        std::vector<std::string> offered, paths;
        for (const auto& c : in.configurations)
            if (c.active && c.is_default && c.subscription_update_enabled) offered = c.offered_prices;
        std::sort(offered.begin(), offered.end());
        offered.erase(std::unique(offered.begin(), offered.end()), offered.end());
        for (const auto& id : offered) paths.push_back("/v1/prices/" + stripe::detail::url_encode(id));
        try {
            auto prices = co_await client_.retrieve_all(std::move(paths), true);
            for (std::size_t k = 0; k < prices.size(); ++k) {
                record(list_page_info{prices[k].path, 1, prices[k].request_id, prices[k].object ? 1u : 0u, false});
                // A price Stripe no longer has can be offered no more than an archived one.
                if (!prices[k].object || !parse_price(*prices[k].object).active) in.archived_prices.insert(offered[k]);
            }
        } catch (const stripe::stripe_error& e) {
            if (!forbidden(e, "billing portal prices not checked for archiving: the key lacks price read")) throw;
        }
        co_return in;
    }

    // What the last fetch brought; the fetcher starts empty again.
    fetched take() { return std::exchange(data_, fetched{}); }

    // The pages recorded since the last call, for store::record_pages.
    std::vector<store::fetched_page> take_pages() { return std::exchange(pages_, {}); }

private:
    // A dispute names its charge only, and the charge names the invoice.
    // Two or more disputes are listed with their charges expanded (one
    // request per hundred, not one each); a single one, or one the list did
    // not bring, is retrieved. A key without read access to disputes (403)
    // falls back to retrieving every charge.
    asio::awaitable<void> fetch_disputed_charges(fetched& f) {
        if (f.disputes.empty()) co_return;
        std::unordered_map<std::string, charge> expanded;  // dispute id -> its charge
        if (f.disputes.size() >= 2 && !disputes_forbidden_) {
            unix_seconds lo = f.disputes.front().first.created, hi = lo;
            for (const auto& [d, event_id] : f.disputes) lo = std::min(lo, d.created), hi = std::max(hi, d.created);
            stripe::list_query q{"/v1/disputes", {{"expand[]", "data.charge"}}, lo, hi + 1};
            try {
                co_await client_.list_all(q, [&](const list_page_info& p, list_envelope&& env) {
                    on_page(p);
                    for (auto& v : env.data) {
                        const auto& o = v.as_object();
                        const auto* id = o.if_contains("id");
                        const auto* ch = o.if_contains("charge");
                        if (id && id->is_string() && ch && ch->is_object())
                            expanded.emplace(std::string(id->as_string()), parse_charge(ch->as_object()));
                    }
                });
            } catch (const stripe::stripe_error& e) {
                if (e.http_status() != 403) throw;
                disputes_forbidden_ = true;
                log::warn("disputes_list_forbidden",
                          {{"error", log::redact(e.what())},
                           {"effect", "the key cannot read disputes: each disputed charge is retrieved instead"}});
            }
        }
        std::vector<std::size_t> missing;
        std::vector<std::string> charge_paths;
        for (std::size_t i = 0; i < f.disputes.size(); ++i) {
            const auto& [d, event_id] = f.disputes[i];
            if (auto it = expanded.find(d.id); it != expanded.end() && it->second.id == d.charge) {
                f.charge_cases.push_back(pinned_charge_case(event_id, std::move(it->second), d));
            } else {
                missing.push_back(i);
                charge_paths.push_back("/v1/charges/" + d.charge);
            }
        }
        auto charges = co_await client_.retrieve_all(std::move(charge_paths));
        for (std::size_t k = 0; k < charges.size(); ++k) {
            const auto& [d, event_id] = f.disputes[missing[k]];
            record(list_page_info{charges[k].path, 1, charges[k].request_id, 1, false});
            f.charge_cases.push_back(pinned_charge_case(event_id, parse_charge(*charges[k].object), d));
        }
    }

    // A disputed charge as fetched at the pinned version: before basil, a
    // charge rendered there without `invoice` has none (nothing to look up).
    charge_case pinned_charge_case(const std::string& event_id, charge ch, const dispute& d) const {
        charge_case cc{event_id, true, std::move(ch), d.amount, d.created};
        if (pinned_charges_name_invoices_ && cc.ch.invoice.empty()) cc.unlinked = "Stripe names no invoice for the charge";
        return cc;
    }

    // Basil removed charge.invoice, so a refunded or disputed charge rendered
    // at basil (an event keeps its own version) is tied to its invoice here:
    // pinned at basil or later, by the InvoicePayment of its PaymentIntent
    // (one filtered list request per charge, all in flight together; a
    // PaymentIntent pays one invoice, so no list of many serves better);
    // pinned before basil, by retrieving the charge, which at that version
    // still names its invoice. A charge nothing ties to one stays unlinked,
    // with the reason, and becomes a charge_without_invoice finding.
    asio::awaitable<void> link_charges_to_invoices(fetched& f) {
        std::vector<charge_case*> cases;
        std::vector<std::string> paths;
        for (auto& cc : f.charge_cases) {
            if (!cc.ch.invoice.empty() || !cc.unlinked.empty()) continue;
            if (cc.ch.payment_intent.empty()) {
                cc.unlinked = "the charge has no payment intent";
                continue;
            }
            cases.push_back(&cc);
            paths.push_back(pinned_charges_name_invoices_
                                ? "/v1/charges/" + stripe::detail::url_encode(cc.ch.id)
                                : "/v1/invoice_payments?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=" +
                                      stripe::detail::url_encode(cc.ch.payment_intent) + "&limit=10");
        }
        auto links = co_await client_.retrieve_all(std::move(paths));
        for (std::size_t k = 0; k < links.size(); ++k) {
            auto& cc = *cases[k];
            const auto& r = links[k];
            cc.link_request_id = r.request_id;
            if (pinned_charges_name_invoices_) {
                record(list_page_info{r.path, 1, r.request_id, 1, false});
                cc.ch.invoice = parse_charge(*r.object).invoice;
                if (cc.ch.invoice.empty()) cc.unlinked = "Stripe names no invoice for the charge";
                continue;
            }
            const auto* data = r.object->if_contains("data");
            if (!data || !data->is_array())
                throw parse_error("retrieve " + r.path + " (" + r.request_id + "): expected a list of invoice payments");
            std::set<std::string> paid;
            for (const auto& v : data->as_array()) {
                if (!v.is_object()) throw parse_error("retrieve " + r.path + " (" + r.request_id + "): expected objects");
                auto p = parse_invoice_payment(v.as_object());
                if (p.status == "paid" && p.payment_intent == cc.ch.payment_intent) paid.insert(std::move(p.invoice));
            }
            record(list_page_info{r.path, 1, r.request_id, data->as_array().size(), false});
            if (paid.size() == 1) {
                cc.ch.invoice = *paid.begin();
            } else if (paid.empty()) {
                cc.unlinked = "no paid invoice payment for " + cc.ch.payment_intent;
            } else {
                std::string ids;
                for (const auto& id : paid) ids += (ids.empty() ? "" : ", ") + id;
                cc.unlinked = cc.ch.payment_intent + " paid several invoices: " + ids;
            }
        }
    }

    // Every invoice created in [s, e), not only the paid ones: the few
    // others cost hardly a page, and a void one answers an app payment's
    // lookup (finish_slice) without a request of its own.
    asio::awaitable<void> fetch_invoices(fetched& f, unix_seconds s, unix_seconds e) {
        stripe::list_query invoices{"/v1/invoices", {}, s, e};
        co_await client_.list_all(invoices, [this, &f](const list_page_info& p, list_envelope&& env) {
            on_page(p);
            f.objects += static_cast<std::int64_t>(p.object_count);
            for (auto& v : env.data) {
                auto inv = parse_invoice(v.as_object());
                if (inv.paid) f.add_invoice(std::move(inv), p.request_id);
                else if (inv.status == "void") void_invoices_.emplace(std::move(inv.id), p.request_id);
            }
        });
    }

    asio::awaitable<void> fetch_customers(fetched& f, unix_seconds s, unix_seconds e) {
        stripe::list_query customers{"/v1/customers", {}, s, e};
        co_await client_.list_all(customers, [this, &f](const list_page_info& p, list_envelope&& env) {
            on_page(p);
            f.objects += static_cast<std::int64_t>(p.object_count);
            for (auto& v : env.data) {
                auto c = parse_customer(v.as_object());
                f.request_ids.emplace(c.id, p.request_id);
                f.customers.emplace(c.id, std::move(c));
            }
        });
    }

    // Events of [s, e) that Stripe still keeps (30 days). `undelivered_only`
    // (the window part's subscription events): each page's events fold into
    // the subscription states at once, and only those the app's webhook log
    // has no row for are kept as refs (the missed-webhook check's input), so
    // memory does not grow with every subscription event of the window.
    asio::awaitable<void> fetch_events(fetched& f, unix_seconds s, unix_seconds e,
                                       const std::vector<std::string>& types, bool undelivered_only = false) {
        stripe::list_query events{"/v1/events", {}, std::max(s, window_end_ - event_retention), e};
        for (std::size_t i = 0; i < types.size(); ++i)
            events.params.emplace_back("types[" + std::to_string(i) + "]", types[i]);
        if (events.created_gte >= events.created_lt) co_return;
        co_await client_.list_all(events, [this, &f, undelivered_only](const list_page_info& p, list_envelope&& env) {
            on_page(p);
            f.objects += static_cast<std::int64_t>(p.object_count);
            if (!undelivered_only) {
                for (auto& v : env.data) on_event(f, parse_event(v.as_object()), p.request_id);
                return;
            }
            std::vector<event_ref> refs;
            std::vector<std::string> ids;
            for (auto& v : env.data) {
                const event ev = parse_event(v.as_object());
                f.subscriptions.add(ev, p.request_id);
                refs.push_back(event_ref{ev.id, ev.type, ev.created, ev.object_id});
                ids.push_back(ev.id);
            }
            const auto delivered = db_.delivered_event_ids(ids);
            const std::set<std::string> done(delivered.begin(), delivered.end());
            for (auto& r : refs) {
                if (done.count(r.id)) continue;
                f.request_ids.emplace(r.id, p.request_id);
                f.events.push_back(std::move(r));
            }
        });
    }

    void on_page(const list_page_info& p) {
        record(p);
        result_.objects += static_cast<std::int64_t>(p.object_count);
        progress_.update(p.resource, result_.pages, result_.objects, done_);
    }

    // Counted at once; written to recon_pages by whoever next holds the
    // database (take_pages), since this runs on the network thread while the
    // worker may be applying a slice.
    void record(const list_page_info& p) {
        ++result_.pages;
        report_.request_id(p.request_id);
        pages_.push_back(store::fetched_page{p, now_unix()});
    }

    void on_event(fetched& f, event e, const std::string& request_id) {
        // An event is kept (with its Request-Id) only where a rule reads it:
        // those the app handles (a delivery to check, the invoice.paid a
        // grant replays) and those a charge case names. invoice.payment_succeeded
        // and customer.created serve their object alone; kept, they were
        // two thirds of a dense slice's event refs, and their deliveries
        // were loaded for nothing (same findings).
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
        } else if (auto* c = std::get_if<customer>(&e.object)) {
            f.customers.emplace(c->id, *c);
        } else if (e.type == "billing_portal.session.created") {
            ++result_.portal_sessions;
        }
    }

    struct deferred {
        invoice inv;
        std::string request_id;
        std::vector<event_ref> events;  // its events, for the delivery check
    };

    stripe::client& client_;
    store::store& db_;
    run_result& result_;
    report_writer& report_;
    unix_seconds window_end_;
    const diff_policy& policy_;
    double done_ = 0;
    fetched data_;
    std::map<std::string, deferred> carried_;
    // Void invoices listed so far (id -> Request-Id) that no app payment has
    // asked about yet: few (a void invoice is rare), and each answers one
    // lookup.
    std::unordered_map<std::string, std::string> void_invoices_;
    bool disputes_forbidden_ = false;  // the key may not list disputes (403 once)
    bool pinned_charges_name_invoices_;  // the pinned version renders charge.invoice
    progress_line progress_;
    std::vector<store::fetched_page> pages_;  // recorded, not yet written
};

// One part of a fetched slice that is diffed as a slice of its own.
struct slice_part {
    fetched lists;
    unix_seconds s = 0, e = 0;
};

// A slice's length comes from the density of the slice before it, so a burst
// nothing foretold (a renewal wave on the 1st of the month; in the bench's
// 1M window, one slice sized for 7,000 objects listed 21,491) fills one
// slice with several times `part_objects`. Diffed whole, its app rows
// (users, payments, deliveries) and the diff's indexes over them were held
// at once, and they were that run's peak. So a slice with over 1.5x
// `part_objects` objects is cut into parts of about `part_objects` each, at
// the times that divide its objects evenly (no part shorter than
// slice_margin), and each part is finished like a slice: its deferrals,
// lookups, diff, apply and checkpoint. An object belongs to a part by the
// time a slice would place it by: an invoice when it was paid (as
// finish_slice defers it), an event of one of the slice's invoices or
// charge cases with that object, anything else when it was created. The
// objects move into their part; nothing is copied. Otherwise the slice is
// the one part.
std::vector<slice_part> split_overfull(fetched f, unix_seconds s, unix_seconds e, std::int64_t part_objects) {
    std::vector<slice_part> parts;
    const auto whole = [&] {
        parts.push_back(slice_part{std::move(f), s, e});
        return std::move(parts);
    };
    if (2 * f.objects <= 3 * part_objects || e - s < 2 * slice_margin) return whole();
    const auto at = [&](unix_seconds t) { return std::clamp(t, s, e - 1); };
    const auto invoice_time = [&](const invoice& inv) { return at(inv.paid_at.value_or(inv.created)); };
    // An event goes with its object: an invoice's, or a charge case's.
    std::vector<unix_seconds> event_times;
    {
        std::unordered_map<std::string_view, unix_seconds> case_time;  // views f.charge_cases
        for (const auto& cc : f.charge_cases) case_time.emplace(cc.event_id, at(cc.created));
        event_times.reserve(f.events.size());
        for (const auto& ev : f.events) {
            if (auto inv = f.invoices.find(ev.object_id); inv != f.invoices.end())
                event_times.push_back(invoice_time(inv->second));
            else if (auto cc = case_time.find(ev.id); cc != case_time.end())
                event_times.push_back(cc->second);
            else
                event_times.push_back(at(ev.created));
        }
    }

    std::vector<unix_seconds> times(event_times);
    times.reserve(f.invoices.size() + f.events.size() + f.customers.size() + f.charge_cases.size());
    for (const auto& [id, inv] : f.invoices) times.push_back(invoice_time(inv));
    for (const auto& [id, c] : f.customers) times.push_back(at(c.created));
    for (const auto& cc : f.charge_cases) times.push_back(at(cc.created));
    std::sort(times.begin(), times.end());
    const std::size_t n = static_cast<std::size_t>((f.objects + part_objects - 1) / part_objects);
    std::vector<unix_seconds> bounds{s};
    for (std::size_t k = 1; k < n && !times.empty(); ++k) {
        const unix_seconds cut = times[k * times.size() / n];
        if (cut - bounds.back() >= slice_margin && e - cut >= slice_margin) bounds.push_back(cut);
    }
    if (bounds.size() == 1) return whole();
    bounds.push_back(e);

    parts.resize(bounds.size() - 1);
    for (std::size_t i = 0; i < parts.size(); ++i) parts[i].s = bounds[i], parts[i].e = bounds[i + 1];
    const auto part_of = [&](unix_seconds t) -> fetched& {
        const auto cuts_before = std::upper_bound(bounds.begin() + 1, bounds.end() - 1, t) - (bounds.begin() + 1);
        return parts[static_cast<std::size_t>(cuts_before)].lists;
    };
    // The part of time `t` gets an object of id `id`: its count, and the
    // Request-Id of the response that brought it (the finding's evidence).
    const auto place = [&](unix_seconds t, const std::string& id) -> fetched& {
        fetched& to = part_of(t);
        if (auto node = f.request_ids.extract(id)) to.request_ids.insert(std::move(node));
        ++to.objects;
        return to;
    };
    for (std::size_t i = 0; i < f.events.size(); ++i)
        place(event_times[i], f.events[i].id).events.push_back(std::move(f.events[i]));
    for (auto& cc : f.charge_cases) place(at(cc.created), cc.event_id).charge_cases.push_back(std::move(cc));
    while (!f.invoices.empty()) {
        auto node = f.invoices.extract(f.invoices.begin());
        place(invoice_time(node.mapped()), node.key()).invoices.insert(std::move(node));
    }
    while (!f.customers.empty()) {
        auto node = f.customers.extract(f.customers.begin());
        place(at(node.mapped().created), node.key()).customers.insert(std::move(node));
    }
    // Ids of nothing kept (none today) stay with the slice's last part.
    parts.back().lists.request_ids.merge(f.request_ids);
    return parts;
}

window_input to_window_input(fetched& f, unix_seconds start, unix_seconds end) {
    window_input in;
    in.start = start;
    in.end = end;
    in.events = std::move(f.events);
    in.charge_cases = std::move(f.charge_cases);
    // Node by node, so the maps' nodes are freed as the vectors fill: the
    // slice is not held twice while it is diffed.
    in.customers.reserve(f.customers.size());
    while (!f.customers.empty()) in.customers.push_back(std::move(f.customers.extract(f.customers.begin()).mapped()));
    in.looked_up_invoices = std::move(f.looked_up_invoices);
    in.invoices.reserve(f.invoices.size());
    while (!f.invoices.empty()) in.invoices.push_back(std::move(f.invoices.extract(f.invoices.begin()).mapped()));
    in.subscriptions = f.subscriptions.states();
    in.request_ids = std::move(f.request_ids);
    return in;
}

// The app's side of one slice (the window rules read theirs in chunks).
local_snapshot load_local_for(store::store& db, const window_input& in) {
    // Views into `in`, sorted and deduplicated below (vectors, not sets: a
    // dense slice's ids were ~2 MB of set nodes).
    std::vector<std::string_view> customers, emails, invoice_ids, event_ids;
    // The credit events the slice rules read: a user's grants and revokes of
    // the slice's invoices and charges (credits_not_granted,
    // refund_or_dispute), nothing else of the log.
    std::unordered_set<std::string_view> sources;
    for (const auto& inv : in.invoices) {
        customers.push_back(inv.customer);
        if (!inv.customer_email.empty()) emails.push_back(inv.customer_email);
        invoice_ids.push_back(inv.id);
        sources.insert(inv.id);
    }
    for (const auto& st : in.subscriptions) customers.push_back(st.sub.customer);
    for (const auto& c : in.customers) {
        customers.push_back(c.id);
        if (!c.email.empty()) emails.push_back(c.email);
    }
    for (const auto& cc : in.charge_cases) {
        customers.push_back(cc.ch.customer);
        sources.insert(cc.ch.id);
        sources.insert(cc.ch.invoice);
    }
    for (const auto& e : in.events) event_ids.push_back(e.id);
    for (const auto& [id, status] : in.looked_up_invoices) invoice_ids.push_back(id);
    const auto distinct = [](std::vector<std::string_view>& v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        v.shrink_to_fit();
        return std::move(v);
    };
    store::local_query q;
    q.customer_ids = distinct(customers);
    q.emails = distinct(emails);
    q.invoice_ids = distinct(invoice_ids);
    q.event_ids = distinct(event_ids);
    q.credit_event_sources = std::move(sources);
    q.start = in.start;
    q.end = in.end;
    q.window_rules = false;
    return db.load_local(q);
}

json::object entitlement_change_line(const finding& f, const proposed_correction& c, const store::apply_result& r,
                                     std::int64_t run_id) {
    json::object change;
    json::object stripe_ids{{"customer", f.customer_id}};
    std::string action;
    if (c.kind == correction_kind::set_tier) {
        // The same action name the app logs for webhook-driven tier changes,
        // so the runbook's log search finds both.
        action = "subscription_updated";
        change["plan"] = json::object{{"from", c.tier_from}, {"to", c.tier_to}};
        stripe_ids["subscription"] = f.subject_id;
        stripe_ids["event"] = c.source;
    } else {
        const bool grant = c.kind == correction_kind::grant_credits;
        action = grant ? "credits_granted" : "credits_revoked";
        change["ai_credits"] =
            json::object{{"delta", grant ? r.credits_applied : -r.credits_applied}, {"after", r.balance_after}};
        change["credit_event_id"] = r.credit_event_id;
        if (grant) {
            change["payment_recorded"] = r.payment_recorded;
            stripe_ids["invoice"] = f.subject_id;
        } else {
            stripe_ids["charge"] = f.subject_id;
        }
    }
    if (const auto* rid = f.evidence.if_contains("stripe_request_id")) stripe_ids["request_id"] = *rid;
    return json::object{
        {"action", action},          {"correlation_id", r.correlation_id},
        {"user_id", c.user_id},      {"email", f.user_email},
        {"change", std::move(change)}, {"stripe", std::move(stripe_ids)},
        {"finding", to_string(f.kind)}, {"run_id", run_id},
        {"actor", "stripe-reconciler"},
    };
}

// Re-delivers one missed event to the app's webhook endpoint.
using replayer = std::function<replay_result(const std::string& event_id)>;

// Whether the config lets the run apply this kind of correction by itself.
bool policy_allows(const config& cfg, const finding& f) {
    switch (f.kind) {
    case finding_kind::credits_not_granted: return cfg.corrections.grant_missing_credits;
    case finding_kind::tier_mismatch: return cfg.corrections.fix_tiers;
    case finding_kind::refund_or_dispute: return cfg.corrections.clawback_refunds;
    default: return false;
    }
}

// The blast-radius guard's running totals.
class blast_guard {
public:
    explicit blast_guard(const limits_config& l) : limits_(l) {}

    // Empty when the correction fits under every cap; else the cap it passes.
    std::string check(const proposed_correction& c) const {
        const std::int64_t credits = c.kind == correction_kind::set_tier ? 0 : c.credits;
        if (tripped_) return "a blast-radius cap was reached earlier in this run";
        if (corrections_ + 1 > limits_.max_corrections_per_run) return "limits.max_corrections_per_run";
        if (credits_ + credits > limits_.max_credits_per_run) return "limits.max_credits_per_run";
        auto it = per_user_.find(c.user_id);
        if ((it == per_user_.end() ? 0 : it->second) + credits > limits_.max_credits_per_user)
            return "limits.max_credits_per_user";
        return {};
    }
    void trip() { tripped_ = true; }
    void count(const proposed_correction& c, std::int64_t credits) {
        ++corrections_;
        credits_ += credits;
        // Only users who were given or charged credits: a tier fix adds
        // none, and an entry each was ~6,000 map nodes a 1M-event run held.
        if (credits != 0) per_user_[c.user_id] += credits;
    }

private:
    const limits_config& limits_;
    bool tripped_ = false;
    std::int64_t corrections_ = 0, credits_ = 0;
    std::map<std::int64_t, std::int64_t> per_user_;
};

void apply_one(store::store& db, finding& f, run_result& result, finding_outcome& o,
               const std::function<void(const json::object&)>& on_change, blast_guard& guard) {
    const auto& c = *f.correction;
    try {
        auto r = db.apply(c, result.run_id, store::random_correlation_id());
        o.correction_id = r.correction_id;
        o.correlation_id = r.correlation_id;
        switch (r.outcome) {
        case store::apply_outcome::applied: {
            o.disposition = store::disposition::applied;
            guard.count(c, r.credits_applied);
            auto line = entitlement_change_line(f, c, r, result.run_id);
            log::info("entitlement_change", line);
            on_change(line);
            if (c.unrecovered > 0 || r.credits_applied < c.credits)
                o.note = std::to_string(c.unrecovered + c.credits - r.credits_applied) +
                         " credits were already spent and could not be taken back";
            break;
        }
        case store::apply_outcome::already_applied:
            o.disposition = store::disposition::already_applied;
            o.note = "applied earlier (correlation id " + r.correlation_id + ")";
            break;
        case store::apply_outcome::superseded:
            o.disposition = store::disposition::superseded;
            o.note = r.detail;
            break;
        case store::apply_outcome::conflict:
            o.disposition = store::disposition::failed;
            o.note = r.detail;
            break;
        }
    } catch (const store::store_error& e) {
        o.disposition = store::disposition::failed;
        o.note = log::redact(e.what());
        log::error("correction_failed", {{"finding", to_string(f.kind)}, {"subject", f.subject_id}, {"error", o.note}});
    }
}

// Crash-test knob (tests/e2e, docs/RELIABILITY): a pause after each applied
// correction, so a SIGKILL can land between two commits. Unset in production.
std::chrono::milliseconds apply_pause() {
    const char* v = std::getenv("RECONCILER_CRASH_TEST_APPLY_PAUSE_MS");
    return std::chrono::milliseconds(v ? std::max(0, std::atoi(v)) : 0);
}

// Corrections policy `replay`: whether this finding's fix goes through the
// app's webhook handler, and the Stripe event to re-deliver ("" when none
// carries the state, e.g. a tier read from the subscription list).
bool wants_replay(const config& cfg, const finding& f) {
    return (f.kind == finding_kind::credits_not_granted && cfg.corrections.replay_missing_credits) ||
           (f.kind == finding_kind::tier_mismatch && cfg.corrections.replay_tiers);
}

std::string replay_event_of(const finding& f) {
    if (f.kind == finding_kind::tier_mismatch) return f.correction->source;
    const auto* ev = f.evidence.if_contains("invoice_paid_event");
    return ev && ev->is_string() ? std::string(ev->as_string()) : std::string{};
}

void replay_fix(finding& f, finding_outcome& o, const replayer& replay, blast_guard& guard) {
    const std::string event_id = replay_event_of(f);
    if (event_id.empty()) {
        o.note = "policy replay: no Stripe event carries this state (past the 30-day event retention): flagged";
        return;
    }
    try {
        const replay_result r = replay(event_id);
        if (r.succeeded()) {
            o.disposition = store::disposition::replayed;
            o.note = "replayed " + event_id + " to " + r.url_for_log + ": the app answered " + std::to_string(r.status);
            guard.count(*f.correction, f.correction->kind == correction_kind::set_tier ? 0 : f.correction->credits);
        } else {
            o.disposition = store::disposition::failed;
            o.note = "replay of " + event_id + " to " + r.url_for_log + " failed (attempt " + std::to_string(r.attempt) +
                     "): " + (r.delivered ? "the app answered " + std::to_string(r.status) : r.error);
        }
    } catch (const std::exception& e) {
        o.disposition = store::disposition::failed;
        o.note = log::redact(e.what());
    }
}

void apply_findings(const config& cfg, store::store& db, std::vector<finding> findings, bool dry_run,
                    run_result& result, const std::function<void(const json::object&)>& on_change,
                    blast_guard& guard, const replayer& replay) {
    const auto pause = apply_pause();
    std::string cap_hit;
    for (auto& f : findings) {
        finding_outcome o;
        if (!f.correction) {
            o.note = "no safe correction: flagged for " + std::string(to_string(f.owner));
        } else if (dry_run) {
            o.note = "dry run: not applied";
        } else if (!policy_allows(cfg, f)) {
            o.note = "policy: corrections." + std::string(to_string(f.kind)) + " is flag";
        } else if (auto cap = guard.check(*f.correction); !cap.empty()) {
            o.note = "not applied: " + cap + " reached";
            if (cap_hit.empty() && cap.rfind("limits.", 0) == 0) cap_hit = cap;
            if (cap != "limits.max_credits_per_user") guard.trip();
        } else if (wants_replay(cfg, f)) {
            replay_fix(f, o, replay, guard);
        } else {
            apply_one(db, f, result, o, on_change, guard);
            if (pause.count() > 0) std::this_thread::sleep_for(pause);
        }
        db.record_finding(result.run_id, f, o.disposition, o.correction_id);
        o.f = std::move(f);
        result.outcomes.push_back(std::move(o));
    }
    if (!cap_hit.empty() && result.cap_reached.empty()) {
        result.cap_reached = cap_hit;
        log::warn("blast_radius_cap", {{"run_id", result.run_id}, {"cap", cap_hit}});
    }
}

// Unknown prices lead the run's notes (the summary, summary.md, report.json):
// until someone maps them, their customers' invoices grant nothing.
void note_unknown_prices(run_result& result, const std::vector<finding>& unknown) {
    std::vector<std::string> lines;
    for (const auto& f : unknown) {
        const auto count = [&](const char* k) { return std::to_string(f.evidence.at(k).as_int64()); };
        lines.push_back("unknown price " + f.subject_id + ": " + count("customers") + " customers, " + count("invoices") +
                        " paid invoices, " + count("subscriptions") +
                        " subscriptions; add it to prices: or mark it { ignore: true }");
    }
    result.notes.insert(result.notes.begin(), lines.begin(), lines.end());
}

// Kinds escalated even when the reconciler repaired their effect.
bool always_escalated(finding_kind k) { return k == finding_kind::paid_without_entitlement_change; }

// The kinds each part of a window decides, so each part resolves only the
// escalations it could have seen again.
const std::vector<finding_kind>& window_rule_kinds() {
    static const std::vector<finding_kind> k{
        finding_kind::tier_mismatch,          finding_kind::credits_not_decrementing,
        finding_kind::negative_or_stuck_balance, finding_kind::balance_drift,
        finding_kind::webhook_failed_twice,   finding_kind::webhook_signature_failures,
        finding_kind::missing_correlation_id,
    };
    return k;
}

const std::vector<finding_kind>& slice_rule_kinds() {
    static const std::vector<finding_kind> k{
        finding_kind::credits_not_granted, finding_kind::paid_without_entitlement_change,
        finding_kind::amount_mismatch,     finding_kind::currency_mismatch,
        finding_kind::orphan_local_payment, finding_kind::refund_or_dispute,
        finding_kind::unknown_customer,    finding_kind::missed_webhook,
        finding_kind::charge_without_invoice,
    };
    return k;
}

// Raises an escalation for every flagged outcome from `first_outcome` on, and
// resolves the open escalations of `kinds` about [start, end) that this run
// has not raised in any of its parts (the store knows which run last raised
// each one: nothing per escalation is kept in memory).
void escalate(store::store& db, report_writer& report, run_result& result, std::size_t first_outcome,
              unix_seconds start, unix_seconds end,
              bool cap_newly_reached, const std::vector<finding_kind>& resolve_kinds) {
    auto raise = [&](const std::string& team_name, const std::string& kind, const std::string& subject,
                     const json::object& evidence, unix_seconds at, int watch_until) {
        auto e = db.raise(store::escalation_input{team_name, kind, subject, json::serialize(evidence), at},
                          result.run_id, watch_until);
        if (e.is_new) ++result.new_escalations;
        ++result.escalations_raised;
        report.escalation(e);
    };
    for (std::size_t i = first_outcome; i < result.outcomes.size(); ++i) {
        const auto& o = result.outcomes[i];
        const bool flagged = o.disposition == store::disposition::flagged || o.disposition == store::disposition::failed;
        // A clawback that could not take everything back: the rest is flagged.
        const bool partial = o.disposition == store::disposition::applied && o.f.correction &&
                             o.f.correction->kind == correction_kind::revoke_credits && !o.note.empty();
        if (!flagged && !partial && !always_escalated(o.f.kind)) continue;
        json::object evidence = o.f.evidence;
        evidence["summary"] = o.f.summary;
        evidence["note"] = o.note;
        // A failed tier fix goes to billing engineering on its second failure
        // ("after 2 failed retries"); everything else at once.
        const int watch = o.f.kind == finding_kind::tier_mismatch && o.disposition == store::disposition::failed ? 2 : 1;
        raise(to_string(o.f.owner), to_string(o.f.kind), o.f.subject_id, evidence, o.f.at, watch);
    }
    if (cap_newly_reached)
        raise("billing_engineering", "blast_radius_cap", "run-" + std::to_string(result.run_id),
              json::object{{"cap", result.cap_reached},
                           {"summary", "the run stopped applying corrections at " + result.cap_reached +
                                           "; the rest were flagged: check the price map before raising the cap"}},
              0, 1);
    if (resolve_kinds.empty()) return;  // a chunk of a part: the part resolves once, after its last chunk
    std::vector<std::string> kinds;
    for (auto k : resolve_kinds) kinds.emplace_back(to_string(k));
    result.escalations_resolved += db.resolve_absent(result.run_id, start, end, kinds);
}

}  // namespace detail

stripe::beast_transport_options stripe_transport_options(const config& cfg, const std::string& key) {
    return stripe::beast_transport_options{
        .base_url = cfg.stripe.base_url,
        .ca_file = cfg.stripe.ca_file,
        .allow_plain_http_loopback = cfg.stripe.allow_plain_http_loopback,
        .timeout = cfg.stripe.request_timeout,
        .api_key = key,
        .stripe_version = cfg.stripe.api_version,
        .stripe_account = cfg.stripe.account,
    };
}

stripe::client_options stripe_client_options(const config& cfg, const std::string& key) {
    stripe::client_options copts;
    copts.max_retries = cfg.stripe.max_retries;
    copts.requests_per_second = detail::requests_per_second(cfg, key);
    copts.concurrency = cfg.stripe.concurrency;
    copts.redact = {key};
    return copts;
}

// The stream whose checkpoint says how far the app has been reconciled.
constexpr const char* checkpoint_stream = "window";

run_result run_once(const config& cfg, const run_options& opts) {
    asio::io_context ioc;
    auto done = asio::co_spawn(ioc, run_once_async(ioc, cfg, opts, nullptr), asio::use_future);
    ioc.run();
    return done.get();
}

// GCC 12 reports -Wmismatched-new-delete on this coroutine's frame (the
// frame's class-specific operator new/delete pair is matched; a known false
// positive of GCC's coroutine lowering, fixed in later releases).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<run_result> run_once_async(asio::io_context& ioc, config cfg, run_options opts,
                                           const std::atomic<bool>* stop) {
    detail::keep_large_blocks_out_of_the_heap();
    run_result result;
    result.started_at = now_unix();
    result.dry_run = opts.dry_run;
    result.config_hash = cfg.content_hash;
    result.api_version = cfg.stripe.api_version;

    const std::string key = read_secret(cfg.stripe.key, "stripe key");
    log::add_secret(key);
    // Corrections policy `replay` signs re-delivered events: read before anything is written.
    std::string webhook_secret;
    if (cfg.corrections.replay_missing_credits || cfg.corrections.replay_tiers) {
        webhook_secret = read_secret(cfg.webhook.secret, "webhook secret", "webhook.secret");
        log::add_secret(webhook_secret);
    }

    auto db = store::open_sqlite_store({cfg.database.path, cfg.database.busy_timeout, false});
    db->check_schema();
    const run_lock lock(cfg.database.path);  // held until the run returns

    result.window_end = opts.until.value_or(result.started_at);
    if (opts.since) {
        result.window_start = *opts.since;
    } else if (auto cp = db->checkpoint(checkpoint_stream)) {
        // Continue where the last run stopped, looking back for late events.
        result.window_start = std::min(*cp, result.window_end) - cfg.overlap.count();
        result.notes.push_back("continued from the checkpoint " + format_rfc3339(*cp) + " minus the overlap " +
                               std::to_string(cfg.overlap.count()) + " s");
    } else {
        result.window_start = result.window_end - cfg.default_lookback.count();
    }
    if (result.window_start >= result.window_end)
        throw config_error("window: --since " + format_rfc3339(result.window_start) + " is not before --until " +
                           format_rfc3339(result.window_end));
    if (result.window_end - result.window_start > detail::event_retention)
        result.notes.push_back("the window reaches past Stripe's 30-day event retention: " +
                               format_rfc3339(result.window_start) + " .. " +
                               format_rfc3339(result.window_end - detail::event_retention) +
                               " was verified from the object lists (paid invoices by creation time; tiers from "
                               "every subscription's current state), the rest from events and invoices");

    // Setup problems end the run here, before it writes anything (exit 2):
    // a bad CA file or URL, a certificate the server cannot pass, an output
    // directory that cannot be written.
    auto transport = stripe::make_beast_transport(ioc, stripe_transport_options(cfg, key));
    const stripe::transport_result probed = co_await transport->probe();
    stripe::refuse_tls_failure(probed, cfg.stripe.base_url);
    prepare_output_dir(cfg.output.dir);

    result.run_id = db->begin_run(store::run_record{result.window_start, result.window_end, opts.dry_run,
                                                    cfg.content_hash, cfg.stripe.api_version});
    result.report_dir = prepare_report_dir(cfg.output.dir, result.run_id, result.started_at);
    log::info("run_started", {{"run_id", result.run_id},
                              {"window_start", format_rfc3339(result.window_start)},
                              {"window_end", format_rfc3339(result.window_end)},
                              {"dry_run", opts.dry_run}});

    stripe::client client(*transport, stripe_client_options(cfg, key));
    report_writer changes(result.report_dir);
    detail::blast_guard guard(cfg.limits);
    const diff_policy policy = detail::policy_of(cfg);
    const auto on_change = [&](const json::object& line) { changes.entitlement_change(line); };
    // A replay happens in the middle of applying, while this coroutine holds
    // the run's io_context: it gets a short-lived one of its own (replays are
    // few: one per finding under the `replay` policy).
    const detail::replayer replay = [&](const std::string& event_id) {
        asio::io_context replay_ioc;
        auto replay_transport = stripe::make_beast_transport(replay_ioc, stripe_transport_options(cfg, key));
        stripe::client replay_client(*replay_transport, stripe_client_options(cfg, key));
        const replay_options ro{event_id, cfg.webhook.forward_to, cfg.webhook.ca_file};
        auto replayed = asio::co_spawn(
            replay_ioc, replay_one(replay_client, *db, webhook_secret, ro, cfg.stripe.request_timeout), asio::use_future);
        replay_ioc.run();
        return replayed.get();
    };

    // The window in parts (core/diff.hpp): first what needs all of it (the
    // newest subscription states, the app's balances and webhook log), then
    // chronological slices, each fetched, diffed, applied, escalated and
    // checkpointed before the next is fetched: memory is bounded by a slice,
    // and a run killed half-way resumes from the last finished slice.
    const unix_seconds start = result.window_start, end = result.window_end;
    unix_seconds verified_until = start;  // [start, verified_until) is done
    // Fetching (callbacks on this coroutine's thread) and finishing slices
    // (diff, apply, escalate, checkpoint: on `worker`) overlap; the database
    // and everything the finishing touches belong to whichever of the two
    // the consumer below is in, never both at once.
    detail::fetcher fetcher(client, *db, result, changes, end, policy, cfg.stripe.api_version);
    asio::thread_pool worker(1);
    try {
        diff_memory memory;
        bool cap_escalated = false;
        const auto apply_and_escalate = [&](std::vector<finding> findings, unix_seconds from, unix_seconds to,
                                            const std::vector<finding_kind>& kinds) {
            const std::size_t first = result.outcomes.size();
            detail::apply_findings(cfg, *db, std::move(findings), opts.dry_run, result, on_change, guard, replay);
            if (!opts.dry_run) {  // a dry run writes nothing but the report
                const bool cap_new = !result.cap_reached.empty() && !cap_escalated;
                cap_escalated = cap_escalated || cap_new;
                detail::escalate(*db, changes, result, first, from, to, cap_new, kinds);
            }
            changes.findings(result);  // to findings.jsonl: the part's findings leave memory
        };

        // Slices of window.slice at most, cut shorter after a slice denser
        // than window.slice_objects; the first (fetched before any density
        // is known) is at most an hour.
        const unix_seconds max_slice = std::max<unix_seconds>(cfg.slice.count(), 2 * detail::slice_margin);
        unix_seconds slice = std::min<unix_seconds>(max_slice, 3600);
        const auto slice_end = [&](unix_seconds s) { return std::min(end, s + slice); };
        const auto next_slice_after = [&](std::int64_t objects, unix_seconds len) {
            const double scale = static_cast<double>(cfg.slice_objects) / static_cast<double>(std::max<std::int64_t>(1, objects));
            const double next = std::min(static_cast<double>(len) * scale, 4.0 * static_cast<double>(len));  // grow gently
            return std::clamp(static_cast<unix_seconds>(next), 2 * detail::slice_margin, max_slice);
        };

        // The rest of slice [s, e) once its lists are in: lookups, diff, apply,
        // escalate, checkpoint. Its only suspension points are the lookups,
        // before anything is written: cancelled (the next slice's fetch
        // failed), it leaves the slice unapplied and unchecked.
        const auto finish = [&](detail::fetched lists, unix_seconds s, unix_seconds e) -> asio::awaitable<void> {
            const bool last = e == end;
            co_await fetcher.finish_slice(std::move(lists), s, e, last);
            std::optional<portal_audit_input> portal;
            if (last) portal = co_await fetcher.audit_portal();
            auto job = [&, f = fetcher.take(), pages = fetcher.take_pages(), portal = std::move(portal)]() mutable {
                {  // the slice's objects are freed at the end of this block, on the worker
                    db->record_pages(result.run_id, pages);
                    window_input in = detail::to_window_input(f, s, e);
                    in.window_end = end;
                    const local_snapshot local = detail::load_local_for(*db, in);
                    auto findings = diff(in, local, policy, diff_scope::slice_rules, memory);
                    result.passed_over = memory.passed_over;
                    if (last) {
                        for (auto& p : pending_customers(memory)) findings.push_back(std::move(p));
                        auto unknown = unknown_price_findings(memory);
                        detail::note_unknown_prices(result, unknown);
                        for (auto& p : unknown) findings.push_back(std::move(p));
                        if (portal)
                            for (auto& p : audit_billing_portal(*portal, policy)) findings.push_back(std::move(p));
                    }
                    ++result.slices;
                    // Invoices paid in the slice's last minutes went on with the
                    // next slice: what this one verified ends before them.
                    const unix_seconds done_until = last ? end : e - detail::slice_margin;
                    apply_and_escalate(std::move(findings), verified_until, done_until, detail::slice_rule_kinds());
                    if (!opts.dry_run) db->advance_checkpoint(checkpoint_stream, verified_until, done_until, result.run_id);
                    verified_until = done_until;
                    forget_older_repairs(memory);
                }
                f = detail::fetched{};
                pages = {};
                detail::release_freed_memory();
            };
            co_await detail::on_worker(worker, job);
        };

        // Slices are fetched ahead, in window order, by two fetchers while
        // the consumer below finishes them one after another: the window
        // part's subscriptions, the first slices' lists and every later
        // slice's lists overlap with each other and with the diffing and
        // applying, with no batch boundary where the budget idles waiting
        // for a slow list. The slices claimed and not yet finished hold at
        // most two slices' worth of objects: fetched ones by their count,
        // those in flight by what the last fetched slice's density says they
        // will hold (window.slice_objects at most, and before any slice is
        // fetched). So a quiet account's short slices are fetched further
        // ahead than dense ones, and memory stays bounded by that plus the
        // slice being finished. Each fetched slice sets the next claim's
        // length. Two dense slices keep a 100 ms, 100 req/s run saturated
        // as three did (100k events, three runs each: 15.96 s vs 16.01 s on
        // average; one: 19.11 s), and a 1M-event run's peak is 8 MB lower
        // (78 -> 70 MB). Counting each slice in flight as a full one, a
        // 10k-event run (sparse slices) had two in flight, not three, and
        // took 3.10 s instead of 2.77 s.
        // Three slices' worth while the window part's rules run on the
        // worker: no slice can be finished until they are done, so with two
        // the fetchers stopped for most of that time (100k events at 100 ms:
        // 0.8 s, 5% of the run, at 100 req/s under half the budget). The
        // 1M-event run's peak did not move (37.2-37.8 MB either way); since
        // a burst's slice is diffed in parts, it is the window part's user
        // rules with these three slices ahead (~35 MB).
        struct slot {
            detail::fetched lists;
            unix_seconds s = 0, e = 0;
            std::int64_t expected = 0;  // objects, until fetched
            bool ready = false;
        };
        bool window_rules_running = false;  // the window part's job, on the worker
        const auto ahead_budget = [&] { return (window_rules_running ? 3 : 2) * cfg.slice_objects; };
        unix_seconds next_start = start;   // of the next claim
        std::int64_t ahead_objects = 0;    // of the fetched slots
        std::int64_t in_flight = 0;        // objects expected in the slots being fetched
        double density = -1;               // objects per second of the last fetched slice; unknown yet
        const auto expected_in = [&](unix_seconds s, unix_seconds e) {
            if (density < 0) return cfg.slice_objects;
            return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(density * static_cast<double>(e - s))), 1,
                                            cfg.slice_objects);
        };
        const auto room_ahead = [&] {
            return ahead_objects + in_flight + expected_in(next_start, slice_end(next_start)) <= ahead_budget();
        };
        std::deque<slot> ahead;  // claimed slices, oldest first; references stay valid at either end
        asio::steady_timer changed(ioc, asio::steady_timer::time_point::max());  // cancel() wakes every waiter
        const auto wait_for_change = [&]() -> asio::awaitable<void> {
            co_await changed.async_wait(asio::as_tuple(asio::use_awaitable));
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) throw boost::system::system_error(asio::error::operation_aborted);
        };
        const auto fetch_ahead = [&]() -> asio::awaitable<void> {
            for (;;) {
                while (next_start < end && !room_ahead()) co_await wait_for_change();
                if (next_start >= end) co_return;
                slot& me = ahead.emplace_back();
                me.s = next_start;
                me.e = slice_end(next_start);
                me.expected = expected_in(me.s, me.e);
                next_start = me.e;
                in_flight += me.expected;
                co_await fetcher.fetch_lists(me.lists, me.s, me.e);
                in_flight -= me.expected;
                ahead_objects += me.lists.objects;
                me.ready = true;
                density = static_cast<double>(me.lists.objects) / static_cast<double>(std::max<unix_seconds>(1, me.e - me.s));
                slice = next_slice_after(me.lists.objects, me.e - me.s);
                changed.cancel();
            }
        };
        const auto window_part = [&]() -> asio::awaitable<void> {
            co_await fetcher.fetch_subscriptions(start);
            window_rules_running = true;
            changed.cancel();  // room for a fetcher
            // The window rules in chunks (core/diff.hpp): tiers by customer,
            // users by id, then the webhook log, so that neither the app's
            // users nor its webhook log are ever in memory whole. Escalations
            // of the window's kinds that no chunk saw are resolved after the
            // last chunk, not per chunk.
            auto job = [&, f = fetcher.take(), pages = fetcher.take_pages()]() mutable {
                db->record_pages(result.run_id, pages);
                const auto window_query = [&] {
                    store::local_query q;
                    q.start = start;
                    q.end = end;
                    q.window_rules = false;
                    q.window_payments = false;
                    return q;
                };
                const auto apply_window_part = [&](std::vector<finding> findings) {
                    apply_and_escalate(std::move(findings), start, end, {});
                };
                f.subscriptions.drain_by_customer(detail::window_chunk, [&](std::vector<subscription_state>&& states) {
                    window_input in;
                    in.start = start;
                    in.end = end;
                    in.subscriptions = std::move(states);
                    store::local_query q = window_query();  // views into `in`
                    q.credit_event_sources.emplace();  // tiers read no credit events
                    for (const auto& st : in.subscriptions)
                        if (q.customer_ids.empty() || q.customer_ids.back() != st.sub.customer)
                            q.customer_ids.push_back(st.sub.customer);
                    apply_window_part(diff(in, db->load_local(q), policy, diff_scope::tier_rules, memory));
                });
                window_input no_stripe;
                no_stripe.start = start;
                no_stripe.end = end;
                for (std::int64_t after = std::numeric_limits<std::int64_t>::min();;) {
                    store::local_query q = window_query();
                    q.active_users_after = after;
                    q.active_users_limit = static_cast<std::int64_t>(detail::window_chunk);
                    const local_snapshot local = db->load_local(q);
                    if (local.users.empty()) break;
                    after = local.users.back().id;
                    apply_window_part(diff(no_stripe, local, policy, diff_scope::user_rules, memory));
                    if (local.users.size() < detail::window_chunk) break;
                }
                {  // the webhook log's rules, over the deliveries they can flag
                    store::local_query q = window_query();
                    q.flaggable_deliveries = true;
                    local_snapshot all = db->load_local(q);
                    // A chunk at a time: each delivery that failed twice is a
                    // finding of its own, and a 1M-event window's ~2,900 of
                    // them at once (findings, then their outcomes: 8.6 MB)
                    // were the run's peak memory. The signature failures are
                    // counted over the window: they all go in one chunk, apart.
                    auto failed = std::stable_partition(all.webhooks.begin(), all.webhooks.end(), [](const auto& w) {
                        return w.status == "signature_failed";
                    });
                    const auto rules_over = [&](auto from, auto to) {
                        local_snapshot chunk;
                        chunk.webhooks.assign(std::make_move_iterator(from), std::make_move_iterator(to));
                        apply_window_part(diff(no_stripe, chunk, policy, diff_scope::webhook_rules, memory));
                    };
                    rules_over(all.webhooks.begin(), failed);
                    while (failed != all.webhooks.end()) {
                        const auto n = std::min<std::ptrdiff_t>(all.webhooks.end() - failed, detail::deliveries_chunk);
                        rules_over(failed, failed + n);
                        failed += n;
                    }
                }
                // The subscription events the app has no row for, a chunk at a
                // time: a 1M-event window misses ~14,000 of them, and their
                // findings at once were the run's peak memory.
                for (std::size_t i = 0; i < f.events.size(); i += detail::window_chunk) {
                    window_input in;
                    in.start = start;
                    in.end = end;
                    const std::size_t last = std::min(f.events.size(), i + detail::window_chunk);
                    for (std::size_t k = i; k < last; ++k) {
                        event_ref& e = f.events[k];
                        if (auto it = f.request_ids.find(e.id); it != f.request_ids.end())
                            in.request_ids.insert(f.request_ids.extract(it));
                        in.events.push_back(std::move(e));
                    }
                    store::local_query q = window_query();  // views into `in`
                    for (const auto& e : in.events) q.event_ids.push_back(e.id);
                    apply_window_part(diff(in, db->load_local(q), policy, diff_scope::missed_events, memory));
                }
                if (!opts.dry_run)
                    detail::escalate(*db, changes, result, result.outcomes.size(), start, end, false,
                                     detail::window_rule_kinds());
                // The subscription scratch (attached to *db) goes here, not on
                // the network thread.
                f = detail::fetched{};
                detail::release_freed_memory();
            };
            co_await detail::on_worker(worker, job);
            window_rules_running = false;
        };
        const auto consume = [&]() -> asio::awaitable<void> {
            co_await window_part();
            for (;;) {
                while (ahead.empty() || !ahead.front().ready) {
                    if (ahead.empty() && next_start >= end) co_return;
                    co_await wait_for_change();
                }
                slot cur = std::move(ahead.front());
                ahead.pop_front();
                ahead_objects -= cur.lists.objects;
                changed.cancel();  // room for a fetcher
                const std::int64_t objects = cur.lists.objects;
                auto parts = detail::split_overfull(std::move(cur.lists), cur.s, cur.e, cfg.slice_objects);
                if (parts.size() > 1)
                    log::info("slice_split", {{"run_id", result.run_id},
                                              {"from", format_rfc3339(cur.s)},
                                              {"to", format_rfc3339(cur.e)},
                                              {"objects", objects},
                                              {"parts", static_cast<std::int64_t>(parts.size())},
                                              {"slice_objects", cfg.slice_objects}});
                for (auto& part : parts) {
                    fetcher.set_progress(static_cast<double>(part.s - start) / static_cast<double>(end - start));
                    // The daemon's SIGTERM: stop between slices, everything before checkpointed.
                    if (stop && stop->load())
                        throw std::runtime_error("stopped by a signal before the window was done; the next run "
                                                 "resumes from the checkpoint");
                    co_await finish(std::move(part.lists), part.s, part.e);
                }
            }
        };
        co_await detail::together(consume(), fetch_ahead(), fetch_ahead());
        db->record_pages(result.run_id, fetcher.take_pages());  // the worker is idle now
        if (!opts.dry_run) result.open_escalations = db->count_open_escalations();
        result.succeeded = true;
    } catch (const std::exception& e) {
        result.succeeded = false;
        result.error = log::redact(e.what());
        try {
            db->record_pages(result.run_id, fetcher.take_pages());
        } catch (const std::exception&) {  // bookkeeping of a run already failing: its error stands
        }
        const bool partial = verified_until > start && !opts.dry_run;
        result.notes.push_back("unverified: " + format_rfc3339(partial ? verified_until : start) + " .. " +
                               format_rfc3339(end) +
                               (partial ? " (" + format_rfc3339(start) + " .. " + format_rfc3339(verified_until) +
                                              " was verified and checkpointed; rerun the rest)"
                                        : " (nothing checkpointed; rerun the window)"));
        log::error("run_failed", {{"run_id", result.run_id}, {"error", result.error}});
    }
    const auto stats = client.stats();
    result.requests = static_cast<std::int64_t>(stats.requests);
    result.retries = static_cast<std::int64_t>(stats.retries);
    if (auto cp = db->checkpoint(checkpoint_stream)) result.checkpoint = *cp;
    result.finished_at = now_unix();
    changes.findings(result);  // any a failure left behind
    changes.request_ids_done();
    db->finish_run(result.run_id, result.succeeded,
                   store::run_totals{result.pages, result.objects, result.tally.total, result.applied()},
                   result.error);
    // The open escalations go in the report of a run that saw the whole window.
    write_report(result, result.succeeded && !opts.dry_run ? db.get() : nullptr);
    write_metrics(cfg.output.dir, result);
    log::info("run_finished", {{"run_id", result.run_id},
                               {"status", result.succeeded ? "succeeded" : "failed"},
                               {"findings", result.tally.total},
                               {"applied", result.applied()},
                               {"report", result.report_dir.string()}});
    co_return result;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace reconciler
