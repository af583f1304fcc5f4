// Text helpers for messages.
#pragma once

#include <string>
#include <string_view>

namespace reconciler {

// Shows a value from a file or command line a human typed: quoted, control
// characters escaped, at most 80 characters, so an error stays one line.
std::string quote(std::string_view s);

}  // namespace reconciler
