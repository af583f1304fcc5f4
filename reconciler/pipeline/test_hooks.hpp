// Seams for the crash tests (tests/e2e, docs/RELIABILITY.md). Compiled in
// only with the CMake option RECONCILER_TEST_HOOKS (on with the tests, off in
// a release build): without it, each hook is a constant that does nothing.
#pragma once

#include <chrono>

namespace reconciler::pipeline {

// A pause after each applied correction, so that a SIGKILL can land between
// two commits: RECONCILER_CRASH_TEST_APPLY_PAUSE_MS in the environment.
std::chrono::milliseconds apply_pause();

}  // namespace reconciler::pipeline
