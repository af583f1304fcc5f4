#include "app/config.hpp"

#include "core/text.hpp"
#include "stripe/webhook_forwarder.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <sstream>
#include <limits>
#include <string_view>
#include <utility>

#include "core/timeutil.hpp"

namespace reconciler {
namespace {

namespace fs = std::filesystem;

// Bigger than any sane config; a larger file is the wrong file (a database,
// a log) and should not be fed to the YAML parser.
constexpr std::size_t max_config_bytes = 1 << 20;
// A Stripe key is ~110 bytes; the bound stops a path such as /dev/zero from
// being read forever.
constexpr std::size_t max_secret_bytes = 64 << 10;


std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

bool has_control_or_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
    });
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// A key pasted where a *name* of a key belongs (env variable, file,
// credential) must not travel on into "variable sk_live_... is not set".
bool looks_like_secret(std::string_view s) {
    for (std::string_view prefix : {"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"}) {
        if (s.find(prefix) != std::string_view::npos) return true;
    }
    return false;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &md_len, EVP_sha256(), nullptr) != 1) {
        throw config_error("config: cannot compute the sha256 content hash (OpenSSL EVP_Digest failed)");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(md_len * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0x0f];
    }
    return out;
}

struct file_read {
    std::string data;
    int error = 0;           // errno of the failing call; 0 on success
    bool too_large = false;
    mode_t mode = 0;         // st_mode of the opened file
};

// POSIX rather than iostreams so that failures carry errno, and fstat() on
// the open descriptor checks the very file that is read.
file_read read_file_bounded(const fs::path& path, std::size_t max_bytes) {
    file_read r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r.error = errno;
        return r;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        r.error = errno;
        ::close(fd);
        return r;
    }
    r.mode = st.st_mode;
    std::array<char, 8192> buf{};
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            break;
        }
        if (n == 0) break;
        if (r.data.size() + static_cast<std::size_t>(n) > max_bytes) {
            r.too_large = true;
            break;
        }
        r.data.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return r;
}

std::string mode_octal(mode_t mode) {
    std::array<char, 8> buf{};
    std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
    return buf.data();
}

// The secret checks shared by every source. `source` describes where the
// value came from; the value itself never enters a message.
std::string check_secret(std::string value, const std::string& what, const std::string& source) {
    while (!value.empty() && std::strchr(" \t\r\n\v\f", value.back()) != nullptr) value.pop_back();
    if (value.empty()) throw config_error(what + ": " + source + " is empty");
    // It becomes an HTTP header: a stray newline or space would corrupt the
    // request or, worse, inject a header.
    if (has_control_or_space(value)) {
        throw config_error(what + ": " + source +
                           " contains whitespace or control characters inside the value (only "
                           "trailing whitespace is ignored)");
    }
    return value;
}

std::string read_secret_file(const fs::path& path, const std::string& what, const std::string& source) {
    const file_read r = read_file_bounded(path, max_secret_bytes);
    if (r.error != 0) throw config_error(what + ": cannot read " + source + ": " + std::strerror(r.error));
    if (r.too_large) {
        throw config_error(what + ": cannot read " + source + ": larger than 64 KiB, not a key file");
    }
    if (S_ISREG(r.mode) && (r.mode & S_IRWXO) != 0) {
        throw config_error(what + ": refusing " + source + ": it is accessible to all users (mode " +
                           mode_octal(r.mode) + "); a secret file must be 0600 or 0640 (chmod 600 " +
                           path.string() + ")");
    }
    return check_secret(r.data, what, source);
}

bool is_env_name(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool is_credential_name(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
           !has_control_or_space(s);
}

bool is_loopback_host(const std::string& host) {
    std::string lower = host;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "localhost") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
    }
    return false;
}

// Records where each YAML document starts and nothing else: used to count
// documents, which YAML::LoadAll cannot be trusted with (below).
class document_starts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// Parses and validates one config text. Keeps the display name for
// messages and the directory relative paths resolve against.
class config_parser {
public:
    config_parser(std::string display_name, fs::path base_dir)
        : name_(std::move(display_name)), base_dir_(std::move(base_dir)) {}

    config parse(const std::string& text);

private:
    YAML::Node load_single_document(const std::string& text) const;

    using section = std::map<std::string, YAML::Node, std::less<>>;

    std::string where(const YAML::Node& at) const {
        std::string out = "config " + name_;
        if (at.IsDefined()) {
            const YAML::Mark mark = at.Mark();
            if (!mark.is_null()) out += ":" + std::to_string(mark.line + 1);
        }
        return out;
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
        throw config_error(where(at) + ": " + message);
    }

