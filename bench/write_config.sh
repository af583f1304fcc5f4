# Sourced by bench/run.sh and bench/charge_links_warm.sh: the reconciler
# config every bench run uses (the bench dataset's prices, limits that never
# stop a run). Reads $concurrency, $slice and $slice_objects (empty: the
# default slicing).
write_config() {  # run_dir port budget database_section
  local dir=$1 port=$2 rps=$3 database=$4
  cat > "$dir/reconciler.yaml" <<EOF
stripe:
  base_url: https://127.0.0.1:$port
  key: { env: STRIPE_API_KEY }
  ca_file: tls/ca.pem
  requests_per_second: $rps
  concurrency: $concurrency
  request_timeout: 30s
$database
prices:
  price_pro_monthly:  { tier: pro,  credits: 1000 }
  price_team_monthly: { tier: team, credits: 5000 }
  price_credits_500:  { credits: 500 }
tiers: [free, pro, team]
limits:
  max_corrections_per_run: 100000000
  max_credits_per_run: 100000000000
  max_credits_per_user: 100000000
output:
  dir: reports
window:
  default_lookback: 24h
EOF
  if [ -n "$slice" ]; then echo "  slice: $slice" >> "$dir/reconciler.yaml"; fi
  if [ -n "${slice_objects:-}" ]; then echo "  slice_objects: $slice_objects" >> "$dir/reconciler.yaml"; fi
}
