#!/usr/bin/env bash
# A private Citus cluster on loopback for seatgraph's Citus mode: one
# coordinator and two workers, each its own PostgreSQL under
# $CITUS_CLUSTER_DIR (default .citus/ in the checkout, git-ignored).
# Citus itself must be installed into the PostgreSQL 15 binaries first:
# docs/scale-out.md says how to build it from source.
#
#   scripts/citus/cluster.sh start   initialise on first use, start, create the roles
#                                    and a `seatgraph` database with the workers registered
#   scripts/citus/cluster.sh stop    stop the three nodes
#   scripts/citus/cluster.sh env     start, then print the export lines for the test
#                                    suite's Citus mode (and DATABASE_URL & co.)
#
# Ports: CITUS_PORT (coordinator, default 9700) and the next two for the
# workers. Every node logs the statements Citus runs on more than one shard
# (citus.multi_task_query_log_level = log) to its postgres.log.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
base="${CITUS_CLUSTER_DIR:-$root/.citus}"
port0="${CITUS_PORT:-9700}"
ports=("$port0" "$((port0 + 1))" "$((port0 + 2))")
names=(coordinator worker1 worker2)
dbname="${SEATGRAPH_DB_NAME:-seatgraph}"
bindir="/usr/lib/postgresql/15/bin"
[ -x "$bindir/postgres" ] || { echo "cluster.sh: PostgreSQL 15 is not installed under $bindir" >&2; exit 1; }
[ -f "$("$bindir/pg_config" --pkglibdir)/citus.so" ] ||
  { echo "cluster.sh: Citus is not installed for PostgreSQL 15 (see docs/scale-out.md)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

psql_at() {
  local port="$1"
  shift
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

init() {
  local i data
  mkdir -p "$base"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$base"; fi
  for i in 0 1 2; do
    data="$base/${names[$i]}"
    [ -f "$data/PG_VERSION" ] && continue
    echo "cluster.sh: initialising ${names[$i]} in $data" >&2
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_pg mkdir -p "$data/run"
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = ${ports[$i]}
unix_socket_directories = '$data/run'
shared_preload_libraries = 'citus'
max_connections = 400
max_prepared_transactions = 400
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %u@%d '
citus.multi_task_query_log_level = log
log_min_error_statement = log
CONF
  done
}

start() {
  init
  local i data
  for i in 0 1 2; do
    data="$base/${names[$i]}"
    if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start >/dev/null
    fi
  done
  for i in 0 1 2; do
    for _ in $(seq 1 60); do
      "$bindir/pg_isready" -q -h 127.0.0.1 -p "${ports[$i]}" && break
      sleep 0.5
    done
    bootstrap "${ports[$i]}"
  done
  psql_at "$port0" -d "$dbname" -o /dev/null <<SQL
SELECT citus_set_coordinator_host('127.0.0.1', $port0);
SELECT citus_add_node('127.0.0.1', ${ports[1]}) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = ${ports[1]});
SELECT citus_add_node('127.0.0.1', ${ports[2]}) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = ${ports[2]});
SQL
}

# bootstrap makes the roles (roles are per node: each needs them) and the
# database with the citus extension on the node at port $1; on the
# coordinator, it also lets the application role use what the owner makes.
bootstrap() {
  psql_at "$1" -d postgres <<SQL
SELECT 'CREATE ROLE seatgraph_owner LOGIN CREATEDB PASSWORD ''seatgraph_owner'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'seatgraph_owner')\gexec
SELECT 'CREATE ROLE seatgraph_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ''seatgraph_app'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'seatgraph_app')\gexec
SELECT 'CREATE DATABASE $dbname OWNER seatgraph_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$dbname')\gexec
SQL
  psql_at "$1" -d "$dbname" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS citus"
  # Grants are made on the coordinator, which passes them on to the shards.
  [ "$1" = "$port0" ] || return 0
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U seatgraph_owner -d "$dbname" <<SQL
GRANT USAGE ON SCHEMA public TO seatgraph_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO seatgraph_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO seatgraph_app;
SQL
}

stop() {
  local i data
  for i in 2 1 0; do
    data="$base/${names[$i]}"
    if [ -f "$data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
      echo "cluster.sh: stopped ${names[$i]}" >&2
    fi
  done
}

env_lines() {
  local host="127.0.0.1:$port0"
  echo "export DATABASE_URL='postgres://seatgraph_app:seatgraph_app@$host/$dbname?sslmode=disable'"
  echo "export DATABASE_ADMIN_URL='postgres://seatgraph_owner:seatgraph_owner@$host/$dbname?sslmode=disable'"
  echo "export SEATGRAPH_CITUS_COORDINATOR_URL='postgres://postgres@$host/postgres?sslmode=disable'"
  echo "export SEATGRAPH_CITUS_WORKER_URLS='postgres://postgres@127.0.0.1:${ports[1]}/postgres?sslmode=disable,postgres://postgres@127.0.0.1:${ports[2]}/postgres?sslmode=disable'"
  echo "export SEATGRAPH_CITUS_LOGS='$base/coordinator/postgres.log $base/worker1/postgres.log $base/worker2/postgres.log'"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) start >&2; env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
