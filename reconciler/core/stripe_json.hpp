// Stripe's response bodies as JSON: bounded parsing (size, depth), list
// pages built with only the members something reads, and error envelopes.
// The objects inside are turned into models by stripe_parse.hpp.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace reconciler {

class parse_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    // A field of an object that is missing or of the wrong type: the field's
    // path ("customer", "lines.data") and what was expected, for findings.
    parse_error(const std::string& message, std::string field, std::string expected)
        : std::runtime_error(message), field_(std::move(field)), expected_(std::move(expected)) {}
    const std::string& field() const noexcept { return field_; }
    const std::string& expected() const noexcept { return expected_; }

private:
    std::string field_, expected_;
};

// Limits applied to every body we parse: a hostile or broken peer must not be
// able to exhaust memory or the stack (json::value is destroyed and copied
// recursively). A list page of 100 expanded objects is well under 32 MiB.
// Depth: the deepest object in Stripe's OpenAPI fixtures (an invoice) nests
// 9 levels; inside an event inside a list page that is 13, and every
// expansion level (Stripe allows 4) adds at most one such object: ~50.
// Boost.JSON's default of 32 could refuse a legitimate expanded page; 64
// cannot, and still bounds the recursion.
inline constexpr std::size_t max_body_bytes = 32u * 1024u * 1024u;
inline constexpr std::size_t max_json_depth = 64;

// Parses JSON text with the limits above. Throws parse_error whose message
// starts "parse JSON body: " and says why (refused: too large / too deep, or
// malformed); the caller prefixes the request it came from. `storage`: where
// the value lives (default: the default resource).
boost::json::value parse_json(std::string_view body, boost::json::storage_ptr storage = {});

// {"object":"list","data":[...],"has_more":bool,"url":"..."}. Of each listed
// object only the members that the parse_* functions (stripe_parse.hpp) and
// the client's paging read are built (id, created, customer, lines, ...; the
// list is in stripe_json.cpp): `data` is for those, not for anything that needs the
// whole object (a replay retrieves its event). parse_*(data[i]) equals
// parse_* of the whole object, and the body is validated whole.
struct list_envelope {
    boost::json::array data;
    bool has_more = false;
    std::string url;
};
list_envelope parse_list_envelope(std::string_view body);

// {"error":{"type","code","message","param"}}: empty when the body is not an
// error envelope. Never throws.
struct stripe_error_body {
    std::string type;
    std::string code;
    std::string message;
    std::string param;
};
std::optional<stripe_error_body> parse_error_body(std::string_view body) noexcept;

}  // namespace reconciler
