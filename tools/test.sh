#!/usr/bin/env bash
# Builds everything and runs every test (the README's second command; CI runs it).
# Env: BUILD_DIR (default build), RECONCILER_SANITIZE=ON for ASan+UBSan, JOBS,
#      BUILD_TYPE (default RelWithDebInfo).
# Under the sanitizers any ASan report or UBSan finding fails the test that hit
# it, also in the reconciler processes the end-to-end tests start: they exit 23,
# which no test expects (0-4 are the product's exit codes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

# The HTML report test drives headless Chromium (python3 checks its DOM), and
# python3-jsonschema validates real reports against docs/schema/; the
# unit test runs systemd-analyze (procps gives /bin/kill for ExecReload); the
# PostgreSQL tests start a throwaway server (tools/pg_cluster.sh).
"$root/tools/install-deps.sh" chromium python3 python3-jsonschema systemd procps postgresql
if [ "${RECONCILER_SANITIZE:-OFF}" = ON ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=23:detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=23:halt_on_error=1:print_stacktrace=1}
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DRECONCILER_BUILD_TESTS=ON \
      -DRECONCILER_WERROR=ON -DRECONCILER_SANITIZE="${RECONCILER_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
