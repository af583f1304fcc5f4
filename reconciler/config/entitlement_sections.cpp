// tiers, prices, policy: what each Stripe price grants and which tier a
// subscription's state maps to. Tiers are read first: the others name them.
#include "config/sections.hpp"

#include "config/validate.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace reconciler::config_detail {
namespace {

void check_tier(const yaml_reader& r, const YAML::Node& n, const std::string& path, const std::string& tier,
                const std::vector<std::string>& tiers) {
    if (std::find(tiers.begin(), tiers.end(), tier) == tiers.end()) {
        r.fail(n, path + ": tier " + quote(tier) + " is not in tiers (" + join(tiers) + ")");
    }
}

}  // namespace

void read_tiers(const yaml_reader& r, const YAML::Node& n, std::vector<std::string>& out) {
    const std::string what = "a list of tier names such as [free, pro, team]";
    if (!n.IsSequence() || n.size() == 0) r.expected(n, "tiers", what);
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const YAML::Node& item = n[i];
        const std::string item_path = "tiers[" + std::to_string(i) + "]";
        const std::string tier = r.name_string(item, item_path, "a tier name (no spaces)");
        if (tier == "keep") {
            r.fail(item, item_path + ": \"keep\" is reserved (policy.past_due_tier: keep) and cannot be a tier name");
        }
        if (std::find(out.begin(), out.end(), tier) != out.end()) {
            r.fail(item, item_path + ": tier " + quote(tier) + " is listed twice");
        }
        out.push_back(tier);
    }
}

void read_prices(const yaml_reader& r, const YAML::Node& n, const std::vector<std::string>& tiers,
                 std::map<std::string, price_entitlement>& out) {
    const std::string example = "prices: { price_pro_monthly: { tier: pro, credits: 1000 } }";
    const yaml_reader::section s = r.open_map(n, "prices", "a mapping of Stripe price ids to entitlements");
    if (s.empty()) r.fail(n, "prices: at least one price is required, e.g. " + example);
    for (const auto& [id, entry] : s) {
        const std::string path = "prices." + id;
        if (has_control_or_space(id)) r.fail(entry, "prices: price id " + quote(id) + " contains spaces or control characters");
        const yaml_reader::section fields = r.open_section(entry, path, {"tier", "credits", "ignore"});
        price_entitlement e;
        if (const auto it = fields.find("ignore"); it != fields.end()) {
            e.ignore = r.boolean(it->second, path + ".ignore");
            if (e.ignore && fields.size() > 1)
                r.fail(entry, path + ": ignore: true grants nothing; drop tier and credits, or drop ignore");
            if (e.ignore) {
                out.emplace(id, std::move(e));
                continue;
            }
        }
        if (!fields.count("tier") && !fields.count("credits")) {
            r.fail(entry, path + ": grants nothing; set tier and/or credits, e.g. { tier: pro, credits: 1000 }, "
                               "or { ignore: true } for a price that entitles to nothing");
        }
        if (const auto it = fields.find("tier"); it != fields.end()) {
            e.tier = r.name_string(it->second, path + ".tier", "a tier name from tiers (" + join(tiers) + ")");
            check_tier(r, it->second, path + ".tier", e.tier, tiers);
        }
        if (const auto it = fields.find("credits"); it != fields.end()) {
            e.credits = r.integer(it->second, path + ".credits", 0, std::numeric_limits<std::int64_t>::max(),
                                "a whole number >= 0");
        }
        out.emplace(id, std::move(e));
    }
}

void read_policy(const yaml_reader& r, const YAML::Node* n, const std::vector<std::string>& tiers, policy_config& out) {
    // Held in an optional: YAML::Node's operator= assigns content, not identity.
    std::optional<YAML::Node> free_tier_node;
    if (n != nullptr) {
        const yaml_reader::section p = r.open_section(
            *n, "policy", {"past_due_tier", "free_tier", "webhook_grace", "signature_failure_threshold", "max_line_quantity",
                     "max_credits_per_invoice"});
        if (const auto f = p.find("webhook_grace"); f != p.end()) {
            out.webhook_grace = r.duration(f->second, "policy.webhook_grace", std::chrono::hours(24 * 7), "7d");
        }
        if (const auto f = p.find("signature_failure_threshold"); f != p.end()) {
            out.signature_failure_threshold =
                r.integer(f->second, "policy.signature_failure_threshold", 1, 1'000'000, "an integer in 1..1000000");
        }
        if (const auto f = p.find("max_line_quantity"); f != p.end())
            out.max_line_quantity = r.integer(f->second, "policy.max_line_quantity", 1, 1'000'000'000,
                                              "an integer in 1..1000000000");
        if (const auto f = p.find("max_credits_per_invoice"); f != p.end())
            out.max_credits_per_invoice = r.integer(f->second, "policy.max_credits_per_invoice", 1,
                                                    1'000'000'000'000, "an integer in 1..1000000000000");
        if (const auto f = p.find("past_due_tier"); f != p.end()) {
            const std::string what = "\"keep\" or a tier from tiers (" + join(tiers) + ")";
            out.past_due_tier = r.name_string(f->second, "policy.past_due_tier", what);
            if (out.past_due_tier != "keep") check_tier(r, f->second, "policy.past_due_tier", out.past_due_tier, tiers);
        }
        if (const auto f = p.find("free_tier"); f != p.end()) {
            free_tier_node.emplace(f->second);
            out.free_tier = r.name_string(f->second, "policy.free_tier", "a tier from tiers (" + join(tiers) + ")");
        }
    }
    // Checked even when defaulted: tiers may have been redefined without "free".
    if (std::find(tiers.begin(), tiers.end(), out.free_tier) == tiers.end()) {
        const YAML::Node no_line;
        r.fail(free_tier_node.value_or(no_line), "policy.free_tier: tier " + quote(out.free_tier) +
                                                     " is not in tiers (" + join(tiers) + ")" +
                                                     (free_tier_node ? "" : "; set policy.free_tier to one of them"));
    }
}

}  // namespace reconciler::config_detail
