// stripe: where the API is, which version, which key, how fast and how patiently.
#include "config/sections.hpp"

#include "config/validate.hpp"
#include "core/text.hpp"
#include "stripe/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace reconciler::config_detail {
namespace {

// The URL as the client uses it (scheme://host[:port]); `host` gets its host
// (IPv6 without brackets). The URL grammar and the loopback rule are the
// transport's (stripe/url.hpp); what this key allows on top is stated here.
std::string read_base_url(const yaml_reader& r, const YAML::Node& n, bool allow_plain_http_loopback,
                          std::string& host) {
    const std::string path = "stripe.base_url";
    const std::string what = "an https:// URL such as \"https://api.stripe.com\"";
    const std::string& url = r.scalar(n, path, what);
    if (has_control_or_space(url)) r.expected(n, path, what);
    stripe::http_url u;
    try {
        u = stripe::parse_http_url(url);
    } catch (const stripe::url_error& e) {
        if (e.problem() == stripe::url_problem::port)
            r.fail(n, path + ": " + quote(url) + ": the port must be a number in 1..65535");
        r.expected(n, path, what);
    }
    if (u.has_userinfo) {
        r.fail(n, path + ": " + quote(url) + " must not contain user info (the key comes from stripe.key)");
    }
    // One trailing slash is harmless; the client appends /v1/... itself.
    if (!(u.path.empty() || u.path == "/") || u.has_query || u.has_fragment) {
        r.fail(n, path + ": " + quote(url) +
                      " must be scheme://host[:port] without a path, query or fragment (the client adds /v1/...)");
    }
    if (!u.tls) {
        // Plain HTTP would send the Stripe key in clear text. The one honest
        // use is the local simulator, and even that must be asked for.
        if (!stripe::is_loopback_host(u.host)) {
            r.fail(n, path + ": " + quote(url) +
                          ": plain http:// would send the Stripe key unencrypted; use https://"
                          " (http:// is allowed only for a loopback host such as 127.0.0.1 with"
                          " stripe.allow_plain_http_loopback: true)");
        }
        if (!allow_plain_http_loopback) {
            r.fail(n, path + ": " + quote(url) +
                          ": plain http:// to a loopback host needs stripe.allow_plain_http_loopback: true"
                          " (meant for the local simulator); otherwise use https://");
        }
    }
    host = u.host;
    return u.scheme + "://" + u.authority;
}

// Validated because it becomes the Stripe-Version header verbatim.
std::string read_api_version(const yaml_reader& r, const YAML::Node& n) {
    const std::string what = "a Stripe API version such as \"2025-03-31.basil\"";
    const std::string& v = r.scalar(n, "stripe.api_version", what);
    bool ok = v.size() >= 10 && v[4] == '-' && v[7] == '-';
    for (std::size_t i = 0; ok && i < 10; ++i) ok = (i == 4 || i == 7) || std::isdigit(static_cast<unsigned char>(v[i]));
    if (ok && v.size() > 10) {
        ok = v[10] == '.' && v.size() > 11 && std::all_of(v.begin() + 11, v.end(), [](char c) {
                 return c >= 'a' && c <= 'z';
             });
    }
    if (!ok) r.expected(n, "stripe.api_version", what);
    return v;
}

// Stripe's own limit binds against Stripe; a simulator or a mock on
// another host may be paged as fast as it serves (benchmarks, tests).
std::optional<double> read_requests_per_second(const yaml_reader& r, const YAML::Node& n, const std::string& host) {
    const bool stripe_host = host == "api.stripe.com" || host.ends_with(".stripe.com");
    const double most = stripe_host ? 100 : 10000;
    const std::string what = stripe_host ? "\"auto\" or a number in (0, 100]"
                                         : "\"auto\" or a number in (0, 10000] (base_url is not Stripe's)";
    const std::string& v = r.scalar(n, "stripe.requests_per_second", what);
    if (v == "auto") return std::nullopt;
    double rps = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rps);
    // NaN fails both comparisons, inf the upper bound.
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || !(rps > 0 && rps <= most)) {
        r.expected(n, "stripe.requests_per_second", what);
    }
    return rps;
}

std::string read_account(const yaml_reader& r, const YAML::Node& v) {
    if (v.IsNull()) return {};
    // Becomes the Stripe-Account header: only a well-formed id.
    const std::string what = "a connected account id such as \"acct_1Abc...\", or \"\"";
    const std::string& a = r.scalar(v, "stripe.account", what);
    const bool ok = a.empty() || (a.size() > 5 && a.starts_with("acct_") &&
                                  std::all_of(a.begin() + 5, a.end(), [](char c) {
                                      return std::isalnum(static_cast<unsigned char>(c));
                                  }));
    if (!ok) r.expected(v, "stripe.account", what);
    return a;
}

}  // namespace

void read_stripe(const yaml_reader& r, const YAML::Node& n, stripe_config& out) {
    const yaml_reader::section s = r.open_section(n, "stripe",
                                                  {"base_url", "api_version", "key", "ca_file",
                                                   "allow_plain_http_loopback", "requests_per_second", "concurrency",
                                                   "request_timeout", "max_retries", "account"});
    // Read first: base_url's check depends on it wherever it sits in the file.
    if (const auto it = s.find("allow_plain_http_loopback"); it != s.end()) {
        out.allow_plain_http_loopback = r.boolean(it->second, "stripe.allow_plain_http_loopback");
    }
    std::string host = "api.stripe.com";  // the default base_url's
    if (const auto it = s.find("base_url"); it != s.end()) {
        out.base_url = read_base_url(r, it->second, out.allow_plain_http_loopback, host);
    }
    if (const auto it = s.find("api_version"); it != s.end()) out.api_version = read_api_version(r, it->second);
    if (const auto it = s.find("key"); it != s.end())
        read_secret_source(r, it->second, out.key, "stripe.key", "STRIPE_API_KEY");
    if (const auto it = s.find("ca_file"); it != s.end()) {
        const YAML::Node& v = it->second;
        // Empty (or nothing) selects the system store, as documented.
        if (v.IsNull() || (v.IsScalar() && v.Scalar().empty())) {
            out.ca_file.clear();
        } else {
            out.ca_file = r.path_value(v, "stripe.ca_file", "the path of a PEM CA bundle, or \"\"").string();
        }
    }
    if (const auto it = s.find("requests_per_second"); it != s.end()) {
        out.requests_per_second = read_requests_per_second(r, it->second, host);
    }
    if (const auto it = s.find("concurrency"); it != s.end()) {
        out.concurrency = static_cast<int>(r.integer(it->second, "stripe.concurrency", 1, 32, "an integer in 1..32"));
    }
    if (const auto it = s.find("request_timeout"); it != s.end()) {
        out.request_timeout = r.duration(it->second, "stripe.request_timeout", std::chrono::minutes(10), "10m");
    }
    if (const auto it = s.find("max_retries"); it != s.end()) {
        out.max_retries = static_cast<int>(r.integer(it->second, "stripe.max_retries", 0, 20, "an integer in 0..20"));
    }
    if (const auto it = s.find("account"); it != s.end()) out.account = read_account(r, it->second);
}

}  // namespace reconciler::config_detail
