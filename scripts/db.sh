#!/usr/bin/env bash
# Private development PostgreSQL for seatgraph, under .pgdata/ (git-ignored).
#
#   scripts/db.sh start   initialise on first use, start, create roles and the database
#   scripts/db.sh stop    stop the cluster
#   scripts/db.sh env     start, then print the export lines for DATABASE_URL & co.
#   scripts/db.sh bindir  print the directory of the PostgreSQL programs it uses
#
# PostgreSQL (15 or newer; initdb, pg_ctl, pg_isready, psql) is taken from
# SEATGRAPH_PG_BINDIR when set (that folder only: a choice made by hand is
# kept, or refused with the reason). Otherwise it is looked for on PATH, in
# `pg_config --bindir`, /usr/lib/postgresql/*/bin (Debian, Ubuntu),
# /usr/pgsql-*/bin (RHEL), /usr/local/pgsql/bin (a source install) and the
# Homebrew prefixes; the newest version found wins.
#
# It never touches a system cluster: its own data directory, socket
# directory and port (SEATGRAPH_PG_PORT, default 55432), loopback only.
# Roles: postgres (superuser, for set-up and tests), seatgraph_owner (owns
# the schema, runs migrations) and seatgraph_app (what the server connects
# as: not owner, not superuser, no BYPASSRLS, so row-level security binds it).
set -Eeuo pipefail
# Whatever fails says so: set -e alone would exit without a word.
trap 'code=$?; echo "db.sh: failed (exit $code) at line $LINENO: $BASH_COMMAND" >&2' ERR

min_major=15

# pg_major prints the major version of the server programs in $1, read
# from "initdb (PostgreSQL) 16.4" and its variants ("… 16.4 (Homebrew)",
# "… 15.20 (Debian 15.20-1)", "… 18beta1").
pg_major() {
  local v
  v="$("$1/initdb" --version 2>/dev/null)" || return 1
  [[ $v =~ \(PostgreSQL\)\ ([0-9]+) ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

# find_bindir prints the directory holding the newest PostgreSQL server
# programs (initdb, pg_ctl, pg_isready, psql) of a supported version.
find_bindir() {
  local candidates=() dir best="" best_major=0 major tool too_old="" unreadable="" missing=""
  if [ -n "${SEATGRAPH_PG_BINDIR:-}" ]; then
    candidates+=("$SEATGRAPH_PG_BINDIR")
  else
    if dir="$(command -v initdb 2>/dev/null)"; then candidates+=("$(dirname "$dir")"); fi
    if command -v pg_config >/dev/null 2>&1 && dir="$(pg_config --bindir 2>/dev/null)"; then candidates+=("$dir"); fi
    shopt -s nullglob
    candidates+=(/usr/lib/postgresql/*/bin /usr/pgsql-*/bin /usr/local/pgsql/bin
      /opt/homebrew/opt/postgresql@*/bin /opt/homebrew/opt/postgresql/bin /opt/homebrew/bin
      /usr/local/opt/postgresql@*/bin /usr/local/opt/postgresql/bin /usr/local/bin
      /home/linuxbrew/.linuxbrew/opt/postgresql@*/bin /home/linuxbrew/.linuxbrew/bin)
    shopt -u nullglob
  fi
  for dir in "${candidates[@]}"; do
    [ -x "$dir/initdb" ] || { [ -z "${SEATGRAPH_PG_BINDIR:-}" ] || missing="$missing $dir (no initdb)"; continue; }
    for tool in pg_ctl pg_isready psql; do
      [ -x "$dir/$tool" ] || { missing="$missing $dir (no $tool)"; continue 2; }
    done
    if ! major="$(pg_major "$dir")"; then
      unreadable="$unreadable $dir (initdb --version: $({ "$dir/initdb" --version 2>&1 || true; } | head -n 1))"
      continue
    fi
    if [ "$major" -lt "$min_major" ]; then
      too_old="$too_old $dir (PostgreSQL $major)"
      continue
    fi
    if [ "$major" -gt "$best_major" ]; then
      best="$dir" best_major="$major"
    fi
  done
  if [ -z "$best" ]; then
    {
      echo "db.sh: no PostgreSQL $min_major or newer found (looked for initdb, pg_ctl, pg_isready and psql"
      echo "  on PATH, in pg_config --bindir, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, /usr/local/pgsql/bin"
      echo "  and the Homebrew prefixes)."
      [ -z "${SEATGRAPH_PG_BINDIR:-}" ] || echo "  SEATGRAPH_PG_BINDIR=$SEATGRAPH_PG_BINDIR is the only folder looked in."
      [ -z "$too_old" ] || echo "  Too old:$too_old"
      [ -z "$unreadable" ] || echo "  The version could not be read in:$unreadable"
      [ -z "$missing" ] || echo "  Incomplete:$missing"
      echo "  Install the server programs, then run this again:"
      echo "    Debian/Ubuntu:  sudo apt-get install postgresql        (the programs land in /usr/lib/postgresql/<version>/bin)"
      echo "    Fedora/RHEL:    sudo dnf install postgresql-server"
      echo "    macOS:          brew install postgresql@15"
      echo "  or point SEATGRAPH_PG_BINDIR at the folder holding initdb, or set DATABASE_URL to a database of your own."
    } >&2
    return 1
  fi
  echo "$best"
}

bindir="$(find_bindir)" || exit 1
[ "${1:-}" != bindir ] || { echo "$bindir"; exit 0; }

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
    if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 60 start >/dev/null; then
      echo "db.sh: PostgreSQL did not start on port $port; the end of $base/postgres.log:" >&2
      tail -n 15 "$base/postgres.log" >&2 || true
      exit 1
    fi
  fi
  local ready=""
  for _ in $(seq 1 60); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
    sleep 0.5
  done
  [ -n "$ready" ] || { echo "db.sh: PostgreSQL is not accepting connections on 127.0.0.1:$port after 30 s" >&2; exit 1; }
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
  *) echo "usage: $0 start|stop|env|bindir" >&2; exit 2 ;;
esac
