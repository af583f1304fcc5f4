// Reading one config file's YAML: every value checked and every error message
// "config <file>:<line>: <key path>: <what was expected>, got <what was there>".
// Internal to reconciler/config; the section readers (sections.hpp) use it.
#pragma once

#include "config/config_error.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace reconciler::config_detail {

class yaml_reader {
public:
    // A mapping's entries by key (keys are checked unique and non-empty).
    using section = std::map<std::string, YAML::Node, std::less<>>;

    // `display_name` is the file as messages show it; relative paths in the
    // file resolve against `base_dir`.
    yaml_reader(std::string display_name, std::filesystem::path base_dir)
        : name_(std::move(display_name)), base_dir_(std::move(base_dir)) {}

    const std::string& name() const { return name_; }

    // Exactly one YAML document; an empty file is a null node.
    YAML::Node load_single_document(const std::string& text) const;

    [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;
    [[noreturn]] void expected(const YAML::Node& at, const std::string& path, std::string_view what) const;
    static std::string describe(const YAML::Node& n);
    static std::string child_path(const std::string& parent, std::string_view key);

    // A mapping (null: empty); duplicate keys are refused.
    section open_map(const YAML::Node& n, const std::string& path, std::string_view what) const;
    // ...whose keys must be among `allowed` ("did you mean" for a near miss).
    section open_section(const YAML::Node& n, const std::string& path,
                         std::initializer_list<std::string_view> allowed) const;

    const std::string& scalar(const YAML::Node& n, const std::string& path, std::string_view what) const;
    // A name-like string: non-empty, printable, no spaces.
    std::string name_string(const YAML::Node& n, const std::string& path, std::string_view what) const;
    // Decimal only, in lo..hi.
    std::int64_t integer(const YAML::Node& n, const std::string& path, std::int64_t lo, std::int64_t hi,
                         std::string_view what) const;
    bool boolean(const YAML::Node& n, const std::string& path) const;
    std::chrono::seconds duration(const YAML::Node& n, const std::string& path, std::chrono::seconds max,
                                  std::string_view max_text) const;
    // Absolute and normalised (relative ones resolved against the file's directory).
    std::filesystem::path path_value(const YAML::Node& n, const std::string& path, std::string_view what) const;
    // The message names the full leaf path (database.path) even when it is the
    // whole section that is missing: that is the line the user has to add.
    void require(const section& s, std::string_view key, const YAML::Node& parent, const std::string& path,
                 std::string_view what) const;

private:
    std::string where(const YAML::Node& at) const;

    std::string name_;
    std::filesystem::path base_dir_;
};

}  // namespace reconciler::config_detail