    [[noreturn]] void expected(const YAML::Node& at, const std::string& path, std::string_view what) const {
        fail(at, path + ": expected " + std::string(what) + ", got " + describe(at));
    }

    static std::string describe(const YAML::Node& n) {
        switch (n.Type()) {
            case YAML::NodeType::Scalar: return quote(n.Scalar());
            case YAML::NodeType::Sequence: return "a list";
            case YAML::NodeType::Map: return "a mapping";
            case YAML::NodeType::Null:
            case YAML::NodeType::Undefined: break;
        }
        return "nothing";
    }

    static std::string child_path(const std::string& parent, std::string_view key) {
        return parent.empty() ? std::string(key) : parent + "." + std::string(key);
    }

    section open_map(const YAML::Node& n, const std::string& path, std::string_view what);
    section open_section(const YAML::Node& n, const std::string& path,
                         std::initializer_list<std::string_view> allowed);

    const std::string& scalar(const YAML::Node& n, const std::string& path, std::string_view what) const;
    std::string name_string(const YAML::Node& n, const std::string& path, std::string_view what) const;
    std::int64_t integer(const YAML::Node& n, const std::string& path, std::int64_t lo, std::int64_t hi,
                         std::string_view what) const;
    bool boolean(const YAML::Node& n, const std::string& path) const;
    std::chrono::seconds duration(const YAML::Node& n, const std::string& path, std::chrono::seconds max,
                                  std::string_view max_text) const;
    fs::path path_value(const YAML::Node& n, const std::string& path, std::string_view what) const;
    void require(const section& s, std::string_view key, const YAML::Node& parent, const std::string& path,
                 std::string_view what) const;

    void parse_stripe(const YAML::Node& n, stripe_config& out);
    void parse_key(const YAML::Node& n, secret_source& out, const std::string& path = "stripe.key",
                   std::string_view example_env = "STRIPE_API_KEY");
    // The URL as the client uses it; `host` gets its host (IPv6 without brackets).
    std::string parse_base_url(const YAML::Node& n, bool allow_plain_http_loopback, std::string& host) const;
    void parse_tiers(const YAML::Node& n, std::vector<std::string>& out);
    void parse_prices(const YAML::Node& n, const std::vector<std::string>& tiers,
                      std::map<std::string, price_entitlement>& out);
    void check_tier(const YAML::Node& n, const std::string& path, const std::string& tier,
                    const std::vector<std::string>& tiers) const;

    std::string name_;
    fs::path base_dir_;
};

config_parser::section config_parser::open_map(const YAML::Node& n, const std::string& path,
                                               std::string_view what) {
    section out;
    // A section left empty (every line below it commented out) means defaults.
    if (n.IsNull()) return out;
    if (!n.IsMap()) expected(n, path, what);
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& kv : n) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar() || key.Scalar().empty()) {
            fail(key, (path.empty() ? "" : path + ": ") + "keys must be plain names, got " + describe(key));
        }
        const std::string& k = key.Scalar();
        // yaml-cpp keeps both entries of a repeated key; whichever one a
        // lookup finds, the other is silently ignored. Refuse instead.
        if (const auto it = first_line.find(k); it != first_line.end()) {
            fail(key, "duplicate key " + child_path(path, k) +
                          (it->second > 0 ? " (first at line " + std::to_string(it->second) + ")" : ""));
        }
        const YAML::Mark mark = key.Mark();
        first_line.emplace(k, mark.is_null() ? 0 : mark.line + 1);
        out.emplace(k, kv.second);
    }
    return out;
}

config_parser::section config_parser::open_section(const YAML::Node& n, const std::string& path,
                                                   std::initializer_list<std::string_view> allowed) {
    std::vector<std::string> allowed_list(allowed.begin(), allowed.end());
    const std::string what = "a mapping with keys " + join(allowed_list);
    section s = open_map(n, path, path.empty() ? "a mapping with sections " + join(allowed_list) : what);
    if (!n.IsMap()) return s;
    for (const auto& kv : n) {
        const std::string& k = kv.first.Scalar();
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string message = "unknown key " + child_path(path, k) + " (allowed: " + join(allowed_list) + ")";
        // Most unknown keys are typos: name the key that was probably meant.
        std::string_view best;
        std::size_t best_distance = 3;
        for (std::string_view candidate : allowed) {
            const std::size_t d = edit_distance(k, candidate);
            if (d < best_distance) {
                best_distance = d;
                best = candidate;
            }
        }
        if (!best.empty()) message += "; did you mean " + child_path(path, best) + "?";
        fail(kv.first, message);
    }
    return s;
}

