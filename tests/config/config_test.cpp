#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config_test_support.hpp"

using namespace reconciler;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path example_file = fs::path(RECONCILER_SOURCE_DIR) / "config" / "reconciler.example.yaml";
const fs::path fixtures = fs::path(RECONCILER_FIXTURES_DIR) / "config";

// Stands in for a real key in every secret test: no message may contain it.
constexpr std::string_view fake_secret = "sk_test_51FAKEsecretVALUEdoNotLog";

using config_test::required_sections;

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

using config_test::error_of;

template <typename F>
std::string config_error_of(F&& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.what();
    }
    BOOST_ERROR("expected config_error");
    return {};
}

using config_test::check_error;

class temp_dir {
public:
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "config_test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }

    fs::path write(const std::string& name, std::string_view content, fs::perms perms = fs::perms(0600)) const {
        const fs::path p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        fs::permissions(p, perms);
        return p;
    }

private:
    fs::path path_;
};

// Sets (or unsets) an environment variable for one scope.
class scoped_env {
public:
    scoped_env(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value) {
            ::setenv(name_.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    ~scoped_env() {
        if (old_) {
            ::setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_loading)

BOOST_AUTO_TEST_CASE(example_file_parses_with_documented_values) {
    const config c = load_config(example_file);
    BOOST_TEST(c.source_file == example_file);
    BOOST_TEST(c.content_hash.size() == 64u);
    BOOST_TEST(c.stripe.base_url == "https://api.stripe.com");
    BOOST_TEST(c.stripe.api_version == "2025-03-31.basil");
    BOOST_TEST(c.stripe.key.env == "STRIPE_API_KEY");
    BOOST_TEST(c.stripe.key.file.empty());
    BOOST_TEST(c.stripe.key.credential.empty());
    BOOST_TEST(c.stripe.ca_file.empty());
    BOOST_TEST(!c.stripe.allow_plain_http_loopback);
    BOOST_TEST(!c.stripe.requests_per_second.has_value());
    BOOST_TEST(c.stripe.concurrency == 4);
    BOOST_TEST(c.stripe.request_timeout.count() == 30'000);
    BOOST_TEST(c.stripe.max_retries == 6);
    BOOST_TEST(c.stripe.account.empty());
    BOOST_TEST(c.database.path == "/var/lib/stripe-reconciler/app.db");
    BOOST_TEST(c.database.busy_timeout.count() == 10'000);
    BOOST_TEST(c.prices.size() == 3u);
    BOOST_TEST(c.prices.at("price_pro_monthly").tier == "pro");
    BOOST_TEST(c.prices.at("price_pro_monthly").credits == 1000);
    BOOST_TEST(c.prices.at("price_team_monthly").tier == "team");
    BOOST_TEST(c.prices.at("price_team_monthly").credits == 5000);
    BOOST_TEST(c.prices.at("price_credits_500").tier.empty());
    BOOST_TEST(c.prices.at("price_credits_500").credits == 500);
    BOOST_TEST((c.tiers == std::vector<std::string>{"free", "pro", "team"}));
    BOOST_TEST(c.policy.past_due_tier == "keep");
    BOOST_TEST(c.policy.free_tier == "free");
    BOOST_TEST(c.output.dir == "/var/lib/stripe-reconciler/reports");
    BOOST_TEST(c.default_lookback.count() == 24 * 3600);
}

BOOST_AUTO_TEST_CASE(example_file_documents_every_key) {
    std::ifstream in(example_file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The alternatives of stripe.key are commented out, but still documented.
    for (std::string_view key : {"stripe:", "base_url:", "api_version:", "key:", "env:", "file:", "credential:",
                                 "ca_file:", "allow_plain_http_loopback:", "requests_per_second:", "concurrency:",
                                 "request_timeout:", "max_retries:", "account:", "database:", "path:",
                                 "busy_timeout:", "prices:", "tier:", "credits:", "tiers:", "policy:",
                                 "past_due_tier:", "free_tier:", "output:", "dir:", "metrics_file:", "window:", "default_lookback:",
                                 "webhook:", "secret:", "escalations:", "routes:", "routing_key:",
                                 "max_attempts:", "deadline_seconds:"}) {
        BOOST_TEST(contains(text, key), "example lacks " << key);
    }
}

BOOST_AUTO_TEST_CASE(omitted_keys_take_the_struct_defaults) {
    const config c = load_config(fixtures / "minimal.yaml");
    const config defaults;
    BOOST_TEST(c.stripe.base_url == defaults.stripe.base_url);
    BOOST_TEST(c.stripe.api_version == defaults.stripe.api_version);
    BOOST_TEST(c.stripe.key.env == "STRIPE_API_KEY");
    BOOST_TEST(c.stripe.concurrency == defaults.stripe.concurrency);
    BOOST_TEST(c.stripe.request_timeout == defaults.stripe.request_timeout);
    BOOST_TEST(c.stripe.max_retries == defaults.stripe.max_retries);
    BOOST_TEST(!c.stripe.requests_per_second.has_value());
    BOOST_TEST(c.database.busy_timeout == defaults.database.busy_timeout);
    BOOST_TEST(c.tiers == defaults.tiers);
    BOOST_TEST(c.policy.past_due_tier == "keep");
    BOOST_TEST(c.policy.free_tier == "free");
    BOOST_TEST(c.default_lookback == defaults.default_lookback);
    BOOST_TEST(c.output.metrics_file == c.output.dir / "reconciler.prom");
}

// output.metrics_file: node_exporter's textfile directory, relative to the
// config file like every path; only *.prom (what the collector reads).
BOOST_AUTO_TEST_CASE(metrics_file_is_configurable_and_ends_in_prom) {
    const std::string rest = "database: {path: a.db}\nprices: {p: {credits: 1}}\n";
    const config c = parse_config("output: {dir: r, metrics_file: /srv/textfile/recon.prom}\n" + rest, "/etc/x/c.yaml");
    BOOST_TEST(c.output.metrics_file == "/srv/textfile/recon.prom");
    BOOST_TEST(parse_config("output: {dir: r, metrics_file: m/recon.prom}\n" + rest, "/etc/x/c.yaml").output.metrics_file ==
               "/etc/x/m/recon.prom");
    check_error("output: {dir: r, metrics_file: /srv/textfile/recon.txt}\n" + rest,
                {"output.metrics_file: must end in .prom", "/srv/textfile/recon.txt"});
}

BOOST_AUTO_TEST_CASE(a_simulator_may_be_paged_past_stripes_limit) {
    // A benchmark against the bundled simulator measures what the run can
    // do, not Stripe's budget; against Stripe the cap stays 100.
    const config c = parse_config("stripe:\n  base_url: https://127.0.0.1:12111\n  requests_per_second: 5000\n" +
                                  required_sections, "demo.yaml");
    BOOST_TEST(c.stripe.requests_per_second.value() == 5000);
}

BOOST_AUTO_TEST_CASE(every_key_can_be_set) {
    const config c = parse_config(
        "stripe:\n"
        "  base_url: http://127.0.0.1:12111/\n"
        "  api_version: 2024-06-20\n"
        "  key: { credential: stripe_key }\n"
        "  ca_file: /etc/ssl/sim-ca.pem\n"
        "  allow_plain_http_loopback: true\n"
        "  requests_per_second: 12.5\n"
        "  concurrency: 32\n"
        "  request_timeout: 1m30s\n"
        "  max_retries: 0\n"
        "  account: acct_1AbcDEF\n"
        "database: { path: /srv/app.db, busy_timeout: 2s }\n"
        "tiers: [basic, premium]\n"
        "prices:\n"
        "  price_a: { tier: premium }\n"
        "  price_b: { credits: 0, tier: basic }\n"
        "policy: { past_due_tier: basic, free_tier: basic }\n"
        "output: { dir: /srv/reports }\n"
        "window: { default_lookback: 3d }\n",
        "/etc/sr/reconciler.yaml");
    BOOST_TEST(c.stripe.base_url == "http://127.0.0.1:12111");  // trailing slash dropped
    BOOST_TEST(c.stripe.api_version == "2024-06-20");
    BOOST_TEST(c.stripe.key.credential == "stripe_key");
    BOOST_TEST(c.stripe.key.env.empty());  // the default env source is replaced, not added to
    BOOST_TEST(c.stripe.ca_file == "/etc/ssl/sim-ca.pem");
    BOOST_TEST(c.stripe.allow_plain_http_loopback);
    BOOST_TEST(c.stripe.requests_per_second.value() == 12.5);
    BOOST_TEST(c.stripe.concurrency == 32);
    BOOST_TEST(c.stripe.request_timeout.count() == 90'000);
    BOOST_TEST(c.stripe.max_retries == 0);
    BOOST_TEST(c.stripe.account == "acct_1AbcDEF");
    BOOST_TEST(c.database.busy_timeout.count() == 2'000);
    BOOST_TEST((c.tiers == std::vector<std::string>{"basic", "premium"}));
    BOOST_TEST(c.prices.at("price_a").credits == 0);
    BOOST_TEST(c.policy.past_due_tier == "basic");
    BOOST_TEST(c.policy.free_tier == "basic");
    BOOST_TEST(c.default_lookback.count() == 3 * 86'400);
}

BOOST_AUTO_TEST_CASE(content_hash_is_sha256_of_the_bytes) {
    const std::string text = "database: {path: a.db}\noutput: {dir: r}\nprices: {p: {credits: 1}}\n";
    BOOST_TEST(parse_config(text, "x.yaml").content_hash ==
               "d6ac1cb21187cb49107bba4350ac50b885543da436bc4da7b814e25a7496f432");
    // A comment changes the bytes, hence the hash, though not the meaning.
    BOOST_TEST(parse_config(text + "# note\n", "x.yaml").content_hash != parse_config(text, "x.yaml").content_hash);

    temp_dir dir;
    const fs::path file = dir.write("c.yaml", text);
    BOOST_TEST(load_config(file).content_hash == parse_config(text, "x.yaml").content_hash);
}

BOOST_AUTO_TEST_CASE(unknown_keys_name_the_path_file_and_allowed_keys) {
    check_error("stripe:\n  concurency: 4\n" + required_sections,
                {"config demo.yaml:2: unknown key stripe.concurency",
                 "allowed: base_url, api_version, key, ca_file, allow_plain_http_loopback, requests_per_second, "
                 "concurrency, request_timeout, max_retries, account",
                 "did you mean stripe.concurrency?"});
    check_error("strpe:\n  concurrency: 4\n" + required_sections,
                {"config demo.yaml:1: unknown key strpe",
                 "allowed: stripe, webhook, database, prices, tiers, policy, corrections, limits, output, window",
                 "did you mean stripe?"});
    check_error("stripe:\n  key:\n    environment: STRIPE_API_KEY\n" + required_sections,
                {"config demo.yaml:3: unknown key stripe.key.environment", "allowed: env, file, credential"});
    check_error("database:\n  path: a.db\n  timeout: 5s\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:3: unknown key database.timeout", "allowed: path, busy_timeout"});
    check_error("prices:\n  price_pro: { tier: pro, credit: 5 }\ndatabase: {path: a}\noutput: {dir: r}\n",
                {"config demo.yaml:2: unknown key prices.price_pro.credit", "allowed: tier, credits",
                 "did you mean prices.price_pro.credits?"});
    check_error("policy:\n  past_due: keep\n" + required_sections,
                {"config demo.yaml:2: unknown key policy.past_due", "allowed: past_due_tier, free_tier"});
    check_error("output:\n  directory: r\ndatabase: {path: a}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:2: unknown key output.directory", "allowed: dir"});
    check_error("window:\n  lookback: 24h\n" + required_sections,
                {"config demo.yaml:2: unknown key window.lookback", "allowed: default_lookback"});
    // No suggestion when nothing is close.
    BOOST_TEST(!contains(error_of("stripe:\n  zzzzzzzzz: 1\n" + required_sections), "did you mean"));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors) {
    check_error("stripe:\n  concurrency: 4\n  concurrency: 8\n" + required_sections,
                {"config demo.yaml:3: duplicate key stripe.concurrency (first at line 2)"});
    check_error(required_sections + "database:\n  path: b.db\n", {"duplicate key database"});
}

BOOST_AUTO_TEST_CASE(wrong_types_and_ranges_name_key_expectation_and_value) {
    check_error("stripe:\n  concurrency: many\n" + required_sections,
                {"config demo.yaml:2: stripe.concurrency: expected an integer in 1..32, got \"many\""});
    check_error("stripe:\n  concurrency: 0\n" + required_sections, {"stripe.concurrency: expected an integer in 1..32, got \"0\""});
    check_error("stripe:\n  concurrency: 33\n" + required_sections, {"got \"33\""});
    check_error("stripe:\n  concurrency: 4.0\n" + required_sections, {"got \"4.0\""});
    check_error("stripe:\n  concurrency: 0x10\n" + required_sections, {"got \"0x10\""});
    check_error("stripe:\n  concurrency: [4]\n" + required_sections, {"stripe.concurrency: expected an integer in 1..32, got a list"});
    check_error("stripe:\n  concurrency:\n" + required_sections, {"got nothing"});
    check_error("stripe:\n  max_retries: 21\n" + required_sections, {"stripe.max_retries: expected an integer in 0..20, got \"21\""});
    check_error("stripe:\n  max_retries: -1\n" + required_sections, {"got \"-1\""});
    for (std::string_view bad : {"0", "101", "fast", "nan", "inf", "-5", "1e9", "\"\""}) {
        check_error("stripe:\n  requests_per_second: " + std::string(bad) + "\n" + required_sections,
                    {"config demo.yaml:2: stripe.requests_per_second: expected \"auto\" or a number in (0, 100]"});
    }
    // Past Stripe's limit only where base_url is not Stripe (a simulator, a mock).
    check_error("stripe:\n  base_url: https://API.stripe.com\n  requests_per_second: 500\n" + required_sections,
                {"stripe.requests_per_second: expected \"auto\" or a number in (0, 100]"});
    check_error("stripe:\n  base_url: https://127.0.0.1:12111\n  requests_per_second: 20000\n" + required_sections,
                {"stripe.requests_per_second: expected \"auto\" or a number in (0, 10000] (base_url is not Stripe's)"});
    check_error("stripe:\n  request_timeout: 30\n" + required_sections,
                {"config demo.yaml:2: stripe.request_timeout: invalid duration \"30\"", "missing unit"});
    check_error("stripe:\n  request_timeout: 0s\n" + required_sections, {"stripe.request_timeout", "greater than zero"});
    check_error("stripe:\n  request_timeout: 11m\n" + required_sections,
                {"stripe.request_timeout: expected a duration of at most 10m, got \"11m\""});
    check_error("stripe:\n  allow_plain_http_loopback: yes\n" + required_sections,
                {"config demo.yaml:2: stripe.allow_plain_http_loopback: expected true or false, got \"yes\""});
    check_error("stripe:\n  api_version: latest\n" + required_sections,
                {"stripe.api_version: expected a Stripe API version such as \"2025-03-31.basil\", got \"latest\""});
    check_error("stripe:\n  api_version: \"2025-03-31.basil\\r\\nX-Evil: 1\"\n" + required_sections,
                {"stripe.api_version", "\\x0d\\x0a"});
    check_error("stripe:\n  account: 12345\n" + required_sections, {"stripe.account: expected a connected account id"});
    check_error("stripe: [1, 2]\n" + required_sections, {"config demo.yaml:1: stripe: expected a mapping with keys base_url"});
    check_error("database:\n  path: a.db\n  busy_timeout: 2h\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:3: database.busy_timeout: expected a duration of at most 1h, got \"2h\""});
    check_error("window:\n  default_lookback: forever\n" + required_sections,
                {"config demo.yaml:2: window.default_lookback: invalid duration \"forever\""});
    check_error("window:\n  default_lookback: 3651d\n" + required_sections, {"at most 3650d"});
    check_error("window:\n  slice: 5m\n" + required_sections, {"config demo.yaml:2: window.slice: at least 10m"});
    check_error("corrections:\n  credits_not_granted: replay\n" + required_sections,
                {"config demo.yaml:2: corrections.credits_not_granted: replay needs webhook.forward_to"});
    check_error("corrections:\n  refund_or_dispute: replay\n" + required_sections,
                {"corrections.refund_or_dispute: expected \"clawback\" or \"flag\""});
    check_error("webhook:\n  forward_to: http://app.example.com/webhook\n" + required_sections,
                {"config demo.yaml:2: webhook.forward_to: URL \"http://app.example.com/webhook\""});
    check_error("window:\n  slice: 31d\n" + required_sections, {"window.slice", "at most 30d"});
    check_error("window:\n  slice_objects: 10\n" + required_sections, {"window.slice_objects", "100..1000000"});
    check_error("database:\n  path: [a, b]\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:2: database.path: expected the path of the app's SQLite database, got a list"});
    check_error("- a\n- b\n", {"config demo.yaml:1: expected a mapping with sections stripe, webhook, database", "got a list"});
}

BOOST_AUTO_TEST_CASE(prices_and_tiers_are_checked) {
    const std::string db_out = "database: {path: a}\noutput: {dir: r}\n";
    check_error(db_out + "prices:\n  price_x: { tier: gold }\n",
                {"config demo.yaml:4: prices.price_x.tier: tier \"gold\" is not in tiers (free, pro, team)"});
    check_error(db_out + "prices:\n  price_x: { credits: -1 }\n",
                {"config demo.yaml:4: prices.price_x.credits: expected a whole number >= 0, got \"-1\""});
    check_error(db_out + "prices:\n  price_x: { credits: 1.5 }\n", {"got \"1.5\""});
    check_error(db_out + "prices:\n  price_x: { credits: 99999999999999999999 }\n", {"prices.price_x.credits"});
    check_error(db_out + "prices:\n  price_x: {}\n", {"config demo.yaml:4: prices.price_x: grants nothing"});
    check_error(db_out + "prices:\n  price_x: { ignore: true, tier: pro }\n",
                {"config demo.yaml:4: prices.price_x: ignore: true grants nothing; drop tier and credits"});
    check_error(db_out + "prices:\n  price_x: { ignore: false }\n", {"prices.price_x: grants nothing"});
    check_error(db_out + "prices:\n  price_x: { ignore: maybe }\n", {"prices.price_x.ignore"});
    // A price the operator knows entitles to nothing (a yearly donation, say).
    const auto cfg = parse_config(db_out + "prices:\n  price_x: { ignore: true }\n  price_pro: { tier: pro }\n", "demo.yaml");
    BOOST_TEST(cfg.prices.at("price_x").ignore);
    BOOST_TEST(cfg.prices.at("price_x").credits == 0);
    BOOST_TEST(!cfg.prices.at("price_pro").ignore);
    check_error(db_out + "prices:\n  price_x: pro\n", {"prices.price_x: expected a mapping with keys tier, credits, ignore, got \"pro\""});
    check_error(db_out + "prices: {}\n", {"config demo.yaml:3: prices: at least one price is required"});
    check_error(db_out + "prices:\n", {"prices: at least one price is required"});
    check_error(db_out, {"config demo.yaml: missing required key prices"});
    // Tiers are read before prices wherever they sit in the file.
    BOOST_CHECK_NO_THROW(parse_config(db_out + "prices: {p: {tier: gold}}\ntiers: [free, gold]\n", "demo.yaml"));
    check_error(db_out + "prices: {p: {credits: 1}}\ntiers: [free, pro, free]\n",
                {"config demo.yaml:4: tiers[2]: tier \"free\" is listed twice"});
    check_error(db_out + "prices: {p: {credits: 1}}\ntiers: [free, keep]\n", {"tiers[1]: \"keep\" is reserved"});
    check_error(db_out + "prices: {p: {credits: 1}}\ntiers: []\n", {"tiers: expected a list of tier names"});
    check_error(db_out + "prices: {p: {credits: 1}}\ntiers: [free, \"two words\"]\n", {"tiers[1]: expected a tier name"});
    check_error(db_out + "prices: {p: {credits: 1}}\npolicy:\n  past_due_tier: gold\n",
                {"config demo.yaml:5: policy.past_due_tier: tier \"gold\" is not in tiers"});
    check_error(db_out + "prices: {p: {credits: 1}}\npolicy:\n  free_tier: none\n",
                {"config demo.yaml:5: policy.free_tier: tier \"none\" is not in tiers"});
    // The default free_tier "free" must exist too once tiers are redefined.
    check_error(db_out + "prices: {p: {credits: 1}}\ntiers: [basic, pro]\n",
                {"config demo.yaml: policy.free_tier: tier \"free\" is not in tiers (basic, pro); set policy.free_tier"});
}

BOOST_AUTO_TEST_CASE(required_keys) {
    check_error("output: {dir: r}\nprices: {p: {credits: 1}}\n", {"config demo.yaml: missing required key database.path"});
    check_error("database:\n  busy_timeout: 5s\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:2: missing required key database.path"});
    check_error("database:\noutput: {dir: r}\nprices: {p: {credits: 1}}\n", {"missing required key database.path"});
    check_error("database: {path: a}\nprices: {p: {credits: 1}}\n", {"config demo.yaml: missing required key output.dir"});
    check_error("database: {path: a}\noutput: {}\nprices: {p: {credits: 1}}\n", {"missing required key output.dir"});
    check_error("database: {path: \"\"}\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"database.path: expected the path of the app's SQLite database, got \"\""});
}

// The loopback rule is the transport's (stripe/url.hpp): an IPv4-mapped
// loopback address is loopback here too (the config's own parser refused it).
BOOST_AUTO_TEST_CASE(base_url_loopback_is_the_transports_rule) {
    const config c = parse_config("stripe:\n  base_url: http://[::ffff:127.0.0.1]:12111\n"
                                  "  allow_plain_http_loopback: true\n" + required_sections, "demo.yaml");
    BOOST_TEST(c.stripe.base_url == "http://[::ffff:127.0.0.1]:12111");
    check_error("stripe:\n  base_url: http://[::ffff:10.0.0.1]:12111\n  allow_plain_http_loopback: true\n" +
                    required_sections,
                {"stripe.base_url", "unencrypted"});
}

BOOST_AUTO_TEST_CASE(base_url_must_be_https_or_opted_in_loopback) {
    check_error("stripe:\n  base_url: http://api.stripe.com\n" + required_sections,
                {"config demo.yaml:2: stripe.base_url", "unencrypted", "use https://"});
    // Opting in does not make a non-loopback host acceptable.
    check_error("stripe:\n  base_url: http://10.0.0.5:12111\n  allow_plain_http_loopback: true\n" + required_sections,
                {"stripe.base_url", "unencrypted"});
    check_error("stripe:\n  base_url: http://127.0.0.1:12111\n" + required_sections,
                {"config demo.yaml:2: stripe.base_url", "needs stripe.allow_plain_http_loopback: true"});
    for (std::string_view url : {"http://127.0.0.1:12111", "http://127.1.2.3", "http://localhost:8080",
                                 "http://[::1]:12111", "HTTP://LOCALHOST"}) {
        // The flag may come after base_url.
        const config c = parse_config("stripe:\n  base_url: " + std::string(url) +
                                          "\n  allow_plain_http_loopback: true\n" + required_sections,
                                      "demo.yaml");
        BOOST_TEST(c.stripe.base_url.starts_with("http://"), url);
    }
    BOOST_TEST(parse_config("stripe:\n  base_url: https://stripe.internal:8443/\n" + required_sections, "demo.yaml")
                   .stripe.base_url == "https://stripe.internal:8443");
    check_error("stripe:\n  base_url: https://api.stripe.com/v1\n" + required_sections,
                {"stripe.base_url", "without a path, query or fragment"});
    check_error("stripe:\n  base_url: https://api.stripe.com?x=1\n" + required_sections, {"without a path, query"});
    check_error("stripe:\n  base_url: https://user:pw@api.stripe.com\n" + required_sections,
                {"stripe.base_url", "must not contain user info"});
    check_error("stripe:\n  base_url: https://api.stripe.com:99999\n" + required_sections, {"port must be a number in 1..65535"});
    check_error("stripe:\n  base_url: \"https://api.stripe.com:\"\n" + required_sections, {"port must be a number"});
    check_error("stripe:\n  base_url: api.stripe.com\n" + required_sections,
                {"stripe.base_url: expected an https:// URL", "got \"api.stripe.com\""});
    check_error("stripe:\n  base_url: ftp://api.stripe.com\n" + required_sections, {"expected an https:// URL"});
    check_error("stripe:\n  base_url: https://\n" + required_sections, {"expected an https:// URL"});
}

BOOST_AUTO_TEST_CASE(relative_paths_resolve_against_the_file) {
    const config c = load_config(fixtures / "relative_paths.yaml");
    const fs::path dir = fs::absolute(fixtures).lexically_normal();
    BOOST_TEST(c.database.path == dir / "data" / "app.db");
    BOOST_TEST(c.output.dir == (dir / ".." / "reports").lexically_normal());
    BOOST_TEST(c.stripe.ca_file == (dir / "certs" / "ca.pem").string());
    BOOST_TEST(c.stripe.key.file == (dir / "secrets" / "stripe.key").string());

    // Absolute paths stay as they are.
    const config a = parse_config("database: {path: /srv/app.db}\noutput: {dir: /srv/r}\nprices: {p: {credits: 1}}\n",
                                  "/etc/sr/reconciler.yaml");
    BOOST_TEST(a.database.path == "/srv/app.db");
    BOOST_TEST(a.output.dir == "/srv/r");

    const config r = parse_config(required_sections, "/etc/sr/reconciler.yaml");
    BOOST_TEST(r.database.path == "/etc/sr/app.db");
    BOOST_TEST(r.output.dir == "/etc/sr/reports");

    // A relative config name resolves against the working directory, once.
    const config w = parse_config(required_sections, "conf/reconciler.yaml");
    BOOST_TEST(w.database.path == (fs::current_path() / "conf" / "app.db").lexically_normal());

    check_error("database: {path: ~/app.db}\noutput: {dir: r}\nprices: {p: {credits: 1}}\n",
                {"config demo.yaml:1: database.path", "'~' is not expanded"});
}

BOOST_AUTO_TEST_CASE(key_source_needs_exactly_one) {
    check_error("stripe:\n  key:\n    env: STRIPE_API_KEY\n    file: /etc/k\n" + required_sections,
                {"config demo.yaml:3: stripe.key: expected exactly one of env, file, credential, found env, file"});
    check_error("stripe:\n  key: {}\n" + required_sections, {"stripe.key: expected exactly one of env, file, credential, found none"});
    check_error("stripe:\n  key:\n" + required_sections, {"found none"});
    check_error("stripe:\n  key: { env: \"STRIPE-KEY\" }\n" + required_sections,
                {"stripe.key.env: expected an environment variable name", "got \"STRIPE-KEY\""});
    check_error("stripe:\n  key: { credential: ../stripe_key }\n" + required_sections,
                {"stripe.key.credential: expected a systemd credential name"});
    const config f = parse_config("stripe:\n  key: { file: stripe.key }\n" + required_sections, "/etc/sr/r.yaml");
    BOOST_TEST(f.stripe.key.file == "/etc/sr/stripe.key");
    BOOST_TEST(f.stripe.key.env.empty());
}

BOOST_AUTO_TEST_CASE(webhook_secret_source) {
    // Default: the environment, also in the example file.
    BOOST_TEST(parse_config(required_sections, "demo.yaml").webhook.secret.env == "STRIPE_WEBHOOK_SECRET");
    BOOST_TEST(load_config(example_file).webhook.secret.env == "STRIPE_WEBHOOK_SECRET");
    BOOST_TEST(parse_config("webhook:\n" + required_sections, "demo.yaml").webhook.secret.env == "STRIPE_WEBHOOK_SECRET");

    const config e = parse_config("webhook:\n  secret: { env: APP_WHSEC }\n" + required_sections, "demo.yaml");
    BOOST_TEST(e.webhook.secret.env == "APP_WHSEC");
    BOOST_TEST(e.stripe.key.env == "STRIPE_API_KEY");  // independent of stripe.key
    const config f = parse_config("webhook:\n  secret: { file: whsec.txt }\n" + required_sections, "/etc/sr/r.yaml");
    BOOST_TEST(f.webhook.secret.file == "/etc/sr/whsec.txt");
    BOOST_TEST(f.webhook.secret.env.empty());
    const config c = parse_config("webhook:\n  secret: { credential: webhook_secret }\n" + required_sections, "demo.yaml");
    BOOST_TEST(c.webhook.secret.credential == "webhook_secret");

    check_error("webhook:\n  secret:\n    env: A\n    file: /etc/w\n" + required_sections,
                {"config demo.yaml:3: webhook.secret: expected exactly one of env, file, credential, found env, file"});
    check_error("webhook:\n  secert: { env: A }\n" + required_sections,
                {"config demo.yaml:2: unknown key webhook.secert", "allowed: secret", "did you mean webhook.secret?"});
    check_error("webhook:\n  secret: { env: \"WH-SECRET\" }\n" + required_sections,
                {"webhook.secret.env: expected an environment variable name"});

    // A secret pasted into the config is refused and never echoed.
    const std::string whsec = "whsec_FAKEwebhookSECRETdoNotLog";
    for (const std::string& yaml : {"webhook:\n  secret: " + whsec + "\n", "webhook:\n  secret: { env: " + whsec + " }\n",
                                    "webhook:\n  secret: { file: " + whsec + " }\n"}) {
        const std::string msg = error_of(yaml + required_sections);
        BOOST_TEST(contains(msg, "config demo.yaml:2: webhook.secret"), msg);
        BOOST_TEST(!contains(msg, "FAKEwebhook"), msg);
    }

    // Reading it: the hint names webhook.secret, never the value.
    const std::string var = "RECONCILER_TEST_WEBHOOK_SECRET";
    {
        scoped_env env(var, std::nullopt);
        BOOST_TEST(config_error_of([&] {
                       read_secret({.env = var, .file = {}, .credential = {}}, "webhook secret", "webhook.secret");
                   }) == "webhook secret: environment variable " + var +
                             " is not set (set it, or configure webhook.secret.file / webhook.secret.credential)");
    }
    {
        scoped_env env(var, whsec + "\n");
        BOOST_TEST(read_secret({.env = var, .file = {}, .credential = {}}, "webhook secret", "webhook.secret") == whsec);
    }
}

BOOST_AUTO_TEST_CASE(a_key_pasted_into_the_config_is_never_echoed) {
    const std::string secret(fake_secret);
    for (const std::string& yaml : {
             "stripe:\n  key: " + secret + "\n",
             "stripe:\n  key: { env: " + secret + " }\n",
             "stripe:\n  key: { file: " + secret + " }\n",
             "stripe:\n  key: { credential: " + secret + " }\n",
         }) {
        const std::string msg = error_of(yaml + required_sections);
        BOOST_TEST(contains(msg, "config demo.yaml:2: stripe.key"), msg);
        BOOST_TEST(!contains(msg, secret), msg);
        BOOST_TEST(!contains(msg, "FAKEsecret"), msg);
    }
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_carry_line_and_column) {
    const std::string msg = error_of("stripe:\n  concurrency: 4\n  base_url: [unclosed\n" + required_sections);
    BOOST_TEST(contains(msg, "config demo.yaml:"), msg);
    BOOST_TEST(contains(msg, "invalid YAML"), msg);
    // line:column, both numbers
    BOOST_TEST(std::count(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(msg.find(": invalid")), ':') == 2, msg);

    check_error("a: b\n\tc: d\n", {"config demo.yaml:", "invalid YAML"});
    check_error("stripe: {concurrency: 4\n", {"config demo.yaml:", "invalid YAML"});
    check_error("", {"config demo.yaml: the file is empty"});
    check_error("# only a comment\n", {"the file is empty"});
    check_error(required_sections + "---\n" + required_sections, {"config demo.yaml:7: a second YAML document starts here"});
    check_error("just a string\n", {"config demo.yaml:1: expected a mapping with sections", "got \"just a string\""});
    check_error("stripe: *undefined_alias\n", {"config demo.yaml:", "invalid YAML"});
}

BOOST_AUTO_TEST_CASE(unreadable_files) {
    const std::string hint = " (check the --config path and the file's permissions)";
    const std::string missing = (fixtures / "does-not-exist.yaml").string();
    BOOST_TEST(config_error_of([&] { load_config(missing); }) ==
               "config " + missing + ": cannot read: No such file or directory" + hint);
    BOOST_TEST(config_error_of([&] { load_config(fixtures); }) ==
               "config " + fixtures.string() + ": cannot read: Is a directory" + hint);
    if (::geteuid() != 0) {  // root reads whatever the mode says
        temp_dir dir;
        const fs::path file = dir.write("locked.yaml", required_sections, fs::perms::none);
        BOOST_TEST(config_error_of([&] { load_config(file); }) ==
                   "config " + file.string() + ": cannot read: Permission denied" + hint);
    }
}

BOOST_AUTO_TEST_CASE(only_config_error_escapes_on_garbage) {
    // The fuzzer's contract in miniature: mutate the example and make sure
    // every outcome is a config or a config_error, never a crash or another type.
    std::ifstream in(example_file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    const std::string alphabet = ":-{}[]#&*!|>'\"%@`,? \n\t0123456789abcxyz~.\\";
    int errors = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string mutated = text;
        for (int m = 0; m < 1 + static_cast<int>(next() % 4); ++m) {
            const std::size_t pos = next() % mutated.size();
            switch (next() % 3) {
                case 0: mutated.erase(pos, 1 + next() % 8); break;
                case 1: mutated.insert(pos, 1, alphabet[next() % alphabet.size()]); break;
                default: mutated[pos] = static_cast<char>(next() % 256); break;
            }
        }
        try {
            parse_config(mutated, "fuzz.yaml");
        } catch (const config_error& e) {
            ++errors;
            BOOST_REQUIRE(std::string(e.what()).starts_with("config fuzz.yaml"));
        }
    }
    BOOST_TEST(errors > 0);
    for (const std::string& odd : {std::string("\0\0\0", 3), std::string(5000, '['), std::string(5000, '{'),
                                   std::string("stripe: !!binary aGVsbG8=\n"), std::string("? [a]\n: b\n"),
                                   std::string("&a [*a]\n"), std::string("\xff\xfe\x00s", 4)}) {
        BOOST_CHECK_THROW(parse_config(odd, "fuzz.yaml"), config_error);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(from_environment) {
    const std::string var = "RECONCILER_TEST_STRIPE_KEY";
    {
        scoped_env env(var, std::string(fake_secret) + "\n");
        BOOST_TEST(read_secret({.env = var, .file = {}, .credential = {}}, "stripe key") == fake_secret);
    }
    {
        scoped_env env(var, std::nullopt);
        BOOST_TEST(config_error_of([&] { read_secret({.env = var, .file = {}, .credential = {}}, "stripe key"); }) ==
                   "stripe key: environment variable " + var +
                       " is not set (set it, or configure stripe.key.file / stripe.key.credential)");
    }
    {
        scoped_env env(var, "");
        BOOST_TEST(contains(config_error_of([&] { read_secret({.env = var, .file = {}, .credential = {}}, "stripe key"); }),
                            "is not set"));
    }
    {
        scoped_env env(var, "sk_test_abc def" + std::string(fake_secret));
        const std::string msg =
            config_error_of([&] { read_secret({.env = var, .file = {}, .credential = {}}, "stripe key"); });
        BOOST_TEST(contains(msg, "whitespace or control characters"), msg);
        BOOST_TEST(!contains(msg, fake_secret), msg);
    }
}

BOOST_AUTO_TEST_CASE(from_file) {
    temp_dir dir;
    const secret_source src{.env = {}, .file = dir.write("k", std::string(fake_secret) + "\r\n\n").string(), .credential = {}};
    BOOST_TEST(read_secret(src, "stripe key") == fake_secret);

    const fs::path group_readable = dir.write("g", fake_secret, fs::perms(0640));
    BOOST_TEST(read_secret({.env = {}, .file = group_readable.string(), .credential = {}}, "stripe key") == fake_secret);

    const fs::path world = dir.write("w", fake_secret, fs::perms(0644));
    const std::string world_msg =
        config_error_of([&] { read_secret({.env = {}, .file = world.string(), .credential = {}}, "stripe key"); });
    BOOST_TEST(contains(world_msg, "stripe key: refusing key file " + world.string()), world_msg);
    BOOST_TEST(contains(world_msg, "mode 0644"), world_msg);
    BOOST_TEST(contains(world_msg, "chmod 600 " + world.string()), world_msg);
    BOOST_TEST(!contains(world_msg, fake_secret), world_msg);

    const fs::path empty = dir.write("e", "\n\n");
    BOOST_TEST(config_error_of([&] { read_secret({.env = {}, .file = empty.string(), .credential = {}}, "stripe key"); }) ==
               "stripe key: key file " + empty.string() + " is empty");

    const fs::path two_lines = dir.write("two", std::string(fake_secret) + "\nsecond line\n");
    const std::string two_msg =
        config_error_of([&] { read_secret({.env = {}, .file = two_lines.string(), .credential = {}}, "stripe key"); });
    BOOST_TEST(contains(two_msg, "whitespace or control characters"), two_msg);
    BOOST_TEST(!contains(two_msg, fake_secret), two_msg);

    const std::string missing = (dir.path() / "nope").string();
    BOOST_TEST(config_error_of([&] { read_secret({.env = {}, .file = missing, .credential = {}}, "stripe key"); }) ==
               "stripe key: cannot read key file " + missing + ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(from_systemd_credential) {
    temp_dir dir;
    dir.write("stripe_key", std::string(fake_secret) + "\n", fs::perms(0400));
    const secret_source src{.env = {}, .file = {}, .credential = "stripe_key"};
    {
        scoped_env creds("CREDENTIALS_DIRECTORY", dir.path().string());
        BOOST_TEST(read_secret(src, "stripe key") == fake_secret);
        const std::string msg = config_error_of([&] {
            read_secret({.env = {}, .file = {}, .credential = "other"}, "stripe key");
        });
        BOOST_TEST(contains(msg, "stripe key: cannot read systemd credential other (" +
                                     (dir.path() / "other").string() + "): No such file or directory"),
                   msg);
    }
    {
        scoped_env creds("CREDENTIALS_DIRECTORY", std::nullopt);
        const std::string msg = config_error_of([&] { read_secret(src, "stripe key"); });
        BOOST_TEST(contains(msg, "stripe key: systemd credential stripe_key requested but $CREDENTIALS_DIRECTORY is not set"), msg);
        BOOST_TEST(contains(msg, "LoadCredential=stripe_key:"), msg);
    }
}

BOOST_AUTO_TEST_CASE(source_must_name_exactly_one) {
    BOOST_TEST(contains(config_error_of([] { read_secret({.env = {}, .file = {}, .credential = {}}, "stripe key"); }),
                        "stripe key: exactly one of env, file, credential must be set, found 0"));
    BOOST_TEST(contains(config_error_of([] { read_secret({.env = "A", .file = "/b", .credential = {}}, "stripe key"); }),
                        "found 2"));
    BOOST_TEST(contains(config_error_of([] { read_secret({.env = {}, .file = {}, .credential = "../x"}, "stripe key"); }),
                        "invalid systemd credential name"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_corrections_and_limits)

BOOST_AUTO_TEST_CASE(policies_and_caps_parse_and_refuse_nonsense) {
    const std::string base = "database: {path: app.db}\noutput: {dir: out}\nprices: {price_a: {tier: pro, credits: 10}}\n";
    auto cfg = parse_config(base + "corrections: {credits_not_granted: flag, refund_or_dispute: flag}\n"
                                   "limits: {max_corrections_per_run: 5, max_credits_per_user: 7}\n"
                                   "policy: {webhook_grace: 2h, signature_failure_threshold: 9}\n",
                            "c.yaml");
    BOOST_TEST(!cfg.corrections.grant_missing_credits);
    BOOST_TEST(cfg.corrections.fix_tiers);
    BOOST_TEST(!cfg.corrections.clawback_refunds);
    BOOST_TEST(cfg.limits.max_corrections_per_run == 5);
    BOOST_TEST(cfg.limits.max_credits_per_user == 7);
    BOOST_TEST(cfg.policy.webhook_grace.count() == 7200);
    BOOST_TEST(cfg.policy.signature_failure_threshold == 9);
    auto msg = config_error_of([&] { parse_config(base + "corrections: {tier_mismatch: clawback}\n", "c.yaml"); });
    BOOST_TEST(contains(msg, "corrections.tier_mismatch"));
    msg = config_error_of([&] { parse_config(base + "limits: {max_credits_per_run: -1}\n", "c.yaml"); });
    BOOST_TEST(contains(msg, "limits.max_credits_per_run"));
    msg = config_error_of([&] { parse_config(base + "corrections: {balance_drift: apply}\n", "c.yaml"); });
    BOOST_TEST(contains(msg, "unknown key corrections.balance_drift"));
}

// Issue 19: the ceilings on what one Stripe invoice may ask for.
BOOST_AUTO_TEST_CASE(invoice_ceilings_default_parse_and_refuse_nonsense) {
    const std::string base = "database: {path: app.db}\noutput: {dir: out}\nprices: {price_a: {tier: pro, credits: 10}}\n";
    auto cfg = parse_config(base, "c.yaml");
    BOOST_TEST(cfg.policy.max_line_quantity == 10'000);
    BOOST_TEST(cfg.policy.max_credits_per_invoice == 1'000'000);
    cfg = parse_config(base + "policy: {max_line_quantity: 50, max_credits_per_invoice: 2000}\n", "c.yaml");
    BOOST_TEST(cfg.policy.max_line_quantity == 50);
    BOOST_TEST(cfg.policy.max_credits_per_invoice == 2000);
    for (const char* bad : {"policy: {max_line_quantity: 0}\n", "policy: {max_line_quantity: -5}\n",
                            "policy: {max_line_quantity: 1000000001}\n", "policy: {max_credits_per_invoice: 0}\n",
                            "policy: {max_credits_per_invoice: 1000000000001}\n",
                            "policy: {max_credits_per_invoice: lots}\n"}) {
        const auto msg = config_error_of([&] { parse_config(base + bad, "c.yaml"); });
        BOOST_TEST((contains(msg, "policy.max_line_quantity") || contains(msg, "policy.max_credits_per_invoice")), msg);
    }
}

BOOST_AUTO_TEST_SUITE_END()
