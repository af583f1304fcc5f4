#include "config/yaml_reader.hpp"

#include "config/validate.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace reconciler::config_detail {
namespace {

namespace fs = std::filesystem;

// Records where each YAML document starts and nothing else: used to count
// documents, which YAML::LoadAll cannot be trusted with (below).
class document_starts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace

std::string yaml_reader::where(const YAML::Node& at) const {
    std::string out = "config " + name_;
    if (at.IsDefined()) {
        const YAML::Mark mark = at.Mark();
        if (!mark.is_null()) out += ":" + std::to_string(mark.line + 1);
    }
    return out;
}

void yaml_reader::fail(const YAML::Node& at, const std::string& message) const {
    throw config_error(where(at) + ": " + message);
}

void yaml_reader::expected(const YAML::Node& at, const std::string& path, std::string_view what) const {
    fail(at, path + ": expected " + std::string(what) + ", got " + describe(at));
}

std::string yaml_reader::describe(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Scalar: return quote(n.Scalar());
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: break;
    }
    return "nothing";
}

std::string yaml_reader::child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

yaml_reader::section yaml_reader::open_map(const YAML::Node& n, const std::string& path,
                                               std::string_view what) const {
    section out;
    // A section left empty (every line below it commented out) means defaults.
    if (n.IsNull()) return out;
    if (!n.IsMap()) expected(n, path, what);
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& kv : n) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar() || key.Scalar().empty()) {
            fail(key, (path.empty() ? "" : path + ": ") + "keys must be plain names, got " + describe(key));
        }
        const std::string& k = key.Scalar();
        // yaml-cpp keeps both entries of a repeated key; whichever one a
        // lookup finds, the other is silently ignored. Refuse instead.
        if (const auto it = first_line.find(k); it != first_line.end()) {
            fail(key, "duplicate key " + child_path(path, k) +
                          (it->second > 0 ? " (first at line " + std::to_string(it->second) + ")" : ""));
        }
        const YAML::Mark mark = key.Mark();
        first_line.emplace(k, mark.is_null() ? 0 : mark.line + 1);
        out.emplace(k, kv.second);
    }
    return out;
}

yaml_reader::section yaml_reader::open_section(const YAML::Node& n, const std::string& path,
                                                   std::initializer_list<std::string_view> allowed) const {
    std::vector<std::string> allowed_list(allowed.begin(), allowed.end());
    const std::string what = "a mapping with keys " + join(allowed_list);
    section s = open_map(n, path, path.empty() ? "a mapping with sections " + join(allowed_list) : what);
    if (!n.IsMap()) return s;
    for (const auto& kv : n) {
        const std::string& k = kv.first.Scalar();
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string message = "unknown key " + child_path(path, k) + " (allowed: " + join(allowed_list) + ")";
        // Most unknown keys are typos: name the key that was probably meant.
        if (const auto best = closest_name(k, std::vector<std::string_view>(allowed)))
            message += "; did you mean " + child_path(path, *best) + "?";
        fail(kv.first, message);
    }
    return s;
}

const std::string& yaml_reader::scalar(const YAML::Node& n, const std::string& path,
                                         std::string_view what) const {
    if (!n.IsScalar()) expected(n, path, what);
    return n.Scalar();
}

std::string yaml_reader::name_string(const YAML::Node& n, const std::string& path,
                                       std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    if (s.empty() || has_control_or_space(s)) expected(n, path, what);
    return s;
}

std::int64_t yaml_reader::integer(const YAML::Node& n, const std::string& path, std::int64_t lo,
                                    std::int64_t hi, std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    std::int64_t v = 0;
    // Decimal only: YAML 1.1's 0x/0o/underscore forms would surprise in a
    // reviewed config. from_chars takes exactly an optional '-' and digits.
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi) {
        expected(n, path, what);
    }
    return v;
}

bool yaml_reader::boolean(const YAML::Node& n, const std::string& path) const {
    const std::string& s = scalar(n, path, "true or false");
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    expected(n, path, "true or false");
}

std::chrono::seconds yaml_reader::duration(const YAML::Node& n, const std::string& path,
                                             std::chrono::seconds max, std::string_view max_text) const {
    const std::string& s = scalar(n, path, "a duration such as \"30s\", \"15m\" or \"24h\"");
    std::chrono::seconds d{};
    try {
        d = parse_duration(s);
    } catch (const std::invalid_argument& e) {
        fail(n, path + ": " + e.what());
    }
    if (d > max) expected(n, path, "a duration of at most " + std::string(max_text));
    return d;
}

fs::path yaml_reader::path_value(const YAML::Node& n, const std::string& path, std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    if (s.empty()) expected(n, path, what);
    // A NUL (possible via a "\0" escape) would silently cut the path short
    // in every system call; other control characters are never meant.
    if (has_control(s)) {
        fail(n, path + ": the path contains control characters: " + quote(s));
    }
    if (s[0] == '~') {
        fail(n, path + ": " + quote(s) + ": '~' is not expanded here; write the full path");
    }
    const fs::path p(s);
    return p.is_absolute() ? p.lexically_normal() : (base_dir_ / p).lexically_normal();
}

void yaml_reader::require(const section& s, std::string_view key, const YAML::Node& parent,
                            const std::string& path, std::string_view what) const {
    if (!s.contains(key)) fail(parent, "missing required key " + path + " (" + std::string(what) + ")");
}

YAML::Node yaml_reader::load_single_document(const std::string& text) const {
    const auto invalid = [this](const YAML::Mark& mark, const std::string& what) {
        std::string location = "config " + name_;
        if (!mark.is_null()) location += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
        return config_error(location + ": invalid YAML: " + what);
    };
    try {
        // yaml-cpp 0.7 does not consume some stray tokens at the start of a
        // document (a leading ','): it reports an endless series of empty
        // documents at the same spot, which YAML::LoadAll collects until
        // memory runs out. So: count at most two documents, treating a
        // second one that starts where the first did as the syntax error it is.
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        document_starts starts;
        if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts)) {
            const YAML::Mark first = starts.marks.at(0);
            const YAML::Mark second = starts.marks.at(1);
            if (second.pos == first.pos) {
                const std::size_t pos = static_cast<std::size_t>(std::max(second.pos, 0));
                throw invalid(second, "unexpected " + (pos < text.size() ? quote(text.substr(pos, 1)) : "end of file"));
            }
            throw config_error("config " + name_ + ":" + std::to_string(second.line + 1) +
                               ": a second YAML document starts here (after ---); expected one document");
        }
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw invalid(e.mark, e.msg);
    }
}

}  // namespace reconciler::config_detail
