// Fuzz target: a list page's bytes all the way to the diff, as the fetch does
// it (pipeline/fetcher.cpp): parse_list_envelope, then each item under the one
// rule for objects (parse_or_note: an "event" item through parse_event, any
// other through parse_invoice), paid invoices into the diff's input, noted
// objects into invalid_objects; then the slice rules, with a user for every
// customer so that any invoice the diff trusts would be granted.
//
// Properties (issue 19):
//  - no grant from a negative amount, a negative, over-ceiling or overflowing
//    quantity: every grant_credits correction derives from a paid invoice whose
//    amount_paid >= 0, whose granting lines have quantities in
//    [0, max_line_quantity], and whose credits, recomputed exactly (128-bit),
//    are the grant, > 0 and <= max_credits_per_invoice; a recorded payment is
//    never negative. Run under the default ceilings and with none (INT64_MAX),
//    where only the overflow check stands between a wrapped product and a grant.
//  - no paid invoice silently dropped: every item that reads as a paid invoice
//    (status "paid" or paid: true, with a string id; in an event too) either
//    reaches the diff as a paid invoice or is an invalid_stripe_object finding.
//  - only parse_error escapes the page parse; nothing escapes the rest.
#include "core/diff.hpp"
#include "core/invalid_object.hpp"
#include "core/json_log.hpp"
#include "core/stripe_parse.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

using namespace reconciler;
using reconciler::fuzz::check;
namespace json = boost::json;

namespace {

diff_policy fuzz_policy(bool ceilings) {
    diff_policy p;
    p.prices = {{"price_pro", {"pro", 1000}},
                {"price_team", {"team", 5000}},
                {"price_pack", {"", 500}},
                {"price_huge", {"", std::int64_t{1} << 62}},  // overflow within reach of small quantities
                {"price_free", {"", 0}}};
    if (!ceilings) p.max_line_quantity = p.max_credits_per_invoice = INT64_MAX;
    return p;
}

// What the page says, read leniently: the id of an item that looks like a paid invoice.
std::string paid_invoice_id(const json::value& item) {
    if (!item.is_object()) return {};
    const json::object* o = &item.get_object();
    if (const auto* t = o->if_contains("object"); t && t->is_string() && t->get_string() == "event") {
        const auto* data = o->if_contains("data");
        const auto* obj = data && data->is_object() ? data->get_object().if_contains("object") : nullptr;
        if (!obj || !obj->is_object()) return {};
        o = &obj->get_object();
        const auto* ot = o->if_contains("object");
        if (!ot || !ot->is_string() || ot->get_string() != "invoice") return {};
    }
    const auto* id = o->if_contains("id");
    const auto* status = o->if_contains("status");
    const auto* paid = o->if_contains("paid");
    const bool looks_paid = (status && status->is_string() && status->get_string() == "paid") ||
                            (paid && paid->is_bool() && paid->get_bool());
    return looks_paid && id && id->is_string() ? std::string(id->get_string()) : std::string{};
}

void check_grants(const std::vector<finding>& findings, const std::map<std::string, invoice>& invoices,
                  const diff_policy& p) {
    for (const auto& f : findings) {
        if (!f.correction || f.correction->kind != correction_kind::grant_credits) continue;
        const auto it = invoices.find(f.correction->ledger_key);
        check(it != invoices.end(), "a grant derives from an invoice of the page", f.correction->ledger_key);
        const invoice& inv = it->second;
        check(inv.paid, "a grant derives from a paid invoice", inv.id);
        check(inv.amount_paid >= 0, "no grant from a negative amount", inv.id);
        __int128 exact = 0;
        for (const auto& l : inv.lines) {
            const auto pe = p.prices.find(l.price_id);
            if (l.proration || pe == p.prices.end() || pe->second.credits == 0) continue;
            check(l.quantity >= 0, "no grant from a negative quantity", inv.id);
            check(l.quantity <= p.max_line_quantity, "no grant over max_line_quantity", inv.id);
            exact += static_cast<__int128>(pe->second.credits) * l.quantity;
        }
        check(exact > 0 && exact <= p.max_credits_per_invoice, "a grant is within max_credits_per_invoice", inv.id);
        check(exact == f.correction->credits, "a grant is the exact (unwrapped) credits", inv.id);
        if (f.correction->record_payment)
            check(f.correction->record_payment->amount >= 0, "no negative payment recorded", inv.id);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        log::set_sink([](std::string_view) {});  // one warn line per noted object
        return true;
    }();
    (void)quiet;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    list_envelope env;
    try {
        env = parse_list_envelope(body);
    } catch (const parse_error&) {
        return 0;  // not a page: the client retries, then fails the run
    }

    window_input in;
    in.start = 0;
    in.end = INT64_MAX;
    std::map<std::string, invoice> invoices;  // as fetched.add_invoice folds them: paid wins
    const auto add = [&](invoice inv) {
        if (!inv.paid) return;
        in.request_ids.emplace(inv.id, "req_page");
        invoices.insert_or_assign(inv.id, std::move(inv));
    };
    for (const auto& item : env.data) {
        const auto* t = item.is_object() ? item.get_object().if_contains("object") : nullptr;
        if (t && t->is_string() && t->get_string() == "event") {
            if (auto ev = parse_or_note(parse_event, item, "/v1/events", "req_page", in.invalid_objects))
                if (auto* inv = std::get_if<invoice>(&ev->object)) add(std::move(*inv));
        } else if (auto inv = parse_or_note(parse_invoice, item, "/v1/invoices", "req_page", in.invalid_objects)) {
            add(std::move(*inv));
        }
    }
    local_snapshot local;
    std::set<std::string> customers;
    for (const auto& [id, inv] : invoices) {
        in.invoices.push_back(inv);
        if (!customers.insert(inv.customer).second) continue;
        local_user u;
        u.id = static_cast<std::int64_t>(customers.size());
        u.email = "u" + std::to_string(u.id) + "@example.com";
        u.plan = "free";
        u.stripe_customer_id = inv.customer;
        local.users.push_back(std::move(u));
    }

    for (const bool ceilings : {true, false}) {
        const diff_policy p = fuzz_policy(ceilings);
        diff_memory memory;
        const auto findings = diff(in, local, p, diff_scope::slice_rules, memory);
        check_grants(findings, invoices, p);
        std::set<std::string> flagged;
        for (const auto& f : findings)
            if (f.kind == finding_kind::invalid_stripe_object) flagged.insert(f.subject_id);
        for (const auto& item : env.data) {
            const std::string id = paid_invoice_id(item);
            if (id.empty()) continue;
            const bool reached = invoices.count(id) > 0;
            check(reached || flagged.count(id) > 0, "no paid invoice silently dropped", id);
        }
    }
    return 0;
}
