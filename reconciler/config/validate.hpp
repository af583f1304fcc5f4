// What names, paths and secrets in the config may look like, and the small
// text helpers its messages use.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace reconciler::config_detail {

// Bytes <= 0x20 or DEL: never in a name, a URL or a header value.
bool has_control_or_space(std::string_view s);
// Bytes < 0x20 or DEL: never in a path.
bool has_control(std::string_view s);
// A key pasted where a *name* of a key belongs (env variable, file,
// credential) must not travel on into "variable sk_live_... is not set".
bool looks_like_secret(std::string_view s);
// [A-Za-z_][A-Za-z0-9_]*
bool is_env_name(std::string_view s);
// A single path component under $CREDENTIALS_DIRECTORY.
bool is_credential_name(std::string_view s);

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace reconciler::config_detail
