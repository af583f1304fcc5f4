#!/usr/bin/env bash
# The app's rows of a SQLite app database (what `stripe-sim generate --app-db`
# writes) copied into a PostgreSQL database: the app schema
# (sql/postgres/app_schema.sql) created there, then users, payments, ai_usage
# and webhook_events by COPY (a transaction a table), and the identities moved on
# past the copied ids (the reconciler inserts payments). For bench/run.sh's
# STORE=postgres; the same columns as tests/e2e/postgres_e2e_test.cpp's loader.
#
#   pg_load_app.sh APP_DB CLUSTER_DIR [DBNAME]
#
# CLUSTER_DIR is a tools/pg_cluster.sh directory (its port and password);
# DBNAME (default: app) is created when missing (the cluster's role may
# create databases); its app tables must be empty.
set -euo pipefail
app_db=${1:?usage: pg_load_app.sh APP_DB CLUSTER_DIR [DBNAME]}
cluster=${2:?usage: pg_load_app.sh APP_DB CLUSTER_DIR [DBNAME]}
dbname=${3:-app}
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
command -v sqlite3 >/dev/null || { echo "pg_load_app.sh: needs the sqlite3 command (Debian: sqlite3)" >&2; exit 1; }

# The password by file, never in argv.
pgpass=$(mktemp)
trap 'rm -f "$pgpass" "$pgpass.csv"' EXIT
chmod 600 "$pgpass"
echo "127.0.0.1:$(cat "$cluster/port"):$dbname:reconciler:$(cat "$cluster/password")" >"$pgpass"
psql() { PGPASSFILE=$pgpass "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$cluster/port")" \
  -U reconciler -d "$dbname" "$@"; }

copy() {  # table columns...
  local table=$1; shift
  local cols
  cols=$(IFS=,; echo "$*")
  sqlite3 -csv "$app_db" "SELECT $cols FROM $table" >"$pgpass.csv"
  echo "\\copy $table ($cols) FROM '$pgpass.csv' WITH (FORMAT csv)"
}

echo "127.0.0.1:$(cat "$cluster/port"):app:reconciler:$(cat "$cluster/password")" >>"$pgpass"
if [ "$dbname" != app ]; then
  dbname_wanted=$dbname dbname=app
  [ "$(psql -tA -v name="$dbname_wanted" <<<"SELECT count(*) FROM pg_database WHERE datname = :'name'")" = 1 ] ||
    psql -v name="$dbname_wanted" <<<"SELECT format('CREATE DATABASE %I', :'name') \\gexec"
  dbname=$dbname_wanted
fi
psql -f "$root/sql/postgres/app_schema.sql" >/dev/null
# A table a COPY (one CSV file at a time), each in its own transaction.
copy_table() {
  local table=$1; shift
  { echo "BEGIN;"; copy "$table" "$@"; echo "COMMIT;"; } | psql
}
for spec in "users id email plan stripe_customer_id plan_metadata created_at" \
            "payments id stripe_invoice_id stripe_customer_id user_id amount currency status paid_at" \
            "ai_usage id user_id credits request_id created_at" \
            "webhook_events stripe_event_id type received_at status attempts last_error"; do
  # shellcheck disable=SC2086
  copy_table $spec
done
for t in users payments ai_usage; do
  psql -c "SELECT setval(pg_get_serial_sequence('$t', 'id'), (SELECT COALESCE(max(id), 1) FROM $t))" >/dev/null
done
psql -c "ANALYZE users, payments, ai_usage, webhook_events" >/dev/null
