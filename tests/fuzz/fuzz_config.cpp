// Fuzz target: YAML text -> config (parse_config, which load_config calls
// after reading at most 1 MiB of the file).
//
// Properties: only config_error escapes, and its message starts with
// "config <file>"; an accepted config satisfies the validation the rest of
// the program relies on.
#include "config/config.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace reconciler;
using reconciler::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    config cfg;
    try {
        cfg = parse_config(text, "/etc/stripe-reconciler/fuzz.yaml");
    } catch (const config_error& e) {
        check(std::string_view(e.what()).starts_with("config /etc/stripe-reconciler/fuzz.yaml"),
              "a config_error names the file", e.what());
        return 0;
    }
    check(cfg.database.path.is_absolute() && cfg.output.dir.is_absolute(), "paths are resolved to absolute ones");
    check(!cfg.prices.empty(), "at least one price");
    check(!cfg.tiers.empty(), "at least one tier");
    check(std::find(cfg.tiers.begin(), cfg.tiers.end(), cfg.policy.free_tier) != cfg.tiers.end(),
          "policy.free_tier is a tier");
    for (const auto& [id, e] : cfg.prices) {
        check(!id.empty(), "price ids are not empty");
        check(e.credits >= 0, "credits are not negative");
        check(e.tier.empty() || std::find(cfg.tiers.begin(), cfg.tiers.end(), e.tier) != cfg.tiers.end(),
              "a price's tier is a tier", e.tier);
    }
    check(cfg.stripe.concurrency >= 1 && cfg.stripe.concurrency <= 32, "stripe.concurrency in 1..32");
    check(cfg.stripe.base_url.starts_with("https://") || cfg.stripe.base_url.starts_with("http://"),
          "base_url is http(s)", cfg.stripe.base_url);
    check(cfg.stripe.base_url.find_first_of(" \r\n") == std::string::npos, "base_url has no whitespace");
    const int key_sources = !cfg.stripe.key.env.empty() + !cfg.stripe.key.file.empty() + !cfg.stripe.key.credential.empty();
    check(key_sources == 1, "stripe.key has exactly one source");
    check(cfg.content_hash.size() == 64, "content_hash is sha256 hex");
    return 0;
}
