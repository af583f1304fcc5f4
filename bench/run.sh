#!/usr/bin/env bash
# Benchmark: `reconciler run` against the bundled simulator on loopback, and
# the stripe-node baseline (autoPagingEach, fetch only) paging the same
# simulator in the same session. Prints a table; raw numbers are kept in
# $OUT/results.jsonl. A benchmark, not a test: nothing here asserts.
#
#   bench/run.sh                         # 10k and 100k events, 100 ms and 0 ms latency, twice each
#   SIZES="10k 100k 1m" REPEAT=1 bench/run.sh
#   LATENCIES="100" bench/run.sh         # only the rate-limited case
#
# Settings (environment):
#   SIZES        events per dataset: 10k, 100k, 1m or a plain number   (default "10k 100k")
#   LATENCIES    simulator latency per request, ms                      (default "100 0")
#   REPEAT       runs of each configuration                              (default 2)
#   BUDGET       stripe.requests_per_second; the simulator's own limit
#                is set to the same, so our limiter is what is measured  (default 100)
#   BUDGET_0MS   the same at 0 ms latency, where the issue compares our whole
#                run with stripe-node's unlimited fetch: "none" lifts both our
#                budget (10000/s, allowed against a non-Stripe base_url) and
#                the simulator's limit, so CPU and the simulator set the pace;
#                a number keeps a budget                                 (default none)
#   CONCURRENCY  stripe.concurrency: at 100 ms and 100/s, 10 in flight use the
#                budget; 12 leaves headroom, more only adds partial pages (default 12)
#   SLICE        window.slice                                            (default: the config default)
#   SLICE_OBJECTS window.slice_objects                                   (default: the config default)
#   BASELINE     0 skips stripe-node                                     (default 1)
#   NODE_RATE_LIMIT  the simulator's limit while stripe-node runs; auto =
#                BUDGET with latency, unlimited (0) without: stripe-node does
#                not retry a 429 that lacks Stripe-Should-Retry, and at 0 ms it
#                outruns 100/s and fails                              (default auto)
#   BUILD_DIR    Release build directory                                 (default build-bench)
#   OUT          datasets, configs, run directories                     (default bench/out)
#   KEEP_DB      1 keeps each run's SQLite app database in its run directory  (default 0)
#   LABEL        appended to the session id in results.jsonl (e.g. "after-refactor")
#   STORE        sqlite, or postgres: the app database on a throwaway PostgreSQL
#                server (tools/pg_cluster.sh in $OUT/pg, stopped at the end), a
#                fresh database a run loaded by tools/pg_load_app.sh (not timed)
#                                                                        (default sqlite)
# Datasets are generated once per size and reused (the generator is
# deterministic: fixed seed and --now).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
out=${OUT:-$root/bench/out}
sizes=${SIZES:-10k 100k}
latencies=${LATENCIES:-100 0}
repeat=${REPEAT:-2}
budget=${BUDGET:-100}
concurrency=${CONCURRENCY:-12}
slice=${SLICE:-}
slice_objects=${SLICE_OBJECTS:-}
baseline=${BASELINE:-1}
store=${STORE:-sqlite}
now=1760000000          # the generator's "now": fixed, so datasets are reproducible
window_hours=672        # 28 days: the whole window lies inside Stripe's 30-day event retention
since=$((now - window_hours * 3600))
events_per_customer=3.45  # measured with the generator's defaults

log() { echo "bench: $*" >&2; }

# ----------------------------------------------------------------- build
log "building Release into $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRECONCILER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target reconciler stripe-sim bench-rusage >/dev/null
sim_bin=$build/tools/stripe_sim/stripe-sim
rec_bin=$build/reconciler/reconciler
rusage=$build/bench/bench-rusage

if [ "$baseline" = 1 ]; then
  if [ ! -d "$root/bench/node/node_modules/stripe" ]; then
    log "installing stripe-node (bench/node/package-lock.json)"
    (cd "$root/bench/node" && npm ci --no-audit --no-fund >/dev/null)
  fi
  node_version=$(node --version)
fi

mkdir -p "$out"
results=$out/results.jsonl
session=$(date -u +%Y%m%dT%H%M%SZ)${LABEL:+-$LABEL}
export STRIPE_API_KEY="sk_test_bench_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"

events_of() {
  case $1 in
    *k) echo $(( ${1%k} * 1000 )) ;;
    *m) echo $(( ${1%m} * 1000000 )) ;;
    *) echo "$1" ;;
  esac
}

# ------------------------------------------------------------- datasets
dataset() {  # size -> generates $out/data-<size> once
  local size=$1 dir=$out/data-$1
  if [ -f "$dir/done" ]; then return; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  local customers
  customers=$(python3 -c "import math; print(max(30, math.ceil($(events_of "$size") / $events_per_customer)))")
  log "generating $size events ($customers customers) into $dir"
  "$rusage" "$dir/generate.rusage.json" -- "$sim_bin" generate --out "$dir/data" --app-db "$dir/app.db" \
    --customers "$customers" --now "$now" --window-hours "$window_hours" > "$dir/generate.txt"
  cat "$dir/generate.txt" >&2
  touch "$dir/done"
}