const std::string& config_parser::scalar(const YAML::Node& n, const std::string& path,
                                         std::string_view what) const {
    if (!n.IsScalar()) expected(n, path, what);
    return n.Scalar();
}

// A name-like string: non-empty, printable, no spaces.
std::string config_parser::name_string(const YAML::Node& n, const std::string& path,
                                       std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    if (s.empty() || has_control_or_space(s)) expected(n, path, what);
    return s;
}

std::int64_t config_parser::integer(const YAML::Node& n, const std::string& path, std::int64_t lo,
                                    std::int64_t hi, std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    std::int64_t v = 0;
    // Decimal only: YAML 1.1's 0x/0o/underscore forms would surprise in a
    // reviewed config. from_chars takes exactly an optional '-' and digits.
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi) {
        expected(n, path, what);
    }
    return v;
}

bool config_parser::boolean(const YAML::Node& n, const std::string& path) const {
    const std::string& s = scalar(n, path, "true or false");
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    expected(n, path, "true or false");
}

std::chrono::seconds config_parser::duration(const YAML::Node& n, const std::string& path,
                                             std::chrono::seconds max, std::string_view max_text) const {
    const std::string& s = scalar(n, path, "a duration such as \"30s\", \"15m\" or \"24h\"");
    std::chrono::seconds d{};
    try {
        d = parse_duration(s);
    } catch (const std::invalid_argument& e) {
        fail(n, path + ": " + e.what());
    }
    if (d > max) expected(n, path, "a duration of at most " + std::string(max_text));
    return d;
}

fs::path config_parser::path_value(const YAML::Node& n, const std::string& path, std::string_view what) const {
    const std::string& s = scalar(n, path, what);
    if (s.empty()) expected(n, path, what);
    // A NUL (possible via a "\0" escape) would silently cut the path short
    // in every system call; other control characters are never meant.
    if (has_control(s)) {
        fail(n, path + ": the path contains control characters: " + quote(s));
    }
    if (s[0] == '~') {
        fail(n, path + ": " + quote(s) + ": '~' is not expanded here; write the full path");
    }
    const fs::path p(s);
    return p.is_absolute() ? p.lexically_normal() : (base_dir_ / p).lexically_normal();
}

// The message names the full leaf path (database.path) even when it is the
// whole section that is missing: that is the line the user has to add.
void config_parser::require(const section& s, std::string_view key, const YAML::Node& parent,
                            const std::string& path, std::string_view what) const {
    if (!s.contains(key)) fail(parent, "missing required key " + path + " (" + std::string(what) + ")");
}

std::string config_parser::parse_base_url(const YAML::Node& n, bool allow_plain_http_loopback,
                                          std::string& host) const {
    const std::string path = "stripe.base_url";
    const std::string what = "an https:// URL such as \"https://api.stripe.com\"";
    const std::string& url = scalar(n, path, what);
    const auto sep = url.find("://");
    if (sep == std::string::npos || has_control_or_space(url)) expected(n, path, what);
    std::string scheme = url.substr(0, sep);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "https" && scheme != "http") expected(n, path, what);

    std::string authority = url.substr(sep + 3);
    // One trailing slash is harmless; the client appends /v1/... itself.
    if (!authority.empty() && authority.back() == '/') authority.pop_back();
    if (authority.find('@') != std::string::npos) {
        fail(n, path + ": " + quote(url) + " must not contain user info (the key comes from stripe.key)");
    }
    if (authority.find_first_of("/?#") != std::string::npos) {
        fail(n, path + ": " + quote(url) +
                    " must be scheme://host[:port] without a path, query or fragment (the client adds /v1/...)");
    }

    host.clear();
    std::string port;
    bool has_port = false;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) expected(n, path, what);
        host = authority.substr(1, close - 1);
        const std::string rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') expected(n, path, what);
            port = rest.substr(1);
            has_port = true;
        }
        in6_addr v6{};
        if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) expected(n, path, what);
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string::npos) {
            port = authority.substr(colon + 1);
            has_port = true;
        }
        const bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        });
        if (!host_ok) expected(n, path, what);
    }
    if (has_port) {
        int p = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || p < 1 || p > 65535) {
            fail(n, path + ": " + quote(url) + ": the port must be a number in 1..65535");
        }
    }

    if (scheme == "http") {
        // Plain HTTP would send the Stripe key in clear text. The one honest
        // use is the local simulator, and even that must be asked for.
        if (!is_loopback_host(host)) {
            fail(n, path + ": " + quote(url) +
                        ": plain http:// would send the Stripe key unencrypted; use https://"
                        " (http:// is allowed only for a loopback host such as 127.0.0.1 with"
                        " stripe.allow_plain_http_loopback: true)");
        }
        if (!allow_plain_http_loopback) {
            fail(n, path + ": " + quote(url) +
                        ": plain http:// to a loopback host needs stripe.allow_plain_http_loopback: true"
                        " (meant for the local simulator); otherwise use https://");
        }
    }
    return scheme + "://" + authority;
}

