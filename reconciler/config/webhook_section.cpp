// webhook: where replayed events go and the secret they are signed with;
// and the secret sources both stripe.key and webhook.secret are read with.
#include "config/sections.hpp"

#include "config/validate.hpp"
#include "stripe/url.hpp"

#include <stdexcept>
#include <vector>

namespace reconciler::config_detail {

void read_secret_source(const yaml_reader& r, const YAML::Node& n, secret_source& out, const std::string& path,
                        std::string_view example_env) {
    const std::string leaf = path.substr(path.rfind('.') + 1);
    if (n.IsScalar()) {
        // Never echo it: this is most likely the key itself.
        r.fail(n, path +
                    ": expected a mapping with exactly one of env, file, credential, got a plain value;"
                    " the " + leaf + " itself never goes in the config file (e.g. " + leaf + ": { env: " +
                    std::string(example_env) + " })");
    }
    const yaml_reader::section s = r.open_section(n, path, {"env", "file", "credential"});
    if (s.size() != 1) {
        std::vector<std::string> found;
        for (const auto& kv : s) found.push_back(kv.first);
        r.fail(n, path + ": expected exactly one of env, file, credential, found " +
                    (found.empty() ? std::string("none") : join(found)));
    }
    out = secret_source{};
    const auto& [which, value] = *s.begin();
    const std::string value_path = yaml_reader::child_path(path, which);
    if (value.IsScalar() && looks_like_secret(value.Scalar())) {
        r.fail(value, value_path +
                        ": this looks like a Stripe secret itself; put the secret in the environment,"
                        " a file or a systemd credential and name that here (the value is not shown)");
    }
    if (which == "env") {
        const std::string what = "an environment variable name such as " + std::string(example_env);
        const std::string& name = r.scalar(value, value_path, what);
        if (!is_env_name(name)) r.expected(value, value_path, what);
        out.env = name;
    } else if (which == "file") {
        out.file = r.path_value(value, value_path, "the path of a file holding the " + leaf).string();
    } else {
        const std::string what = "a systemd credential name (as in LoadCredential=NAME:...)";
        const std::string& name = r.scalar(value, value_path, what);
        if (!is_credential_name(name)) r.expected(value, value_path, what);
        out.credential = name;
    }
}

void read_webhook(const yaml_reader& r, const YAML::Node& n, webhook_config& out) {
    const yaml_reader::section w = r.open_section(n, "webhook", {"secret", "forward_to", "ca_file"});
    if (const auto sec = w.find("secret"); sec != w.end())
        read_secret_source(r, sec->second, out.secret, "webhook.secret", "STRIPE_WEBHOOK_SECRET");
    if (const auto f = w.find("forward_to"); f != w.end()) {
        out.forward_to = r.scalar(f->second, "webhook.forward_to", "the URL of the app's webhook endpoint");
        try {
            (void)stripe::parse_forward_url(out.forward_to);
        } catch (const std::invalid_argument& e) {
            // The parser's messages name the replay command's flag; here it is this key.
            std::string why = e.what();
            for (const std::string flag : {"--forward-to: ", "--forward-to "})
                if (why.rfind(flag, 0) == 0) why.erase(0, flag.size());
            r.fail(f->second, "webhook.forward_to: " + why);
        }
    }
    if (const auto f = w.find("ca_file"); f != w.end())
        out.ca_file = r.path_value(f->second, "webhook.ca_file", "the path of a PEM CA bundle").string();
}

}  // namespace reconciler::config_detail
