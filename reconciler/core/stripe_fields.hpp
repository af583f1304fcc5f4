// Reading the fields of a Stripe object, for the parse_* functions: each
// reader names the object and the field in the parse_error it throws
// ("invoice in_123: field customer: expected string"). Inline: they run for
// every field of every object of a window.
#pragma once

#include "core/stripe_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reconciler::stripe_fields {

namespace json = boost::json;

// `what` is "invoice in_123": every message names the object and the field.
[[noreturn]] inline void fail(const std::string& what, std::string_view field, std::string_view expected) {
    throw parse_error(what + ": field " + std::string(field) + ": expected " + std::string(expected), std::string(field),
                      std::string(expected));
}

inline const json::value* find(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

inline std::string req_string(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v || !v->is_string()) fail(what, key, "string");
    return std::string(v->get_string());
}

inline std::string opt_string(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return {};
    if (!v->is_string()) fail(what, key, "string or null");
    return std::string(v->get_string());
}

inline std::int64_t req_int(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) fail(what, key, "integer");
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v->get_uint64());
    fail(what, key, "integer");
}

inline std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key, const std::string& what) {
    if (!find(o, key)) return std::nullopt;
    return req_int(o, key, what);
}

// A Stripe timestamp: unix seconds that RFC 3339 can show (years 1970 to
// 9999). Anything else breaks the schema: the object is flagged, not diffed
// (a time nothing can print would fail the run where it is shown).
inline std::int64_t req_time(const json::object& o, std::string_view key, const std::string& what) {
    const std::int64_t t = req_int(o, key, what);
    if (t < 0 || t > 253'402'300'799) fail(what, key, "unix time in years 1970..9999");
    return t;
}

inline std::optional<std::int64_t> opt_time(const json::object& o, std::string_view key, const std::string& what) {
    if (!find(o, key)) return std::nullopt;
    return req_time(o, key, what);
}

inline bool opt_bool(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return false;
    if (!v->is_bool()) fail(what, key, "boolean");
    return v->get_bool();
}

inline const json::object* opt_object(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return nullptr;
    if (!v->is_object()) fail(what, key, "object or null");
    return &v->get_object();
}

// An expandable field: either an id string or the expanded object with an id.
inline std::string id_or_object(const json::object& o, std::string_view key, const std::string& what) {
    const auto* v = find(o, key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_object()) return req_string(v->get_object(), "id", what + " " + std::string(key));
    fail(what, key, "id string, object or null");
}

// The labels an expanded price (or legacy plan) object gives: its nickname
// and product. A price given as an id string gives none.
inline void price_labels(const json::object& o, std::string_view key, const std::string& what, std::string& nickname,
                  std::string& product) {
    const auto* v = find(o, key);
    if (!v || !v->is_object()) return;
    const std::string pwhat = what + " " + std::string(key);
    nickname = opt_string(v->get_object(), "nickname", pwhat);
    product = id_or_object(v->get_object(), "product", pwhat);
}

// An expandable field the object cannot be without (a dispute's charge).
inline std::string req_id_or_object(const json::object& o, std::string_view key, const std::string& what,
                             std::string_view expected) {
    std::string id = id_or_object(o, key, what);
    if (id.empty()) fail(what, key, expected);
    return id;
}

// Data of an embedded list ({"object":"list","data":[...]}) or an empty array.
inline const json::array* list_data(const json::object& o, std::string_view key, const std::string& what,
                             bool* has_more = nullptr) {
    const auto* lst = opt_object(o, key, what);
    if (!lst) return nullptr;
    const auto* data = find(*lst, "data");
    if (!data || !data->is_array()) fail(what, std::string(key) + ".data", "array");
    if (has_more) *has_more = opt_bool(*lst, "has_more", what);
    return &data->get_array();
}

inline std::string name_of(std::string_view type, const json::object& o) {
    const auto* id = find(o, "id");
    std::string name(type);
    if (id && id->is_string()) {
        name += ' ';
        name += std::string(id->get_string());
    }
    return name;
}

}  // namespace reconciler::stripe_fields
