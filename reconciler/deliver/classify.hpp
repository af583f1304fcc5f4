// One POST's result as a delivery attempt: the retry rules of the contract
// in sender.hpp, and the one place an error text is made safe to log.
//
// Contract:
//  - classify(): no answer (resolve, connect, TLS, deadline) → retry;
//    2xx → sent; 408, 429, 5xx → retry; any other status (3xx: redirects
//    are not followed, other 4xx) → failed. Errors read
//    "deliver <route>: <what failed>" ("deliver data_platform/slack: 500 from
//    receiver: <bounded answer>"); the answer is cut to 200 bytes, printable
//    ASCII only.
//  - Every error passes through redact(): each of `secrets` (routing key,
//    HMAC secret, the URL's path and query) that is 4 bytes or longer is
//    replaced by "[redacted]", so not even an echo from the receiver can
//    leak one.
//  - parse_retry_after(): delta-seconds or an IMF-fixdate (RFC 9110) against
//    `now`; anything else, or a time in the past, is 0; capped at one hour.
#pragma once

#include "deliver/sender.hpp"
#include "stripe/https_post.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::deliver {

inline constexpr std::chrono::seconds retry_after_cap{3600};

std::chrono::seconds parse_retry_after(std::string_view value, std::int64_t now_unix);

std::string redact(std::string text, const std::vector<std::string>& secrets);

attempt classify(const std::string& route, const stripe::post_result& r, std::int64_t now_unix,
                 const std::vector<std::string>& secrets);

}  // namespace reconciler::deliver