# ------------------------------------------------------------ simulator
sim_pid=
stop_sim() {
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
    sim_pid=
  fi
}
pg_dir=
stop_all() {
  stop_sim
  if [ -n "$pg_dir" ]; then "$root/tools/pg_cluster.sh" stop "$pg_dir" || true; fi
}
trap stop_all EXIT
if [ "$store" = postgres ]; then
  pg_dir=$out/pg
  log "starting a PostgreSQL server in $pg_dir"
  "$root/tools/pg_cluster.sh" start "$pg_dir"
fi

# The run's app database: the pristine SQLite file copied, or a fresh
# PostgreSQL database loaded with the same rows. Prints the database: section.
app_database() {  # run_dir size
  local dir=$1 size=$2
  if [ "$store" != postgres ]; then
    cp "$out/data-$size/app.db" "$dir/app.db"
    printf 'database:\n  path: app.db\n'
    return
  fi
  local name port
  name=bench_$(basename "$(dirname "$dir")" | tr -c 'a-zA-Z0-9\n' _)_$(basename "$dir" | tr -c 'a-zA-Z0-9\n' _)
  name=$(echo "$name" | tr 'A-Z' 'a-z' | cut -c1-60)
  port=$(cat "$pg_dir/port")
  "$root/tools/pg_load_app.sh" "$out/data-$size/app.db" "$pg_dir" "$name" >&2
  (umask 077; cp "$pg_dir/password" "$dir/db.password")
  printf 'database:\n  url: "postgresql://reconciler@127.0.0.1:%s/%s?sslmode=disable"\n  password: { file: db.password }\n' \
    "$port" "$name"
}

# write_config run_dir port budget database_section
source "$root/bench/write_config.sh"

start_sim() {  # data_dir latency_ms run_dir rate_limit name
  local data=$1 latency=$2 dir=$3 rate=$4 name=$5
  rm -f "$dir/sim.port"
  "$rusage" "$dir/$name.rusage.json" -- "$sim_bin" serve --data "$data" --tls-dir "$dir/tls" \
    --port-file "$dir/sim.port" --latency-ms "$latency" --rate-limit "$rate" > "$dir/$name.txt" 2> "$dir/$name.err" &
  sim_pid=$!
  while [ ! -s "$dir/sim.port" ]; do
    kill -0 "$sim_pid" 2>/dev/null || { log "the simulator failed: $(cat "$dir/$name.err")"; exit 1; }
    sleep 0.2
  done
  sim_port=$(cat "$dir/sim.port")
}

# ----------------------------------------------------------------- runs
for size in $sizes; do
  dataset "$size"
  data=$out/data-$size/data
  for latency in $latencies; do
    for rep in $(seq "$repeat"); do
      dir=$out/runs/$session/$size-${latency}ms-$rep
      mkdir -p "$dir"
      database=$(app_database "$dir" "$size")
      run_budget=$budget; sim_rate=$budget
      if [ "$latency" = 0 ]; then
        case ${BUDGET_0MS:-none} in
          none) run_budget=10000; sim_rate=0 ;;
          *) run_budget=$BUDGET_0MS; sim_rate=$BUDGET_0MS ;;
        esac
      fi
      start_sim "$data" "$latency" "$dir" "$sim_rate" sim
      write_config "$dir" "$sim_port" "$run_budget" "$database"
      "$rec_bin" migrate --config "$dir/reconciler.yaml" 2> "$dir/migrate.log" >/dev/null
      log "$size events, ${latency} ms latency, run $rep: reconciler"
      status=0
      "$rusage" "$dir/ours.rusage.json" -- "$rec_bin" run --config "$dir/reconciler.yaml" \
        --since "$since" --until "$now" > "$dir/ours.out" 2> "$dir/ours.log" || status=$?
      [ "$status" = 0 ] || log "reconciler exited $status (see $dir/ours.log)"
      if [ "$baseline" = 1 ]; then
        node_rate=${NODE_RATE_LIMIT:-auto}
        if [ "$node_rate" = auto ]; then
          if [ "$latency" -gt 0 ]; then node_rate=$budget; else node_rate=0; fi
        fi
        if [ "$node_rate" != "$sim_rate" ]; then
          stop_sim
          start_sim "$data" "$latency" "$dir" "$node_rate" sim-node
        fi
        echo "$node_rate" > "$dir/node.rate_limit"
        log "$size events, ${latency} ms latency, run $rep: stripe-node (simulator limit ${node_rate}/s)"
        NODE_EXTRA_CA_CERTS=$dir/tls/ca.pem "$rusage" "$dir/node.rusage.json" -- \
          node "$root/bench/node/baseline.js" --port "$sim_port" --since "$since" --until "$now" \
          > "$dir/node.json" 2> "$dir/node.err" || log "stripe-node failed (see $dir/node.err)"
      fi
      stop_sim
      python3 "$root/bench/collect.py" "$dir" --size "$size" --latency "$latency" --rep "$rep" \
        --budget "$run_budget" --concurrency "$concurrency" --session "$session" --store "$store" >> "$results"
      # Large; the report and logs stay (KEEP_DB=1 keeps it, e.g. to read recon_pages).
      [ "${KEEP_DB:-0}" = 1 ] || rm -f "$dir/app.db" "$dir/app.db-wal" "$dir/app.db-shm"
    done
  done
done

python3 "$root/bench/collect.py" --table "$results" --session "$session"
