#!/usr/bin/env bash
# Builds everything and runs every test (the README's second command; CI runs it).
# Env: BUILD_DIR (default build), RECONCILER_SANITIZE=ON for ASan+UBSan, JOBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

# The HTML report test drives headless Chromium (python3 checks its DOM); the
# unit test runs systemd-analyze (procps gives /bin/kill for ExecReload).
"$root/tools/install-deps.sh" chromium python3 systemd procps
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILER_BUILD_TESTS=ON \
      -DRECONCILER_WERROR=ON -DRECONCILER_SANITIZE="${RECONCILER_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