void config_parser::parse_key(const YAML::Node& n, secret_source& out, const std::string& path,
                              std::string_view example_env) {
    const std::string leaf = path.substr(path.rfind('.') + 1);
    if (n.IsScalar()) {
        // Never echo it: this is most likely the key itself.
        fail(n, path +
                    ": expected a mapping with exactly one of env, file, credential, got a plain value;"
                    " the " + leaf + " itself never goes in the config file (e.g. " + leaf + ": { env: " +
                    std::string(example_env) + " })");
    }
    const section s = open_section(n, path, {"env", "file", "credential"});
    if (s.size() != 1) {
        std::vector<std::string> found;
        for (const auto& kv : s) found.push_back(kv.first);
        fail(n, path + ": expected exactly one of env, file, credential, found " +
                    (found.empty() ? std::string("none") : join(found)));
    }
    out = secret_source{};
    const auto& [which, value] = *s.begin();
    const std::string value_path = child_path(path, which);
    if (value.IsScalar() && looks_like_secret(value.Scalar())) {
        fail(value, value_path +
                        ": this looks like a Stripe secret itself; put the secret in the environment,"
                        " a file or a systemd credential and name that here (the value is not shown)");
    }
    if (which == "env") {
        const std::string what = "an environment variable name such as " + std::string(example_env);
        const std::string& name = scalar(value, value_path, what);
        if (!is_env_name(name)) expected(value, value_path, what);
        out.env = name;
    } else if (which == "file") {
        out.file = path_value(value, value_path, "the path of a file holding the " + leaf).string();
    } else {
        const std::string what = "a systemd credential name (as in LoadCredential=NAME:...)";
        const std::string& name = scalar(value, value_path, what);
        if (!is_credential_name(name)) expected(value, value_path, what);
        out.credential = name;
    }
}

