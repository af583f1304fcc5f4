// One reading of the http(s) URLs the reconciler dials (stripe.base_url and
// the webhook forward_to URL) and one rule for which hosts are loopback, the
// only ones plain http:// may reach.
//
// Contract:
//  - parse_http_url() takes scheme://[userinfo@]host[:port][/path][?query][#fragment]
//    with scheme http or https in any case. The authority is parsed by
//    Boost.URL (RFC 3986: IPv4, bracketed IPv6, reg-name, digits-only port)
//    and then narrowed to what can be dialled: a host name of letters,
//    digits, '-' and '.', or an IP literal; a port in 1..65535. Whitespace,
//    control and non-ASCII characters are refused anywhere. Path and query
//    are kept as written (the reconciler never interprets them).
//  - It throws url_error whose what() is the reason only ("port must be a
//    number in 1..65535"); callers prefix the setting that holds the URL and
//    may word it their way from problem(). What a caller may not want (user
//    info, a path, a query, a fragment) is reported, not refused.
//  - User info is never copied into the result: it would be a credential.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace reconciler::stripe {

enum class url_problem {
    scheme,              // not http:// or https://
    characters,          // whitespace, control or non-ASCII in scheme://authority
    target_characters,   // ...in the path or query
    ipv6_brackets,       // an IPv6 host without brackets
    ipv6_literal,        // [ ... ] that is not a valid IPv6 address
    host,                // a host name character outside [A-Za-z0-9.-], or none at all
    port,                // not a number in 1..65535
};

class url_error : public std::invalid_argument {
public:
    url_error(url_problem problem, const std::string& reason) : std::invalid_argument(reason), problem_(problem) {}
    url_problem problem() const noexcept { return problem_; }

private:
    url_problem problem_;
};

struct http_url {
    bool tls = true;
    std::string scheme;         // "https" or "http"
    bool has_userinfo = false;  // "user:pw@" was present (its text is not kept)
    std::string host;           // lower case; an IPv6 literal without brackets
    bool host_is_ip = false;    // an IPv4 or IPv6 literal (no SNI; the certificate names the IP)
    std::string port;           // decimal 1..65535 without leading zeros; 443 / 80 when absent
    bool has_port = false;
    std::string authority;      // host[:port] as written, without user info
    std::string path;           // as written; "" when none
    std::string query;          // as written, without the '?'
    bool has_query = false;
    bool has_fragment = false;

    bool default_port() const { return port == (tls ? "443" : "80"); }
    // "[::1]:12111", "api.stripe.com:443": for messages and the connection's name.
    std::string host_port() const;
    // The Host header: the port only when it is not the scheme's default.
    std::string host_header() const;
};

// Throws url_error (see the contract above).
http_url parse_http_url(std::string_view url);

// stripe.base_url as the transport dials it: a path prefix is allowed
// (trailing slashes dropped, kept in `path`); a query, a fragment or user info
// is not. Throws std::invalid_argument "stripe base_url \"<url>\": <why>".
http_url parse_base_url(std::string_view url);

// The webhook forward URL (`reconciler replay --forward-to`, webhook.forward_to).
struct forward_url {
    http_url endpoint;   // scheme, host and port dialled (no user info)
    std::string target;  // path (at least "/") and query, as sent in the request line
    std::string for_log; // scheme://authority/path: without user info, query or fragment
};

// Refuses what is not http(s), user info (a credential: never echoed), and
// plain http:// to a host that is not loopback (the signed event would cross
// the network unencrypted). The fragment is dropped, never sent. The query
// never appears in a message (it may carry a token). Throws
// std::invalid_argument whose message starts with "--forward-to".
forward_url parse_forward_url(const std::string& url);

// The one loopback rule: "localhost" (any case), 127.0.0.0/8, ::1 and
// ::ffff:127.0.0.0/104. `host` is a host name or an IP address without brackets.
bool is_loopback_host(std::string_view host);

}  // namespace reconciler::stripe
