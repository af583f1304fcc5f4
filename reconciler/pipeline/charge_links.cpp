#include "pipeline/fetcher.hpp"

#include "core/invalid_object.hpp"
#include "core/json_log.hpp"
#include "core/stripe_parse.hpp"

#include <map>
#include <set>
#include <unordered_map>

namespace reconciler::pipeline {

namespace asio = boost::asio;

// A dispute names its charge only, and the charge names the invoice.
// Two or more disputes are listed with their charges expanded (one
// request per hundred, not one each); a single one, or one the list did
// not bring, is retrieved. A key without read access to disputes (403)
// falls back to retrieving every charge.
asio::awaitable<void> fetcher::fetch_disputed_charges(fetched& f) {
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
                    if (!v.is_object()) continue;  // the dispute is retrieved below instead
                    const auto& o = v.as_object();
                    const auto* id = o.if_contains("id");
                    const auto* ch = o.if_contains("charge");
                    if (id && id->is_string() && ch && ch->is_object())
                        if (auto c = parse_or_note(parse_charge, *ch, p.resource, p.request_id, f.invalid_objects))
                            expanded.emplace(std::string(id->as_string()), std::move(*c));
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
        // Invalid: flagged; no refund_or_dispute can be computed from it.
        if (auto ch = parse_or_note(parse_charge, *charges[k].object, charges[k].path, charges[k].request_id,
                                    f.invalid_objects))
            f.charge_cases.push_back(pinned_charge_case(event_id, std::move(*ch), d));
    }
}

// A disputed charge as fetched at the pinned version: before basil, a
// charge rendered there without `invoice` has none (nothing to look up).
charge_case fetcher::pinned_charge_case(const std::string& event_id, charge ch, const dispute& d) const {
    charge_case cc{event_id, true, std::move(ch), d.amount, d.created};
    if (pinned_charges_name_invoices_ && cc.ch.invoice.empty()) cc.unlinked = "Stripe names no invoice for the charge";
    return cc;
}

namespace {

// The answer to one charge's InvoicePayment question: the paid invoices of
// its PaymentIntent (one links it; none or several leave it unlinked, with
// the reason), from a lookup.
void settle_link(charge_case& cc, const std::set<std::string>& paid, bool invalid) {
    if (paid.size() == 1) {
        cc.ch.invoice = *paid.begin();
    } else if (paid.empty()) {
        cc.unlinked = "no paid invoice payment for " + cc.ch.payment_intent +
                      (invalid ? " (an invalid one was flagged invalid_stripe_object)" : "");
    } else {
        std::string ids;
        for (const auto& id : paid) ids += (ids.empty() ? "" : ", ") + id;
        cc.unlinked = cc.ch.payment_intent + " paid several invoices: " + ids;
    }
}

}  // namespace

// Basil removed charge.invoice, so a refunded or disputed charge rendered
// at basil (an event keeps its own version) is tied to its invoice by the
// InvoicePayment of its PaymentIntent, in finish_slice
// (link_by_invoice_payments). Pinned before basil it is tied here, by
// retrieving the charge, which at that version still names its invoice. A
// charge nothing ties to one stays unlinked, with the reason, and becomes a
// charge_without_invoice finding.
asio::awaitable<void> fetcher::link_charges_to_invoices(fetched& f) {
    std::vector<charge_case*> cases;
    std::vector<std::string> paths;
    for (auto& cc : f.charge_cases) {
        if (!cc.ch.invoice.empty() || !cc.unlinked.empty()) continue;
        if (cc.ch.payment_intent.empty()) {
            cc.unlinked = "the charge has no payment intent";
            continue;
        }
        if (!pinned_charges_name_invoices_) continue;  // link_by_invoice_payments
        cases.push_back(&cc);
        paths.push_back("/v1/charges/" + stripe::detail::url_encode(cc.ch.id));
    }
    auto charges = co_await client_.retrieve_all(std::move(paths));
    for (std::size_t k = 0; k < charges.size(); ++k) {
        auto& cc = *cases[k];
        const auto& r = charges[k];
        cc.link_request_id = r.request_id;
        record(list_page_info{r.path, 1, r.request_id, 1, false});
        if (auto ch = parse_or_note(parse_charge, *r.object, r.path, r.request_id, f.invalid_objects))
            cc.ch.invoice = ch->invoice;
        else
            cc.unlinked = "Stripe sent an invalid charge (flagged invalid_stripe_object)";
        if (cc.ch.invoice.empty() && cc.unlinked.empty()) cc.unlinked = "Stripe names no invoice for the charge";
    }
}

