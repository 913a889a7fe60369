#!/usr/bin/env bash
# Private development PostgreSQL for seatgraph, under .pgdata/ (git-ignored).
#
#   scripts/db.sh start   initialise on first use, start, create roles and the database
#   scripts/db.sh stop    stop the cluster
#   scripts/db.sh env     start, then print the export lines for DATABASE_URL & co.
#
# It never touches a system cluster: its own data directory, socket
# directory and port (SEATGRAPH_PG_PORT, default 55432), loopback only.
# Roles: postgres (superuser, for set-up and tests), seatgraph_owner (owns
# the schema, runs migrations) and seatgraph_app (what the server connects
# as: not owner, not superuser, no BYPASSRLS, so row-level security binds it).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
base="$root/.pgdata"
# Run as root, the cluster belongs to the postgres user, who must be able to
# reach the project folder; when a parent folder shuts it out (a checkout
# under /root, say), the cluster lives in a new private folder under /tmp,
# and .pgdata points at it.
if [ "$(id -u)" = 0 ] && [ ! -e "$base" ] && ! runuser -u postgres -- test -x "$root"; then
  elsewhere="$(mktemp -d "${TMPDIR:-/tmp}/seatgraph-pgdata.XXXXXX")"
  ln -s "$elsewhere" "$base"
fi
[ -L "$base" ] && base="$(readlink -f "$base")"
data="$base/data"
run="$base/run"
port="${SEATGRAPH_PG_PORT:-55432}"
dbname="${SEATGRAPH_DB_NAME:-seatgraph}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bindir" ] || { echo "db.sh: no PostgreSQL binaries under /usr/lib/postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root: run its programs as the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

psql_su() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

init() {
  [ -f "$data/PG_VERSION" ] && return
  mkdir -p "$base" "$run"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$base"; fi
  echo "db.sh: initialising a private cluster in $data" >&2
  as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
}

start() {
  init
  mkdir -p "$run"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$run"; fi
  if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 60 start >/dev/null
  fi
  for _ in $(seq 1 60); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  bootstrap
}

bootstrap() {
  psql_su -d postgres <<SQL
SELECT 'CREATE ROLE seatgraph_owner LOGIN CREATEDB PASSWORD ''seatgraph_owner'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'seatgraph_owner')\gexec
SELECT 'CREATE ROLE seatgraph_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ''seatgraph_app'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'seatgraph_app')\gexec
SELECT 'CREATE DATABASE $dbname OWNER seatgraph_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$dbname')\gexec
SQL
  grant "$dbname"
}

# grant lets seatgraph_app use whatever seatgraph_owner creates in a database.
grant() {
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U seatgraph_owner -d "$1" <<SQL
GRANT USAGE ON SCHEMA public TO seatgraph_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO seatgraph_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO seatgraph_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO seatgraph_app;
SQL
}

stop() {
  if [ -f "$data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    echo "db.sh: stopped" >&2
  fi
}

env_lines() {
  local host="127.0.0.1:$port"
  echo "export DATABASE_URL='postgres://seatgraph_app:seatgraph_app@$host/$dbname?sslmode=disable'"
  echo "export DATABASE_ADMIN_URL='postgres://seatgraph_owner:seatgraph_owner@$host/$dbname?sslmode=disable'"
  echo "export SEATGRAPH_TEST_SUPERUSER_URL='postgres://postgres@$host/postgres?sslmode=disable'"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) start; env_lines ;;
  grant) grant "$2" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
