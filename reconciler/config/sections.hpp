// One reader per config section: each checks its keys and values and fills
// its part of `config`, throwing config_error (via yaml_reader) on the first
// problem. load.cpp calls them in the order the checks depend on (tiers
// before prices and policy; webhook before corrections).
// Internal to reconciler/config.
#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::config_detail {

void read_stripe(const yaml_reader& r, const YAML::Node& n, stripe_config& out);
// A secret_source mapping at `path` ({ env: X } | { file: P } | { credential: N }).
void read_secret_source(const yaml_reader& r, const YAML::Node& n, secret_source& out, const std::string& path,
                        std::string_view example_env);
void read_webhook(const yaml_reader& r, const YAML::Node& n, webhook_config& out);
void read_database(const yaml_reader& r, const YAML::Node& n, database_config& out);

void read_tiers(const yaml_reader& r, const YAML::Node& n, std::vector<std::string>& out);
void read_prices(const yaml_reader& r, const YAML::Node& n, const std::vector<std::string>& tiers,
                 std::map<std::string, price_entitlement>& out);
// `n` null: no policy section (free_tier is still checked against tiers).
void read_policy(const yaml_reader& r, const YAML::Node* n, const std::vector<std::string>& tiers, policy_config& out);

void read_corrections(const yaml_reader& r, const YAML::Node& n, const webhook_config& webhook,
                      corrections_config& out);
void read_limits(const yaml_reader& r, const YAML::Node& n, limits_config& out);
// escalations.routes and escalations.delivery (escalations_section.cpp).
void read_escalations(const yaml_reader& r, const YAML::Node& n, escalations_config& out);
void read_output(const yaml_reader& r, const YAML::Node& n, output_config& out);
// window.*: default_lookback, overlap, slice, slice_objects (top-level fields of `config`).
void read_window(const yaml_reader& r, const YAML::Node& n, config& out);

}  // namespace reconciler::config_detail