void config_parser::parse_stripe(const YAML::Node& n, stripe_config& out) {
    const std::string path = "stripe";
    const section s = open_section(n, path,
                                   {"base_url", "api_version", "key", "ca_file", "allow_plain_http_loopback",
                                    "requests_per_second", "concurrency", "request_timeout", "max_retries",
                                    "account"});
    // Read first: base_url's check depends on it wherever it sits in the file.
    if (const auto it = s.find("allow_plain_http_loopback"); it != s.end()) {
        out.allow_plain_http_loopback = boolean(it->second, "stripe.allow_plain_http_loopback");
    }
    std::string host = "api.stripe.com";  // the default base_url's
    if (const auto it = s.find("base_url"); it != s.end()) {
        out.base_url = parse_base_url(it->second, out.allow_plain_http_loopback, host);
    }
    if (const auto it = s.find("api_version"); it != s.end()) {
        // Validated because it becomes the Stripe-Version header verbatim.
        const std::string what = "a Stripe API version such as \"2025-03-31.basil\"";
        const std::string& v = scalar(it->second, "stripe.api_version", what);
        bool ok = v.size() >= 10 && v[4] == '-' && v[7] == '-';
        for (std::size_t i = 0; ok && i < 10; ++i) ok = (i == 4 || i == 7) || std::isdigit(static_cast<unsigned char>(v[i]));
        if (ok && v.size() > 10) {
            ok = v[10] == '.' && v.size() > 11 && std::all_of(v.begin() + 11, v.end(), [](char c) {
                     return c >= 'a' && c <= 'z';
                 });
        }
        if (!ok) expected(it->second, "stripe.api_version", what);
        out.api_version = v;
    }
    if (const auto it = s.find("key"); it != s.end()) parse_key(it->second, out.key);
    if (const auto it = s.find("ca_file"); it != s.end()) {
        const YAML::Node& v = it->second;
        // Empty (or nothing) selects the system store, as documented.
        if (v.IsNull() || (v.IsScalar() && v.Scalar().empty())) {
            out.ca_file.clear();
        } else {
            out.ca_file = path_value(v, "stripe.ca_file", "the path of a PEM CA bundle, or \"\"").string();
        }
    }
    if (const auto it = s.find("requests_per_second"); it != s.end()) {
        // Stripe's own limit binds against Stripe; a simulator or a mock on
        // another host may be paged as fast as it serves (benchmarks, tests).
        std::transform(host.begin(), host.end(), host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const bool stripe_host = host == "api.stripe.com" || host.ends_with(".stripe.com");
        const double most = stripe_host ? 100 : 10000;
        const std::string what = stripe_host ? "\"auto\" or a number in (0, 100]"
                                             : "\"auto\" or a number in (0, 10000] (base_url is not Stripe's)";
        const std::string& v = scalar(it->second, "stripe.requests_per_second", what);
        if (v == "auto") {
            out.requests_per_second.reset();
        } else {
            double rps = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rps);
            // NaN fails both comparisons, inf the upper bound.
            if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || !(rps > 0 && rps <= most)) {
                expected(it->second, "stripe.requests_per_second", what);
            }
            out.requests_per_second = rps;
        }
    }
    if (const auto it = s.find("concurrency"); it != s.end()) {
        out.concurrency = static_cast<int>(integer(it->second, "stripe.concurrency", 1, 32, "an integer in 1..32"));
    }
    if (const auto it = s.find("request_timeout"); it != s.end()) {
        out.request_timeout = duration(it->second, "stripe.request_timeout", std::chrono::minutes(10), "10m");
    }
    if (const auto it = s.find("max_retries"); it != s.end()) {
        out.max_retries = static_cast<int>(integer(it->second, "stripe.max_retries", 0, 20, "an integer in 0..20"));
    }
    if (const auto it = s.find("account"); it != s.end()) {
        const YAML::Node& v = it->second;
        if (v.IsNull()) {
            out.account.clear();
        } else {
            // Becomes the Stripe-Account header: only a well-formed id.
            const std::string what = "a connected account id such as \"acct_1Abc...\", or \"\"";
            const std::string& a = scalar(v, "stripe.account", what);
            const bool ok = a.empty() || (a.size() > 5 && a.starts_with("acct_") &&
                                          std::all_of(a.begin() + 5, a.end(), [](char c) {
                                              return std::isalnum(static_cast<unsigned char>(c));
                                          }));
            if (!ok) expected(v, "stripe.account", what);
            out.account = a;
        }
    }
}

void config_parser::parse_tiers(const YAML::Node& n, std::vector<std::string>& out) {
    const std::string what = "a list of tier names such as [free, pro, team]";
    if (!n.IsSequence() || n.size() == 0) expected(n, "tiers", what);
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const YAML::Node& item = n[i];
        const std::string item_path = "tiers[" + std::to_string(i) + "]";
        const std::string tier = name_string(item, item_path, "a tier name (no spaces)");
        if (tier == "keep") {
            fail(item, item_path + ": \"keep\" is reserved (policy.past_due_tier: keep) and cannot be a tier name");
        }
        if (std::find(out.begin(), out.end(), tier) != out.end()) {
            fail(item, item_path + ": tier " + quote(tier) + " is listed twice");
        }
        out.push_back(tier);
    }
}

void config_parser::check_tier(const YAML::Node& n, const std::string& path, const std::string& tier,
                               const std::vector<std::string>& tiers) const {
    if (std::find(tiers.begin(), tiers.end(), tier) == tiers.end()) {
        fail(n, path + ": tier " + quote(tier) + " is not in tiers (" + join(tiers) + ")");
    }
}