// An invoice's expanded `payments` (basil): each paid InvoicePayment of a
// PaymentIntent is a link. Only the first few are embedded (has_more): a
// PaymentIntent not among them is looked up as if the page had not come.
// An InvoicePayment that breaks the schema is passed over here; its
// PaymentIntent's lookup flags it.
void fetcher::note_invoice_links(const boost::json::value& invoice, std::vector<store::invoice_link>& out) {
    const auto* o = invoice.if_object();
    const auto* payments = o ? o->if_contains("payments") : nullptr;
    const auto* list = payments ? payments->if_object() : nullptr;
    const auto* data = list ? list->if_contains("data") : nullptr;
    if (!data || !data->is_array()) return;
    for (const auto& v : data->as_array()) {
        if (!v.is_object()) continue;
        try {
            auto p = parse_invoice_payment(v.as_object());
            if (p.status == "paid" && !p.payment_intent.empty())
                out.push_back({std::move(p.payment_intent), std::move(p.invoice), p.amount_paid, std::move(p.currency)});
        } catch (const parse_error&) {
        }
    }
}

namespace {

// The one invoice a charge's known links name when they account for the
// whole of it: a single link that paid the charge's amount in its currency.
// A PaymentIntent may pay several invoices (partial payments), some of them
// listed by no run, so a link that covers less proves nothing; neither do
// several: only the lookup's list is complete.
const std::string* whole_payment(const std::map<std::string, store::invoice_link>& links, const charge& ch) {
    if (links.size() != 1) return nullptr;
    const auto& l = links.begin()->second;
    return l.amount_paid == ch.amount && l.currency == ch.currency ? &l.invoice : nullptr;
}

}  // namespace

// The slice's basil charges, once the worker is idle: first what is known
// (the links its own invoice pages brought, and the table of links earlier
// slices and runs stored: a paid InvoicePayment never changes), trusted only
// for the whole payment (whole_payment); then one filtered list request per
// charge still unknown, all in flight together, whose answer is complete.
// The lookups' paid answers join the table too.
asio::awaitable<void> fetcher::link_by_invoice_payments() {
    if (pinned_charges_name_invoices_) co_return;
    // payment intent -> its known paid InvoicePayments, by invoice
    std::unordered_map<std::string, std::map<std::string, store::invoice_link>> known;
    for (const auto& cc : data_.charge_cases)
        if (cc.ch.invoice.empty() && cc.unlinked.empty()) known.try_emplace(cc.ch.payment_intent);
    if (known.empty()) co_return;
    std::vector<std::string> pis;
    for (const auto& [pi, invoices] : known) pis.push_back(pi);
    for (auto& l : links_.invoice_links_of(pis)) known[l.payment_intent].try_emplace(l.invoice, l);
    for (const auto& l : data_.invoice_links)
        if (auto it = known.find(l.payment_intent); it != known.end()) it->second.try_emplace(l.invoice, l);

    std::vector<charge_case*> cases;
    std::vector<std::string> paths;
    for (auto& cc : data_.charge_cases) {
        if (!cc.ch.invoice.empty() || !cc.unlinked.empty()) continue;
        if (const auto* invoice = whole_payment(known[cc.ch.payment_intent], cc.ch)) {
            cc.ch.invoice = *invoice;
            continue;
        }
        cases.push_back(&cc);
        paths.push_back("/v1/invoice_payments?payment%5Btype%5D=payment_intent&payment%5Bpayment_intent%5D=" +
                        stripe::detail::url_encode(cc.ch.payment_intent) + "&limit=10");
    }
    auto links = co_await client_.retrieve_all(std::move(paths));
    for (std::size_t k = 0; k < links.size(); ++k) {
        auto& cc = *cases[k];
        const auto& r = links[k];
        cc.link_request_id = r.request_id;
        const auto* data = r.object->if_contains("data");
        if (!data || !data->is_array())
            throw parse_error("retrieve " + r.path + " (" + r.request_id + "): expected a list of invoice payments");
        std::set<std::string> paid;
        bool invalid = false;
        for (const auto& v : data->as_array()) {
            auto p = parse_or_note(parse_invoice_payment, v, r.path, r.request_id, data_.invalid_objects);
            invalid = invalid || !p;
            if (p && p->status == "paid" && p->payment_intent == cc.ch.payment_intent) {
                data_.invoice_links.push_back({p->payment_intent, p->invoice, p->amount_paid, p->currency});
                paid.insert(std::move(p->invoice));
            }
        }
        record(list_page_info{r.path, 1, r.request_id, data->as_array().size(), false});
        settle_link(cc, paid, invalid);
    }
}

}  // namespace reconciler::pipeline
