#include "pipeline/test_hooks.hpp"

#include <algorithm>
#include <cstdlib>

namespace reconciler::pipeline {

std::chrono::milliseconds apply_pause() {
#if defined(RECONCILER_TEST_HOOKS)
    const char* v = std::getenv("RECONCILER_CRASH_TEST_APPLY_PAUSE_MS");
    return std::chrono::milliseconds(v ? std::max(0, std::atoi(v)) : 0);
#else
    return std::chrono::milliseconds(0);
#endif
}

}  // namespace reconciler::pipeline
