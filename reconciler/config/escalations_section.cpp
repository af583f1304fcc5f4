// escalations: where each team's escalations are delivered (routes) and how
// hard the outbox tries (delivery). Every endpoint is https, http only to
// loopback (stripe/url.hpp's rules); every credential is a secret source.
#include "config/sections.hpp"

#include "config/validate.hpp"
#include "core/finding.hpp"
#include "core/text.hpp"
#include "stripe/url.hpp"

#include <set>

namespace reconciler {

const char* to_string(route_type t) noexcept {
    switch (t) {
    case route_type::pagerduty: return "pagerduty";
    case route_type::slack: return "slack";
    case route_type::webhook: return "webhook";
    }
    return "webhook";
}

std::optional<std::string> delivery_url_problem(std::string_view url) {
    try {
        const stripe::http_url u = stripe::parse_http_url(url);
        if (u.has_userinfo) return "user info (user:password@) is not allowed in the URL";
        if (!u.tls && !stripe::is_loopback_host(u.host))
            return "plain http:// is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https://";
    } catch (const stripe::url_error& e) {
        return e.what();
    }
    return std::nullopt;
}

namespace config_detail {

namespace {

const std::string pagerduty_events_url = "https://events.pagerduty.com/v2/enqueue";

std::vector<std::string_view> team_names() {
    return {to_string(team::billing_engineering), to_string(team::backend_engineering), to_string(team::data_platform),
            to_string(team::devops), to_string(team::stripe_support)};
}

void read_url(const yaml_reader& r, const YAML::Node& n, const std::string& path, std::string& out) {
    out = r.scalar(n, path, "an https:// URL (http:// only to loopback)");
    if (const auto why = delivery_url_problem(out)) r.fail(n, path + ": " + *why);
}

escalation_route read_route(const yaml_reader& r, const YAML::Node& n, const std::string& team,
                            const std::string& path) {
    const yaml_reader::section s = r.open_section(n, path, {"type", "routing_key", "url", "secret"});
    const auto type = s.find("type");
    if (type == s.end()) r.fail(n, path + ": missing required key type (pagerduty, slack or webhook)");
    const std::string t = r.scalar(type->second, path + ".type", "pagerduty, slack or webhook");
    escalation_route out;
    const auto refuse = [&](std::string_view key) {
        if (const auto it = s.find(key); it != s.end())
            r.fail(it->second, path + "." + std::string(key) + ": not a key of a " + t + " route");
    };
    const auto require = [&](std::string_view key) -> const YAML::Node& {
        const auto it = s.find(key);
        if (it == s.end()) r.fail(n, path + ": missing required key " + std::string(key) + " for a " + t + " route");
        return it->second;
    };
    if (t == "pagerduty") {
        out.type = route_type::pagerduty;
        refuse("secret");
        read_secret_source(r, require("routing_key"), out.secret, path + ".routing_key", "PAGERDUTY_ROUTING_KEY");
        out.url = pagerduty_events_url;
        if (const auto u = s.find("url"); u != s.end()) read_url(r, u->second, path + ".url", out.url);
    } else if (t == "slack") {
        out.type = route_type::slack;
        refuse("routing_key");
        refuse("secret");
        // The incoming-webhook URL is the credential: a secret source, checked when read.
        read_secret_source(r, require("url"), out.secret, path + ".url", "SLACK_WEBHOOK_URL");
    } else if (t == "webhook") {
        out.type = route_type::webhook;
        refuse("routing_key");
        read_url(r, require("url"), path + ".url", out.url);
        read_secret_source(r, require("secret"), out.secret, path + ".secret", "ESCALATION_WEBHOOK_SECRET");
    } else {
        r.fail(type->second, path + ".type: expected pagerduty, slack or webhook, got " + quote(t));
    }
    out.name = team + "/" + t;
    return out;
}

void read_routes(const yaml_reader& r, const YAML::Node& n, escalations_config& out) {
    const yaml_reader::section teams = r.open_map(n, "escalations.routes", "a mapping of team names to routes");
    const auto known = team_names();
    for (const auto& [team, list] : teams) {
        const std::string path = yaml_reader::child_path("escalations.routes", team);
        if (std::find(known.begin(), known.end(), team) == known.end()) {
            std::vector<std::string> names(known.begin(), known.end());
            const auto near = closest_name(team, known);
            r.fail(list, path + ": unknown team" + (near ? " (did you mean " + std::string(*near) + "?)" : "") +
                             "; teams: " + join(names));
        }
        if (list.IsNull()) continue;  // a team listed with no routes: file only
        if (!list.IsSequence()) r.expected(list, path, "a list of routes ({type: pagerduty|slack|webhook, ...})");
        std::set<std::string> types;
        std::vector<escalation_route> routes;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string item = path + "[" + std::to_string(i) + "]";
            auto route = read_route(r, list[i], team, item);
            if (!types.insert(to_string(route.type)).second)
                r.fail(list[i], item + ": a second " + std::string(to_string(route.type)) + " route for " + team +
                                    " (one route per type and team)");
            routes.push_back(std::move(route));
        }
        if (!routes.empty()) out.routes[team] = std::move(routes);
    }
}

}  // namespace

void read_escalations(const yaml_reader& r, const YAML::Node& n, escalations_config& out) {
    const yaml_reader::section s = r.open_section(n, "escalations", {"routes", "delivery"});
    if (const auto it = s.find("routes"); it != s.end()) read_routes(r, it->second, out);
    const auto d = s.find("delivery");
    if (d == s.end()) return;
    const yaml_reader::section ds =
        r.open_section(d->second, "escalations.delivery", {"max_attempts", "deadline_seconds", "budget_seconds", "ca_file"});
    if (const auto it = ds.find("max_attempts"); it != ds.end())
        out.max_attempts = static_cast<int>(
            r.integer(it->second, "escalations.delivery.max_attempts", 1, 100, "a whole number in 1..100"));
    if (const auto it = ds.find("deadline_seconds"); it != ds.end())
        out.deadline = std::chrono::seconds(
            r.integer(it->second, "escalations.delivery.deadline_seconds", 1, 120, "a whole number in 1..120"));
    if (const auto it = ds.find("budget_seconds"); it != ds.end())
        out.budget = std::chrono::seconds(
            r.integer(it->second, "escalations.delivery.budget_seconds", 0, 600, "a whole number in 0..600"));
    if (const auto it = ds.find("ca_file"); it != ds.end())
        out.ca_file = r.path_value(it->second, "escalations.delivery.ca_file", "the path of a PEM CA bundle").string();
}

}  // namespace config_detail

}  // namespace reconciler
