#include "report/json_read.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace reconciler::detail {

namespace json = boost::json;

const json::value* field(const json::object* o, std::string_view key) {
    if (o == nullptr) return nullptr;
    auto it = o->find(key);
    return it == o->end() ? nullptr : &it->value();
}

const json::object* object_at(const json::object* o, std::string_view key) {
    const json::value* v = field(o, key);
    return v != nullptr ? v->if_object() : nullptr;
}

const json::array* array_at(const json::object* o, std::string_view key) {
    const json::value* v = field(o, key);
    return v != nullptr ? v->if_array() : nullptr;
}

std::string format_double(double d) {
    if (!std::isfinite(d)) return {};
    std::array<char, 64> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    if (ec != std::errc{}) return {};
    return std::string(buf.data(), end);
}

std::string text_of(const json::value* v) {
    if (v == nullptr) return {};
    switch (v->kind()) {
        case json::kind::string: return std::string(v->get_string());
        case json::kind::int64: return std::to_string(v->get_int64());
        case json::kind::uint64: return std::to_string(v->get_uint64());
        case json::kind::double_: return format_double(v->get_double());
        case json::kind::bool_: return v->get_bool() ? "true" : "false";
        case json::kind::null: return {};
        case json::kind::array:
        case json::kind::object: return json::serialize(*v);
    }
    return {};
}

std::string str_at(const json::object* o, std::string_view key) { return text_of(field(o, key)); }

bool flag_at(const json::object* o, std::string_view key) {
    const json::value* v = field(o, key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

std::optional<std::int64_t> integral(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) {
        const double d = v->get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

std::optional<double> number(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
    return std::nullopt;
}

bool is_plain_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits_start) return false;
    if (i < s.size() && s[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == frac_start) return false;
    }
    return i == s.size();
}

}  // namespace reconciler::detail
