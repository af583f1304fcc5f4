// Shared by the fuzz targets: a property that fails aborts the run with a
// message, so libFuzzer saves the input as a crash (assert() would vanish
// under NDEBUG).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace reconciler::fuzz {

[[noreturn]] inline void violated(const char* property, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz property violated: %s%s%.*s\n", property, detail.empty() ? "" : ": ",
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

inline void check(bool ok, const char* property, std::string_view detail = {}) {
    if (!ok) violated(property, detail);
}

}  // namespace reconciler::fuzz
