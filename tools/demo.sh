#!/usr/bin/env bash
# The README's first command: build, generate a demo Stripe dataset and app
# database, serve it with the bundled Stripe simulator over HTTPS on loopback,
# run `reconciler run` once against it, and show where the report is.
# Env: BUILD_DIR (default build), DEMO_DIR (default demo), DEMO_CUSTOMERS (200),
#      DEMO_PORT (12111; 0 picks a free one),
#      DEMO_API_VERSION (the Stripe-Version pinned: 2025-03-31.basil, or 2024-06-20),
#      RECONCILER_BIN and STRIPE_SIM_BIN (both set: use these binaries, install and build nothing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
demo=${DEMO_DIR:-$root/demo}
port=${DEMO_PORT:-12111}
api_version=${DEMO_API_VERSION:-2025-03-31.basil}

if [ -n "${RECONCILER_BIN:-}" ] && [ -n "${STRIPE_SIM_BIN:-}" ]; then
  rec_bin=$RECONCILER_BIN
  sim_bin=$STRIPE_SIM_BIN
else
  "$root/tools/install-deps.sh"
  # Same configuration as tools/test.sh, so running both builds everything once.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILER_BUILD_TESTS=ON \
        -DRECONCILER_WERROR=ON -DRECONCILER_SANITIZE="${RECONCILER_SANITIZE:-OFF}" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target reconciler stripe-sim
  sim_bin=$build/tools/stripe_sim/stripe-sim
  rec_bin=$build/reconciler/reconciler
fi

rm -rf "$demo"
mkdir -p "$demo/data" "$demo/tls"
demo=$(cd "$demo" && pwd)
# A throwaway test-mode key shared by the simulator and the reconciler, via
# the environment only (never argv).
export STRIPE_API_KEY="sk_test_demo_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"

"$sim_bin" generate --out "$demo/data" --app-db "$demo/app.db" --customers "${DEMO_CUSTOMERS:-200}" --seed 42
"$sim_bin" serve --data "$demo/data" --port "$port" --tls-dir "$demo/tls" --port-file "$demo/sim.port" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -s "$demo/sim.port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "demo: the simulator failed to start (is port $port free?)" >&2; exit 1; }
  sleep 0.1
done
[ -s "$demo/sim.port" ] || { echo "demo: the simulator did not report its port within 10 s" >&2; exit 1; }
port=$(tr -d '\n' < "$demo/sim.port")

# config/demo.yaml with the port the simulator listens on, the pinned
# version, and the demo directory's paths.
sed -e "s|https://127.0.0.1:12111|https://127.0.0.1:$port|" \
    -e "s|api_version: .*|api_version: \"$api_version\"|" \
    -e "s|\.\./demo/|$demo/|g" "$root/config/demo.yaml" > "$demo/reconciler.yaml"

"$rec_bin" migrate --config "$demo/reconciler.yaml"
status=0
"$rec_bin" run --config "$demo/reconciler.yaml" 2> "$demo/reconciler.log" || status=$?

echo
echo "Stripe-Version pinned:                       $api_version"
echo "JSON log (entitlement_change lines and more): $demo/reconciler.log"
echo "Data for review:                             $demo/reports/latest/report.json"
# The demo's claim, checked rather than said: the run's findings against what
# the generator seeded (kind, subject and the clawbacks' numbers).
[ "$status" -ne 0 ] || "$sim_bin" compare --truth "$demo/data/ground_truth.json" \
                                        --report "$demo/reports/latest/report.json" || status=$?
echo "Open the report:                             $demo/reports/latest/report.html"
exit $status
