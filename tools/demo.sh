#!/usr/bin/env bash
# The README's first command: build, generate a demo Stripe dataset and app
# database, serve it with the bundled Stripe simulator over HTTPS on loopback,
# run `reconciler run` once against it, and show where the report is.
# Env: BUILD_DIR (default build), DEMO_DIR (default demo), DEMO_CUSTOMERS (200), DEMO_PORT (12111).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
demo=${DEMO_DIR:-$root/demo}
port=${DEMO_PORT:-12111}

"$root/tools/install-deps.sh"
# Same configuration as tools/test.sh, so running both builds everything once.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILER_BUILD_TESTS=ON \
      -DRECONCILER_WERROR=ON -DRECONCILER_SANITIZE="${RECONCILER_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target reconciler stripe-sim

sim_bin=$build/tools/stripe_sim/stripe-sim
rec_bin=$build/reconciler/reconciler

rm -rf "$demo"
mkdir -p "$demo/data" "$demo/tls"
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

"$rec_bin" migrate --config "$root/config/demo.yaml"
status=0
"$rec_bin" run --config "$root/config/demo.yaml" 2> "$demo/reconciler.log" || status=$?

echo
echo "JSON log (entitlement_change lines and more): $demo/reconciler.log"
echo "Report:                                      $demo/reports/latest/report.json"
echo "Seeded ground truth:                         $demo/data/ground_truth.json"
exit $status
