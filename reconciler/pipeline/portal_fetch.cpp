#include "pipeline/fetcher.hpp"

#include "core/invalid_object.hpp"
#include "core/json_log.hpp"
#include "core/stripe_parse.hpp"

#include <algorithm>

namespace reconciler::pipeline {

namespace asio = boost::asio;

// The support runbook's fourth row, once per run: the active Billing
// Portal configurations (one request) and the prices the default one
// offers (one each, a handful). A key that may not read the portal or
// prices gets a note saying what was not checked, never a failed run.
asio::awaitable<std::optional<portal_audit_input>> fetcher::audit_portal() {
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
        // An invalid configuration is flagged (with the last slice, whose
        // fetched this is) and left out of the audit.
        for (const auto& v : data->as_array())
            if (auto c = parse_or_note(parse_billing_portal_configuration, v, r.path, r.request_id, data_.invalid_objects))
                in.configurations.push_back(std::move(*c));
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
            if (!prices[k].object) {
                in.archived_prices.insert(offered[k]);
            } else if (auto p = parse_or_note(parse_price, *prices[k].object, prices[k].path, prices[k].request_id,
                                              data_.invalid_objects)) {
                if (!p->active) in.archived_prices.insert(offered[k]);
            }
        }
    } catch (const stripe::stripe_error& e) {
        if (!forbidden(e, "billing portal prices not checked for archiving: the key lacks price read")) throw;
    }
    co_return in;
}

}  // namespace reconciler::pipeline
