#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/README.md) with clang in their own
# build directory and runs each one in turn for FUZZ_SECONDS.
#
#   tools/fuzz.sh                                  # CI smoke: 30 s per target
#   FUZZ_SECONDS=3600 tools/fuzz.sh                # long run: an hour per target
#   FUZZ_TARGETS="config" FUZZ_SECONDS=600 tools/fuzz.sh
#
# Env: FUZZ_SECONDS (per target, default 30), FUZZ_TARGETS (default: all five:
# stripe_object list_envelope list_page_diff config webhook_signature), FUZZ_BUILD_DIR
# (default build-fuzz), JOBS (build parallelism, default nproc).
# Each target runs as one process (one core, one target at a time: the 2-core
# machines are shared); the corpus it grows is kept in
# FUZZ_BUILD_DIR/corpus/<target> and reused by the next run; the committed
# seeds in tests/fuzz/corpus/<target> are only read. A crash, leak, sanitizer
# report, >10 s input or a violated property fails the script and leaves the
# input in FUZZ_BUILD_DIR/artifacts/<target>/ (reproduce: run the target
# executable with that file as its argument).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-stripe_object list_envelope list_page_diff config webhook_signature}
jobs=${JOBS:-$(nproc)}

# clang's libFuzzer and sanitizer runtimes are only a recommendation of clang-14.
"$root/tools/install-deps.sh" clang libclang-rt-14-dev
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRECONCILER_BUILD_TESTS=OFF -DRECONCILER_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_targets -j"$jobs"

declare -A dict=([stripe_object]=stripe_json [list_envelope]=stripe_json [list_page_diff]=stripe_json
                 [config]=config_yaml [webhook_signature]=stripe_signature)
failed=()
for t in $targets; do
  [ -n "${dict[$t]:-}" ] || { echo "fuzz.sh: unknown target $t (have: ${!dict[*]})" >&2; exit 2; }
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  log="$build/fuzz-$t.log"
  status=0
  ( cd "$build" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -dict="$root/tests/fuzz/dict/${dict[$t]}.dict" \
      -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" ) >"$log" 2>&1 ||
    status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  echo "fuzz $t: ${seconds}s, $execs execs, corpus $corpus inputs, exit $status"
  echo "$(date -u +%FT%TZ) $t seconds=$seconds execs=$execs corpus=$corpus exit=$status" >>"$build/fuzz-stats.txt"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    tail -40 "$log" >&2
    echo "fuzz $t FAILED: input saved in $build/artifacts/$t/ (full log $log)" >&2
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz.sh: failing targets: ${failed[*]}" >&2; exit 1; }
