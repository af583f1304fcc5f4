#!/usr/bin/env bash
# The README's first command: build, generate a demo Stripe dataset and app
# database, serve it with the bundled Stripe simulator over HTTPS on loopback,
# run `reconciler run` once against it, and show where the report is.
# Env: BUILD_DIR (default build), DEMO_DIR (default demo), DEMO_CUSTOMERS (200),
#      DEMO_PORT (12111; 0 picks a free one),
#      DEMO_API_VERSION (the Stripe-Version pinned: 2025-03-31.basil, or 2024-06-20),
#      RECONCILER_BIN, STRIPE_SIM_BIN and DELIVERY_RECEIVER_BIN (all set: use these binaries,
#      install and build nothing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
demo=${DEMO_DIR:-$root/demo}
port=${DEMO_PORT:-12111}
api_version=${DEMO_API_VERSION:-2025-03-31.basil}

if [ -n "${RECONCILER_BIN:-}" ] && [ -n "${STRIPE_SIM_BIN:-}" ] && [ -n "${DELIVERY_RECEIVER_BIN:-}" ]; then
  rec_bin=$RECONCILER_BIN
  sim_bin=$STRIPE_SIM_BIN
  rx_bin=$DELIVERY_RECEIVER_BIN
else
  "$root/tools/install-deps.sh"
  # Same configuration as tools/test.sh, so running both builds everything once.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILER_BUILD_TESTS=ON \
        -DRECONCILER_WERROR=ON -DRECONCILER_SANITIZE="${RECONCILER_SANITIZE:-OFF}" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target reconciler stripe-sim delivery-receiver
  sim_bin=$build/tools/stripe_sim/stripe-sim
  rec_bin=$build/reconciler/reconciler
  rx_bin=$build/tools/test_receiver/delivery-receiver
fi

rm -rf "$demo"
mkdir -p "$demo/data" "$demo/tls" "$demo/receiver"
demo=$(cd "$demo" && pwd)
# A throwaway test-mode key shared by the simulator and the reconciler, via
# the environment only (never argv).
export STRIPE_API_KEY="sk_test_demo_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
# The escalation routes' credentials: files only their owner reads (the
# config names the files); the receiver gets the webhook secret from its environment.
mkdir -p "$demo/secrets"
chmod 700 "$demo/secrets"
(umask 077
 echo "demo$(od -An -tx1 -N14 /dev/urandom | tr -d ' \n')" > "$demo/secrets/pagerduty_routing_key"
 echo "whsec_demo_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" > "$demo/secrets/webhook_secret")
DEMO_WEBHOOK_SECRET=$(cat "$demo/secrets/webhook_secret")
export DEMO_WEBHOOK_SECRET

"$sim_bin" generate --out "$demo/data" --app-db "$demo/app.db" --customers "${DEMO_CUSTOMERS:-200}" --seed 42
"$sim_bin" serve --data "$demo/data" --port "$port" --tls-dir "$demo/tls" --port-file "$demo/sim.port" &
sim_pid=$!
# The teams' receiver: escalations are delivered to it (PagerDuty Events v2
# and a signed webhook), and it records each request.
"$rx_bin" --tls-dir "$demo/receiver" --port 0 --port-file "$demo/receiver.port" \
          --log "$demo/receiver/requests.jsonl" --webhook-secret-env DEMO_WEBHOOK_SECRET \
          --rule /v2/enqueue=202 > "$demo/receiver.log" 2>&1 &
rx_pid=$!
trap 'kill "$sim_pid" "$rx_pid" 2>/dev/null || true; wait "$sim_pid" "$rx_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -s "$demo/sim.port" ] && [ -s "$demo/receiver.port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "demo: the simulator failed to start (is port $port free?)" >&2; exit 1; }
  kill -0 "$rx_pid" 2>/dev/null || { echo "demo: delivery-receiver failed to start: $(cat "$demo/receiver.log")" >&2; exit 1; }
  sleep 0.1
done
[ -s "$demo/sim.port" ] || { echo "demo: the simulator did not report its port within 10 s" >&2; exit 1; }
[ -s "$demo/receiver.port" ] || { echo "demo: delivery-receiver did not report its port within 10 s" >&2; exit 1; }
port=$(tr -d '\n' < "$demo/sim.port")
rx_port=$(tr -d '\n' < "$demo/receiver.port")

# config/demo.yaml with the port the simulator listens on, the pinned
# version, and the demo directory's paths.
sed -e "s|https://127.0.0.1:12111|https://127.0.0.1:$port|" \
    -e "s|https://127.0.0.1:12112|https://127.0.0.1:$rx_port|" \
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
delivered=$(grep -c '"answer":20[02]' "$demo/receiver/requests.jsonl" 2>/dev/null || true)
echo "Escalations delivered to the teams' receiver: ${delivered:-0} (PagerDuty and a signed webhook): $demo/receiver/requests.jsonl"
echo "Open the report:                             $demo/reports/latest/report.html"
exit $status