void config_parser::parse_prices(const YAML::Node& n, const std::vector<std::string>& tiers,
                                 std::map<std::string, price_entitlement>& out) {
    const std::string example = "prices: { price_pro_monthly: { tier: pro, credits: 1000 } }";
    const section s = open_map(n, "prices", "a mapping of Stripe price ids to entitlements");
    if (s.empty()) fail(n, "prices: at least one price is required, e.g. " + example);
    for (const auto& [id, entry] : s) {
        const std::string path = "prices." + id;
        if (has_control_or_space(id)) fail(entry, "prices: price id " + quote(id) + " contains spaces or control characters");
        const section fields = open_section(entry, path, {"tier", "credits", "ignore"});
        price_entitlement e;
        if (const auto it = fields.find("ignore"); it != fields.end()) {
            e.ignore = boolean(it->second, path + ".ignore");
            if (e.ignore && fields.size() > 1)
                fail(entry, path + ": ignore: true grants nothing; drop tier and credits, or drop ignore");
            if (e.ignore) {
                out.emplace(id, std::move(e));
                continue;
            }
        }
        if (!fields.count("tier") && !fields.count("credits")) {
            fail(entry, path + ": grants nothing; set tier and/or credits, e.g. { tier: pro, credits: 1000 }, "
                               "or { ignore: true } for a price that entitles to nothing");
        }
        if (const auto it = fields.find("tier"); it != fields.end()) {
            e.tier = name_string(it->second, path + ".tier", "a tier name from tiers (" + join(tiers) + ")");
            check_tier(it->second, path + ".tier", e.tier, tiers);
        }
        if (const auto it = fields.find("credits"); it != fields.end()) {
            e.credits = integer(it->second, path + ".credits", 0, std::numeric_limits<std::int64_t>::max(),
                                "a whole number >= 0");
        }
        out.emplace(id, std::move(e));
    }
}

YAML::Node config_parser::load_single_document(const std::string& text) const {
    const auto invalid = [this](const YAML::Mark& mark, const std::string& what) {
        std::string location = "config " + name_;
        if (!mark.is_null()) location += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
        return config_error(location + ": invalid YAML: " + what);
    };
    try {
        // yaml-cpp 0.7 does not consume some stray tokens at the start of a
        // document (a leading ','): it reports an endless series of empty
        // documents at the same spot, which YAML::LoadAll collects until
        // memory runs out. So: count at most two documents, treating a
        // second one that starts where the first did as the syntax error it is.
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        document_starts starts;
        if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts)) {
            const YAML::Mark first = starts.marks.at(0);
            const YAML::Mark second = starts.marks.at(1);
            if (second.pos == first.pos) {
                const std::size_t pos = static_cast<std::size_t>(std::max(second.pos, 0));
                throw invalid(second, "unexpected " + (pos < text.size() ? quote(text.substr(pos, 1)) : "end of file"));
            }
            throw config_error("config " + name_ + ":" + std::to_string(second.line + 1) +
                               ": a second YAML document starts here (after ---); expected one document");
        }
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw invalid(e.mark, e.msg);
    }
}

