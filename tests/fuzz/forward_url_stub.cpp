// Stand-in for stripe::parse_forward_url (webhook_forwarder.cpp) in the config
// fuzzer only. The real one lives in a Beast coroutine TU that clang 14 cannot
// compile with sanitizer coverage ("Cannot represent a difference across
// sections"), and config.cpp only needs its verdict. This keeps the same
// contract shape: std::invalid_argument for anything but an http(s) URL.
// The real URL parser is covered by tests/replay and tests/e2e, not fuzzed.
#include "stripe/webhook_forwarder.hpp"

#include <stdexcept>

namespace reconciler::stripe {

forward_url parse_forward_url(const std::string& url) {
    forward_url out;
    if (url.starts_with("https://")) {
        out.host = url.substr(8);
    } else if (url.starts_with("http://")) {
        out.tls = false;
        out.host = url.substr(7);
    } else {
        throw std::invalid_argument("--forward-to: expected an https:// URL");
    }
    if (out.host.empty()) throw std::invalid_argument("--forward-to: no host");
    out.port = out.tls ? "443" : "80";
    out.target = "/";
    out.for_log = url;
    return out;
}

}  // namespace reconciler::stripe
