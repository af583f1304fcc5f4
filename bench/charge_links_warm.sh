#!/bin/bash
# Basil's charge links across runs (issue 25, twelfth session): bench/run.sh's
# 100k dataset and config (0 ms, budget 10000, concurrency 12), run cold (the
# window alone) and warm (the 5 days before the window first, as a daily
# schedule would have), with the requests of each run by kind (recon_pages).
# B: a build directory with reconciler and stripe-sim (default build/);
# OUT: where the dataset and the run directories go (default /tmp/charge-links).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$root/build}; sim=$B/tools/stripe_sim/stripe-sim
rec=$B/reconciler/reconciler
concurrency=12; slice=
source "$root/bench/write_config.sh"
now=1760000000; since=$((now - 672*3600)); out=${OUT:-/tmp/charge-links}
if [ ! -f $out/data/done ]; then
  rm -rf $out/data; mkdir -p $out/data
  $sim generate --out $out/data/data --app-db $out/data/app.db --customers 28986 --now $now --window-hours 672 > $out/data/generate.txt
  touch $out/data/done
fi
one() {  # name: a fresh run dir, the sim, migrate
  local d=$out/$1; rm -rf $d; mkdir -p $d; cp $out/data/app.db $d/app.db
  $sim serve --data $out/data/data --tls-dir $d/tls --port-file $d/sim.port --latency-ms 0 --rate-limit 0 > $d/sim.txt 2> $d/sim.err &
  echo $! > $d/sim.pid
  while [ ! -s $d/sim.port ]; do sleep 0.2; done
  write_config $d $(cat $d/sim.port) 10000 "database:
  path: app.db"
  (cd $d && $rec migrate --config reconciler.yaml >/dev/null 2>&1)
}
run() {  # dir since until label
  (cd $1 && /usr/bin/time -f "$4 wall %e s user %U sys %S maxrss %M KB" $rec run --config reconciler.yaml --since $2 --until $3 > $4.out 2> $4.log) 2>> $1/time.txt || true
  tail -1 $1/time.txt
  sqlite3 $1/app.db "SELECT '$4', CASE WHEN resource LIKE '/v1/invoice_payments?%' THEN 'invoice_payments lookups' WHEN resource LIKE '/v1/invoices/%' THEN 'invoice lookups' WHEN resource LIKE '/v1/charges/%' THEN 'charge retrieves' ELSE resource END AS r, COUNT(*), SUM(object_count) FROM recon_pages WHERE run_id = (SELECT MAX(id) FROM recon_runs) GROUP BY r ORDER BY 3 DESC"
  python3 -c "import json;r=json.load(open('$1/reports/latest/report.json'))['run'];print('$4 report: requests',r.get('requests'),'objects',r.get('objects'),'pages',r.get('pages'),'findings',r.get('findings'))" 2>/dev/null || grep -o '"requests":[0-9]*' $1/reports/latest/report.json | head -1
}
export STRIPE_API_KEY=sk_test_bench_n$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
one cold; run $out/cold $since $now cold; kill $(cat $out/cold/sim.pid)
one warm; run $out/warm $((since - 5*86400)) $since warmup; run $out/warm $since $now warm; kill $(cat $out/warm/sim.pid)
