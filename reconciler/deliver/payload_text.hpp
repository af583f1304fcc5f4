// Helpers the payload files share (internal to deliver/).
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace reconciler::deliver::detail {

// The evidence as JSON: the parsed object or value when the text is JSON,
// else {"text": <the text>}; empty text is an empty object.
boost::json::value evidence_value(const std::string& evidence);

// At most `max` bytes, cut at a UTF-8 character boundary, ending in "…"
// when cut (the ellipsis counts toward `max`).
std::string bounded(std::string_view text, std::size_t max);

// Lowercase hex SHA-256.
std::string sha256_hex(std::string_view data);

}  // namespace reconciler::deliver::detail