config config_parser::parse(const std::string& text) {
    const YAML::Node root = load_single_document(text);
    const std::string sections = "stripe, webhook, database, prices, tiers, policy, corrections, limits, output, window";
    if (root.IsNull()) {
        throw config_error("config " + name_ + ": the file is empty; expected a mapping with sections " + sections);
    }
    if (!root.IsMap()) fail(root, "expected a mapping with sections " + sections + ", got " + describe(root));

    config cfg;
    const section s = open_section(root, "", {"stripe", "webhook", "database", "prices", "tiers", "policy",
                                                  "corrections", "limits", "output", "window"});
    if (const auto it = s.find("stripe"); it != s.end()) parse_stripe(it->second, cfg.stripe);
    if (const auto it = s.find("webhook"); it != s.end()) {
        const section w = open_section(it->second, "webhook", {"secret", "forward_to", "ca_file"});
        if (const auto sec = w.find("secret"); sec != w.end())
            parse_key(sec->second, cfg.webhook.secret, "webhook.secret", "STRIPE_WEBHOOK_SECRET");
        if (const auto f = w.find("forward_to"); f != w.end()) {
            cfg.webhook.forward_to = scalar(f->second, "webhook.forward_to", "the URL of the app's webhook endpoint");
            try {
                (void)stripe::parse_forward_url(cfg.webhook.forward_to);
            } catch (const std::invalid_argument& e) {
                // The parser's messages name the replay command's flag; here it is this key.
                std::string why = e.what();
                for (const std::string flag : {"--forward-to: ", "--forward-to "})
                    if (why.rfind(flag, 0) == 0) why.erase(0, flag.size());
                fail(f->second, "webhook.forward_to: " + why);
            }
        }
        if (const auto f = w.find("ca_file"); f != w.end())
            cfg.webhook.ca_file =
                path_value(f->second, "webhook.ca_file", "the path of a PEM CA bundle").string();
    }

    // A missing top-level section has no line to point at.
    const YAML::Node no_line;
    require(s, "database", no_line, "database.path", "the app's SQLite database file");
    {
        const YAML::Node& n = s.at("database");
        const section db = open_section(n, "database", {"path", "busy_timeout"});
        require(db, "path", n, "database.path", "the app's SQLite database file");
        cfg.database.path = path_value(db.at("path"), "database.path", "the path of the app's SQLite database");
        if (const auto it = db.find("busy_timeout"); it != db.end()) {
            // SQLite takes an int of milliseconds; an hour is far beyond any useful wait.
            cfg.database.busy_timeout = duration(it->second, "database.busy_timeout", std::chrono::hours(1), "1h");
        }
    }

    // Tiers first: prices and policy are checked against them.
    if (const auto it = s.find("tiers"); it != s.end()) parse_tiers(it->second, cfg.tiers);

    if (!s.contains("prices")) {
        fail(no_line, "missing required key prices (at least one Stripe price id and what it grants)");
    }
    parse_prices(s.at("prices"), cfg.tiers, cfg.prices);

    // Held in an optional: YAML::Node's operator= assigns content, not identity.
    std::optional<YAML::Node> free_tier_node;
    if (const auto it = s.find("policy"); it != s.end()) {
        const section p = open_section(it->second, "policy",
                                       {"past_due_tier", "free_tier", "webhook_grace", "signature_failure_threshold"});
        if (const auto f = p.find("webhook_grace"); f != p.end()) {
            cfg.policy.webhook_grace = duration(f->second, "policy.webhook_grace", std::chrono::hours(24 * 7), "7d");
        }
        if (const auto f = p.find("signature_failure_threshold"); f != p.end()) {
            cfg.policy.signature_failure_threshold =
                integer(f->second, "policy.signature_failure_threshold", 1, 1'000'000, "an integer in 1..1000000");
        }
        if (const auto f = p.find("past_due_tier"); f != p.end()) {
            const std::string what = "\"keep\" or a tier from tiers (" + join(cfg.tiers) + ")";
            cfg.policy.past_due_tier = name_string(f->second, "policy.past_due_tier", what);
            if (cfg.policy.past_due_tier != "keep") {
                check_tier(f->second, "policy.past_due_tier", cfg.policy.past_due_tier, cfg.tiers);
            }
        }
        if (const auto f = p.find("free_tier"); f != p.end()) {
            free_tier_node.emplace(f->second);
            cfg.policy.free_tier = name_string(f->second, "policy.free_tier", "a tier from tiers (" + join(cfg.tiers) + ")");
        }
    }
    // Checked even when defaulted: tiers may have been redefined without "free".
    if (std::find(cfg.tiers.begin(), cfg.tiers.end(), cfg.policy.free_tier) == cfg.tiers.end()) {
        fail(free_tier_node.value_or(no_line), "policy.free_tier: tier " + quote(cfg.policy.free_tier) +
                                                   " is not in tiers (" + join(cfg.tiers) + ")" +
                                                   (free_tier_node ? "" : "; set policy.free_tier to one of them"));
    }

    if (const auto it = s.find("corrections"); it != s.end()) {
        const section c = open_section(it->second, "corrections",
                                       {"credits_not_granted", "tier_mismatch", "refund_or_dispute"});
        // `replayable`: "replay" is a third choice (re-deliver the missed event).
        auto choice = [&](const char* key, const char* yes, bool& out, bool* replay) {
            const auto f = c.find(key);
            if (f == c.end()) return;
            const std::string path = std::string("corrections.") + key;
            const std::string what =
                std::string("\"") + yes + (replay ? "\", \"replay\" or \"flag\"" : "\" or \"flag\"");
            const std::string& v = scalar(f->second, path, what);
            if (v != yes && v != "flag" && !(replay && v == "replay")) expected(f->second, path, what);
            out = v != "flag";
            if (!replay || v != "replay") return;
            *replay = true;
            if (cfg.webhook.forward_to.empty())
                fail(f->second, path + ": replay needs webhook.forward_to (the URL of the app's webhook endpoint) "
                                       "and webhook.secret");
        };
        choice("credits_not_granted", "apply", cfg.corrections.grant_missing_credits,
               &cfg.corrections.replay_missing_credits);
        choice("tier_mismatch", "apply", cfg.corrections.fix_tiers, &cfg.corrections.replay_tiers);
        choice("refund_or_dispute", "clawback", cfg.corrections.clawback_refunds, nullptr);
    }
    if (const auto it = s.find("limits"); it != s.end()) {
        const section l = open_section(it->second, "limits",
                                       {"max_corrections_per_run", "max_credits_per_run", "max_credits_per_user"});
        constexpr std::int64_t big = 1'000'000'000'000;
        if (const auto f = l.find("max_corrections_per_run"); f != l.end())
            cfg.limits.max_corrections_per_run =
                integer(f->second, "limits.max_corrections_per_run", 0, big, "an integer >= 0");
        if (const auto f = l.find("max_credits_per_run"); f != l.end())
            cfg.limits.max_credits_per_run = integer(f->second, "limits.max_credits_per_run", 0, big, "an integer >= 0");
        if (const auto f = l.find("max_credits_per_user"); f != l.end())
            cfg.limits.max_credits_per_user = integer(f->second, "limits.max_credits_per_user", 0, big, "an integer >= 0");
    }

    require(s, "output", no_line, "output.dir", "the directory reports are written to");
    {
        const YAML::Node& n = s.at("output");
        const section o = open_section(n, "output", {"dir"});
        require(o, "dir", n, "output.dir", "the directory reports are written to");
        cfg.output.dir = path_value(o.at("dir"), "output.dir", "the path of the report directory");
    }

    if (const auto it = s.find("window"); it != s.end()) {
        const section w = open_section(it->second, "window", {"default_lookback", "overlap", "slice", "slice_objects"});
        if (const auto f = w.find("slice_objects"); f != w.end())
            cfg.slice_objects = integer(f->second, "window.slice_objects", 100, 1000000, "an integer in 100..1000000");
        if (const auto f = w.find("overlap"); f != w.end())
            cfg.overlap = duration(f->second, "window.overlap", std::chrono::hours(24 * 7), "7d");
        if (const auto f = w.find("slice"); f != w.end()) {
            cfg.slice = duration(f->second, "window.slice", std::chrono::hours(24 * 30), "30d");
            if (cfg.slice < std::chrono::minutes(10))
                fail(f->second, "window.slice: at least 10m (each slice ends with a 5-minute margin)");
        }
        if (const auto f = w.find("default_lookback"); f != w.end()) {
            cfg.default_lookback =
                duration(f->second, "window.default_lookback", std::chrono::hours(24 * 3650), "3650d");
        }
    }
    return cfg;
}

