#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: initdb + pg_ctl from Debian's
# postgresql package, listening on 127.0.0.1 only (and a socket in DIR), run as
# an unprivileged user (postgres refuses root: as root it runs as the
# `postgres` system user). Nothing outside DIR is written.
#
#   pg_cluster.sh start DIR [PORT]   initdb if DIR/data is new (a server still running
#                                    there is stopped first), start, create the role
#                                    `reconciler` (password auth, scram) and the
#                                    database `app`; writes DIR/conninfo (libpq keywords,
#                                    no password) and DIR/password (0600)
#   pg_cluster.sh stop DIR           fast shutdown; DIR is left for a post-mortem
#   pg_cluster.sh restart DIR        what a server restart mid-run looks like
#
# PORT defaults to a free one. Exit 0 done, 1 failed (the server log is printed).
set -euo pipefail
cmd=${1:?usage: pg_cluster.sh start|stop|restart DIR [PORT]}
dir=${2:?usage: pg_cluster.sh start|stop|restart DIR [PORT]}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "pg_cluster.sh: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_ctl() { as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" "$@"; }
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "pg_cluster.sh: no free port found" >&2; return 1
}
# fsync off: a test server that loses data in a host crash is fine, and the
# crash tests kill the reconciler, not the server.
# pg_ctl's own words go into the failure (a server that never started has
# no server.log to show), through a file: the server it starts inherits
# what pg_ctl writes to, and would hold a pipe open.
try_start() {
  pg_ctl -w -t 60 -o "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir
                      -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start \
    </dev/null >"$dir/pg_ctl.out" 2>&1
}
start_server() {
  try_start "$1" || fail "start on port $1 failed: $(cat "$dir/pg_ctl.out")"
}
fail() { echo "pg_cluster.sh: $*" >&2; [ -f "$dir/server.log" ] && tail -n 30 "$dir/server.log" >&2; exit 1; }

case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  port=${3:-$(free_port)}
  # A server an interrupted test run left behind (ctest stopped before its
  # stop fixture) holds the data directory: stop it, and start afresh.
  if [ -f "$dir/data/PG_VERSION" ] && pg_ctl status >/dev/null 2>&1; then
    echo "pg_cluster.sh: stopping the server an earlier run left in $dir" >&2
    pg_ctl -w -t 60 -m fast stop >/dev/null || fail "stopping the server an earlier run left failed"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A free port may be taken before the server binds it (tests start
  # servers in parallel): a port of our own choosing gets two more tries.
  for attempt in 1 2 3; do
    echo "$port" >"$dir/port"
    if [ -n "${3:-}" ] || [ "$attempt" = 3 ]; then start_server "$port"; break; fi
    if try_start "$port"; then break; fi
    echo "pg_cluster.sh: start on port $port failed, another port: $(cat "$dir/pg_ctl.out")" >&2
    port=$(free_port)
  done
  if [ ! -f "$dir/password" ]; then
    (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/password")
  fi
  pw=$(cat "$dir/password")
  psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres)
  as_owner "${psql[@]}" -v pw="$pw" >/dev/null <<'SQL' || fail "creating the role failed"
SELECT format('CREATE ROLE reconciler LOGIN CREATEDB PASSWORD %L', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reconciler') \gexec
SELECT 'CREATE DATABASE app OWNER reconciler'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app') \gexec
SQL
  echo "host=127.0.0.1 port=$port user=reconciler dbname=app" >"$dir/conninfo"
  [ "$(id -u)" -ne 0 ] || chmod 0644 "$dir/conninfo"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  pg_ctl -w -t 60 -m fast stop >/dev/null || fail "stop failed"
  ;;
restart)
  # stop + start rather than `pg_ctl restart`, which does not keep -l: the
  # new server would write its log to our stdout and hold it open.
  pg_ctl -w -t 60 -m fast stop >/dev/null || fail "stop failed"
  start_server "$(cat "$dir/port")"
  ;;
*) echo "usage: pg_cluster.sh start|stop|restart DIR [PORT]" >&2; exit 2 ;;
esac
