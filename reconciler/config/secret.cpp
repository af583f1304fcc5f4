#include "config/secret.hpp"

#include "config/file_read.hpp"
#include "config/validate.hpp"
#include "core/text.hpp"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace reconciler {
namespace {

namespace fs = std::filesystem;
using namespace config_detail;

// A Stripe key is ~110 bytes; the bound stops a path such as /dev/zero from
// being read forever.
constexpr std::size_t max_secret_bytes = 64 << 10;

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

}  // namespace

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
