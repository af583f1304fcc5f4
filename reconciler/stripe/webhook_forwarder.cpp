// The webhook replay's POST: the forward URL's rules and the caller's headers
// checked, then one post_once() (https_post.cpp holds Beast and OpenSSL).
#include "stripe/webhook_forwarder.hpp"

#include "stripe/tls.hpp"
#include "stripe/url.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace reconciler::stripe {

namespace {

bool bad_header_char(unsigned char c) { return c <= 0x20 || c >= 0x7f; }

bool has_crlf_or_nul(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

boost::asio::awaitable<forward_result> forward_webhook(std::string url, std::string body, header_list headers,
                                                std::string ca_file, std::chrono::milliseconds timeout,
                                                std::size_t max_body_bytes) {
    // Everything that can be refused is refused before the first byte is sent.
    const forward_url f = parse_forward_url(url);
    if (timeout <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("webhook forward timeout must be positive");
    for (const auto& [name, value] : headers) {
        if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) { return bad_header_char(c) || c == ':'; }))
            throw std::invalid_argument("webhook forward: invalid header name \"" + name + "\"");
        if (has_crlf_or_nul(value))
            throw std::invalid_argument("webhook forward: header " + name + " contains CR, LF or NUL");
    }
    std::optional<boost::asio::ssl::context> ctx;
    if (f.endpoint.tls)
        ctx.emplace(tls::make_client_context(ca_file, {"webhook forward", "CA file", "--ca-file", "pass --ca-file"}));

    post_options options;
    options.tls = ctx ? &*ctx : nullptr;
    options.step_timeout = timeout;  // each step its own; no deadline for the whole
    options.max_body_bytes = max_body_bytes;
    co_return co_await post_once(f.endpoint, f.target, std::move(body), headers, options);
}

}  // namespace reconciler::stripe
