#include "core/diff_detail.hpp"
#include "core/text.hpp"

#include <set>

namespace reconciler {

namespace json = boost::json;

namespace detail {

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

}  // namespace detail

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
                    count_of(customers, "customer") + ", " + count_of(use.invoices, "paid invoice") + ", " +
                    count_of(use.subscriptions, "subscription") + " use it, and nothing is granted or re-tiered " +
                    "for them; add it to prices: or mark it { ignore: true }";
        out.push_back(std::move(f));
    }
    memory.unknown_prices.clear();
    return out;
}

}  // namespace reconciler
