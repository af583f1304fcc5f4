// load_config / parse_config: the file as a whole (size, one YAML document,
// the top-level sections in dependency order) and its content hash.
#include "config/config.hpp"

#include "config/file_read.hpp"
#include "config/sections.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <system_error>

namespace reconciler {
namespace {

namespace fs = std::filesystem;
using namespace config_detail;

// Bigger than any sane config; a larger file is the wrong file (a database,
// a log) and should not be fed to the YAML parser.
constexpr std::size_t max_config_bytes = 1 << 20;

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &md_len, EVP_sha256(), nullptr) != 1) {
        throw config_error("config: cannot compute the sha256 content hash (OpenSSL EVP_Digest failed)");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(md_len * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0x0f];
    }
    return out;
}

fs::path directory_of(const fs::path& file) {
    std::error_code ec;
    const fs::path abs = fs::absolute(file, ec);
    return (ec ? file : abs).parent_path();
}

config read_sections(const yaml_reader& r, const std::string& text) {
    const YAML::Node root = r.load_single_document(text);
    const std::string sections = "stripe, webhook, database, prices, tiers, policy, corrections, limits, output, window, escalations";
    if (root.IsNull()) {
        throw config_error("config " + r.name() + ": the file is empty; expected a mapping with sections " + sections);
    }
    if (!root.IsMap()) r.fail(root, "expected a mapping with sections " + sections + ", got " + yaml_reader::describe(root));

    config cfg;
    const yaml_reader::section s = r.open_section(root, "", {"stripe", "webhook", "database", "prices", "tiers",
                                                             "policy", "corrections", "limits", "output", "window",
                                                             "escalations"});
    if (const auto it = s.find("stripe"); it != s.end()) read_stripe(r, it->second, cfg.stripe);
    if (const auto it = s.find("webhook"); it != s.end()) read_webhook(r, it->second, cfg.webhook);

    // A missing top-level section has no line to point at.
    const YAML::Node no_line;
    r.require(s, "database", no_line, "database.path", "the app's SQLite database file");
    read_database(r, s.at("database"), cfg.database);

    // Tiers first: prices and policy are checked against them.
    if (const auto it = s.find("tiers"); it != s.end()) read_tiers(r, it->second, cfg.tiers);
    if (!s.contains("prices")) {
        r.fail(no_line, "missing required key prices (at least one Stripe price id and what it grants)");
    }
    read_prices(r, s.at("prices"), cfg.tiers, cfg.prices);
    const auto policy = s.find("policy");
    read_policy(r, policy == s.end() ? nullptr : &policy->second, cfg.tiers, cfg.policy);

    if (const auto it = s.find("corrections"); it != s.end())
        read_corrections(r, it->second, cfg.webhook, cfg.corrections);
    if (const auto it = s.find("limits"); it != s.end()) read_limits(r, it->second, cfg.limits);

    r.require(s, "output", no_line, "output.dir", "the directory reports are written to");
    read_output(r, s.at("output"), cfg.output);

    if (const auto it = s.find("window"); it != s.end()) read_window(r, it->second, cfg);
    if (const auto it = s.find("escalations"); it != s.end()) read_escalations(r, it->second, cfg.escalations);
    return cfg;
}

}  // namespace

config parse_config(const std::string& yaml_text, const std::filesystem::path& name) {
    const yaml_reader reader(name.string(), directory_of(name));
    config cfg;
    try {
        cfg = read_sections(reader, yaml_text);
    } catch (const YAML::Exception& e) {
        // Only reachable through a yaml-cpp quirk; still a config error, never a crash.
        throw config_error("config " + name.string() + ": cannot interpret YAML: " + e.what());
    }
    cfg.source_file = name;
    cfg.content_hash = sha256_hex(yaml_text);
    return cfg;
}

config load_config(const std::filesystem::path& file) {
    const file_read r = read_file_bounded(file, max_config_bytes);
    if (r.error != 0)
        throw config_error("config " + file.string() + ": cannot read: " + std::strerror(r.error) +
                           " (check the --config path and the file's permissions)");
    if (r.too_large) {
        throw config_error("config " + file.string() + ": cannot read: larger than 1 MiB, not a config file");
    }
    return parse_config(r.data, file);
}

}  // namespace reconciler
