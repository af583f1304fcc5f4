#include "stripe/url.hpp"

#include <boost/url/authority_view.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace reconciler::stripe {
namespace {

namespace urls = boost::urls;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool bad_char(unsigned char c) { return c <= 0x20 || c >= 0x7f; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// Boost.URL refuses an authority without saying why: these are the
// mistakes worth a sentence of their own.
[[noreturn]] void explain_bad_authority(std::string_view host_port) {
    if (!host_port.empty() && host_port.front() == '[') {
        const auto close = host_port.find(']');
        if (close == std::string_view::npos) throw url_error(url_problem::ipv6_literal, "unterminated IPv6 literal");
        const std::string_view after = host_port.substr(close + 1);
        if (!after.empty() && after.front() != ':')
            throw url_error(url_problem::ipv6_literal, "unexpected text after the IPv6 literal");
        if (after.size() > 1) throw url_error(url_problem::port, "port must be a number in 1..65535");
        throw url_error(url_problem::ipv6_literal, "invalid IPv6 literal");
    }
    const auto colon = host_port.find(':');
    if (colon != std::string_view::npos && host_port.find(':', colon + 1) != std::string_view::npos)
        throw url_error(url_problem::ipv6_brackets, "an IPv6 host must be written in brackets, e.g. https://[::1]:12111");
    const std::string_view host = host_port.substr(0, colon);
    if (std::all_of(host.begin(), host.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
        throw url_error(url_problem::port, "port must be a number in 1..65535");
    throw url_error(url_problem::host, "invalid character in host name");
}

std::string checked_port(std::string_view text) {
    if (text.empty()) throw url_error(url_problem::port, "empty port");
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        throw url_error(url_problem::port, "port must be a number in 1..65535");
    return std::to_string(value);
}

// scheme://authority target, split as RFC 3986 does: the authority ends at
// the first '/', '?' or '#'. No validation.
struct url_split {
    bool known_scheme = false;
    bool tls = true;
    std::string_view authority;
    std::string_view target;  // path, query and fragment
};

url_split split(std::string_view url) {
    url_split s;
    std::string_view rest;
    if (starts_with_ci(url, "https://")) {
        rest = url.substr(8);
    } else if (starts_with_ci(url, "http://")) {
        s.tls = false;
        rest = url.substr(7);
    } else {
        return s;
    }
    s.known_scheme = true;
    const auto end = rest.find_first_of("/?#");
    s.authority = rest.substr(0, end);
    s.target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    return s;
}

}  // namespace

std::string http_url::host_port() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
}

std::string http_url::host_header() const {
    if (!default_port()) return host_port();
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

http_url parse_http_url(std::string_view url) {
    const url_split s = split(url);
    if (!s.known_scheme)
        throw url_error(url_problem::scheme, "expected https://host[:port] (e.g. https://api.stripe.com)");
    http_url out;
    out.tls = s.tls;
    out.scheme = out.tls ? "https" : "http";
    std::string_view authority = s.authority;
    std::string_view target = s.target;
    if (const auto hash = target.find('#'); hash != std::string_view::npos) {
        out.has_fragment = true;
        target = target.substr(0, hash);
    }
    if (std::any_of(authority.begin(), authority.end(), bad_char))
        throw url_error(url_problem::characters, "contains whitespace or non-ASCII characters");
    if (std::any_of(target.begin(), target.end(), bad_char))
        throw url_error(url_problem::target_characters,
                        "the path or query contains whitespace or non-ASCII characters (percent-encode them)");
    const auto question = target.find('?');
    out.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
        out.has_query = true;
        out.query = std::string(target.substr(question + 1));
    }

    // User info may itself hold an '@' the RFC forbids: split at the last one,
    // so that what follows is the host whatever precedes it.
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        out.has_userinfo = true;
        authority = authority.substr(at + 1);
    }
    out.authority = std::string(authority);
    if (authority.empty()) throw url_error(url_problem::host, "missing host");

    const auto parsed = urls::parse_authority(urls::string_view(authority.data(), authority.size()));
    if (!parsed || parsed->has_userinfo()) explain_bad_authority(authority);
    const urls::authority_view& a = *parsed;
    switch (a.host_type()) {
        case urls::host_type::ipv4:
        case urls::host_type::ipv6:
            out.host_is_ip = true;
            break;
        case urls::host_type::name: {
            const auto name = a.encoded_host();
            if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
                throw url_error(url_problem::host, "invalid character in host name");
            break;
        }
        case urls::host_type::ipvfuture:
            throw url_error(url_problem::ipv6_literal, "invalid IPv6 literal");
        case urls::host_type::none:
            break;
    }
    const auto host = a.encoded_host_address();
    out.host = lower(std::string_view(host.data(), host.size()));
    if (out.host.empty()) throw url_error(url_problem::host, "missing host");

    out.has_port = a.has_port();
    if (out.has_port) {
        const auto port = a.port();
        out.port = checked_port(std::string_view(port.data(), port.size()));
    } else {
        out.port = out.tls ? "443" : "80";
    }
    return out;
}

http_url parse_base_url(std::string_view url) {
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("stripe base_url \"" + std::string(url) + "\": " + why);
    };
    http_url u;
    try {
        u = parse_http_url(url);
    } catch (const url_error& e) {
        throw bad(e.what());
    }
    if (u.has_query || u.has_fragment) throw bad("a query or fragment does not belong in the base URL");
    // Credentials in the URL would end up in logs: the key has its own setting.
    if (u.has_userinfo) throw bad("credentials do not belong in the URL (the API key is configured separately)");
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
    return u;
}

forward_url parse_forward_url(const std::string& url) {
    // A fragment is never sent, so it is not checked either.
    const std::string_view sent = std::string_view(url).substr(0, url.find('#'));
    const url_split s = split(sent);
    if (!s.known_scheme)
        throw std::invalid_argument("--forward-to: expected an https:// URL such as https://app.example.com/api/billing/webhook");
    forward_url out;
    // User info would be a credential: never in a message or a log line.
    const auto at = s.authority.rfind('@');
    const std::string_view path = s.target.substr(0, s.target.find('?'));
    out.for_log = std::string(s.tls ? "https://" : "http://") + (at == std::string_view::npos ? "" : "***@") +
                  std::string(s.authority.substr(at == std::string_view::npos ? 0 : at + 1)) + std::string(path);
    const std::string where = "--forward-to URL \"" + out.for_log + "\": ";
    http_url u;
    try {
        u = parse_http_url(sent);
    } catch (const url_error& e) {
        throw std::invalid_argument(where + (at != std::string_view::npos ? "credentials do not belong in the URL" : e.what()));
    }
    if (u.has_userinfo) throw std::invalid_argument(where + "credentials do not belong in the URL");
    if (!u.tls && !is_loopback_host(u.host))
        throw std::invalid_argument(where + "plain http:// is refused for non-loopback host " + u.host +
                                    " (the signed event would cross the network unencrypted); use https://");
    out.target = u.path.empty() ? std::string("/") : u.path;
    if (u.has_query) out.target += "?" + u.query;
    out.endpoint = std::move(u);
    return out;
}

bool is_loopback_host(std::string_view host) {
    if (lower(host) == "localhost") return true;
    const urls::string_view h(host.data(), host.size());
    if (const auto v4 = urls::parse_ipv4_address(h)) return v4->is_loopback();
    const auto v6 = urls::parse_ipv6_address(h);
    if (!v6) return false;
    if (v6->is_v4_mapped()) {
        const auto b = v6->to_bytes();
        return b[12] == 127;
    }
    return v6->is_loopback();
}

}  // namespace reconciler::stripe