fs::path directory_of(const fs::path& file) {
    std::error_code ec;
    const fs::path abs = fs::absolute(file, ec);
    return (ec ? file : abs).parent_path();
}

}  // namespace

config parse_config(const std::string& yaml_text, const std::filesystem::path& name) {
    config_parser parser(name.string(), directory_of(name));
    config cfg;
    try {
        cfg = parser.parse(yaml_text);
    } catch (const YAML::Exception& e) {
        // Only reachable through a yaml-cpp quirk; still a config error, never a crash.
        throw config_error("config " + name.string() + ": cannot interpret YAML: " + e.what());
    }
    cfg.source_file = name;
    cfg.content_hash = sha256_hex(yaml_text);
    return cfg;
}

config load_config(const std::filesystem::path& file) {
    const file_read r = read_file_bounded(file, max_config_bytes);
    if (r.error != 0)
        throw config_error("config " + file.string() + ": cannot read: " + std::strerror(r.error) +
                           " (check the --config path and the file's permissions)");
    if (r.too_large) {
        throw config_error("config " + file.string() + ": cannot read: larger than 1 MiB, not a config file");
    }
    return parse_config(r.data, file);
}

std::string read_secret(const secret_source& source, const std::string& what, const std::string& config_key) {
    const int set = !source.env.empty() + !source.file.empty() + !source.credential.empty();
    if (set != 1) {
        throw config_error(what + ": exactly one of env, file, credential must be set, found " + std::to_string(set));
    }
    if (!source.env.empty()) {
        const char* value = std::getenv(source.env.c_str());
        if (value == nullptr || *value == '\0') {
            throw config_error(what + ": environment variable " + source.env +
                               " is not set (set it, or configure " + config_key + ".file / " + config_key +
                               ".credential)");
        }
        return check_secret(value, what, "environment variable " + source.env);
    }
    if (!source.file.empty()) {
        return read_secret_file(source.file, what, "key file " + source.file);
    }
    if (!is_credential_name(source.credential)) {
        throw config_error(what + ": invalid systemd credential name " + quote(source.credential));
    }
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr || *dir == '\0') {
        throw config_error(what + ": systemd credential " + source.credential +
                           " requested but $CREDENTIALS_DIRECTORY is not set (run under systemd with LoadCredential=" +
                           source.credential + ":/path/to/key, or configure " + config_key + ".file / " +
                           config_key + ".env)");
    }
    const fs::path path = fs::path(dir) / source.credential;
    return read_secret_file(path, what,
                            "systemd credential " + source.credential + " (" + path.string() + ")");
}

}  // namespace reconciler
