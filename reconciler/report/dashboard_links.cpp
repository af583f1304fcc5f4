#include "report/dashboard_links.hpp"

#include "report/html_markup.hpp"
#include "report/json_read.hpp"

#include <array>
#include <utility>

namespace reconciler::detail {

namespace json = boost::json;

namespace {

// Prefix → Dashboard path. Charges (and PaymentIntents) open under /payments/.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> resources{{
    {"cus_", "customers"},
    {"sub_", "subscriptions"},
    {"in_", "invoices"},
    {"ch_", "payments"},
    {"py_", "payments"},
    {"pi_", "payments"},
    {"dp_", "disputes"},
    {"du_", "disputes"},
    {"evt_", "events"},
    {"price_", "prices"},
}};

bool id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// An account id may go into the URL only as letters, digits and '_'.
bool plain_account(std::string_view a) {
    if (a.rfind("acct_", 0) != 0 || a.size() == 5) return false;
    for (char c : a.substr(5))
        if (!id_char(c)) return false;
    return true;
}

// The length of the Stripe id starting at text[i] (0: none). An id starts
// at a token boundary, with a known prefix, then letters and digits.
std::size_t id_at(std::string_view text, std::size_t i) {
    if (i > 0 && (id_char(text[i - 1]) || text[i - 1] == '_')) return 0;
    for (const auto& [prefix, resource] : resources) {
        if (text.substr(i, prefix.size()) != prefix) continue;
        std::size_t n = prefix.size();
        while (i + n < text.size() && id_char(text[i + n])) ++n;
        if (n == prefix.size()) return 0;
        if (i + n < text.size() && text[i + n] == '_') return 0;  // part of a longer word
        return n;
    }
    return 0;
}

}  // namespace

dashboard_context dashboard_of(const json::object* run) {
    dashboard_context ctx;
    if (const json::value* v = field(run, "livemode"); v != nullptr && v->is_bool()) ctx.livemode = v->get_bool();
    const std::string account = str_at(run, "stripe_account");
    if (plain_account(account)) ctx.account = account;
    return ctx;
}

std::string_view dashboard_resource(std::string_view id) {
    if (id_at(id, 0) != id.size()) return {};
    for (const auto& [prefix, resource] : resources)
        if (id.rfind(prefix, 0) == 0) return resource;
    return {};
}

std::string dashboard_url(std::string_view id, const dashboard_context& ctx) {
    const std::string_view resource = dashboard_resource(id);
    if (resource.empty() || !ctx.livemode) return {};
    std::string url = "https://dashboard.stripe.com/";
    if (!ctx.account.empty()) url += ctx.account + "/";
    if (!*ctx.livemode) url += "test/";
    url += resource;
    url += '/';
    url += id;
    return url;
}

std::string linked_ids_html(std::string_view text, const dashboard_context& ctx) {
    std::string out;
    std::size_t plain = 0;  // start of the text not yet written
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t n = id_at(text, i);
        if (n == 0) continue;
        const std::string_view id = text.substr(i, n);
        const std::string url = dashboard_url(id, ctx);
        if (url.empty()) continue;
        out += html_escape(text.substr(plain, i - plain));
        // The URL and the id are letters, digits, '_', '/', ':' and '.': nothing to escape.
        out += "<a class=\"stripe\" href=\"" + url + "\" rel=\"noreferrer\" target=\"_blank\">" + std::string(id) +
               "</a>";
        i += n - 1;
        plain = i + 1;
    }
    out += html_escape(text.substr(plain));
    return out;
}

std::string linked_code_html(std::string_view text, const dashboard_context& ctx) {
    if (text.empty()) return std::string(html_dash);
    return "<code>" + linked_ids_html(text, ctx) + "</code>";
}

}  // namespace reconciler::detail
