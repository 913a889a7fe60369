#!/usr/bin/env bash
# seatgraph behind a real Apollo gateway, end to end: `make e2e` (and so
# `make test`). Needs node (>= 20) and npm besides what `make test` needs.
#
#  1. installs the Node packages exactly as package-lock.json pins them
#     (npm ci), unless node_modules already matches the lock file;
#  2. builds the server binary;
#  3. makes a fresh database on the private cluster (scripts/db.sh),
#     migrates it, seeds two tenants and gives tenant A's licenses
#     TechnologyAsset ids for the procurement subgraph to own;
#  4. starts seatgraph on a free loopback port (HOST=127.0.0.1), with DEBUG_ENDPOINTS=true
#     so the tests can read its SQL statement count;
#  5. runs the composition check and the gateway tests (node --test);
#  6. stops the server and drops the database, pass or fail.
set -euo pipefail

e2e="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$e2e/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/seatgraph-e2e.XXXXXX")"
db="seatgraph_e2e_$$"
server_pid=""
# The same PostgreSQL lookup as the private cluster's (it explains itself
# when there is none).
pgbin="$("$root/scripts/db.sh" bindir)"

cleanup() {
  local code=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$code" -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "e2e: the last lines seatgraph logged:" >&2
    tail -n 30 "$work/server.log" >&2
  fi
  if [ -n "${superuser_url:-}" ]; then
    "$pgbin/psql" -X -q "$superuser_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null ||
      echo "e2e: could not drop the database $db" >&2
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in node npm go; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is needed (node >= 20 with npm, and go)" >&2; exit 1; }
done

# 1. Node packages, as locked.
cd "$e2e"
stamp=node_modules/.seatgraph-lock.sha256
lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock" ]; then
  echo "e2e: npm ci" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock" >"$stamp"
fi

# 2. The server binary.
(cd "$root" && go build -o "$work/seatgraph" .)
export SEATGRAPH_BIN="$work/seatgraph"

# 3. A fresh database: db.sh creates it (owned by seatgraph_owner, usable
# by seatgraph_app) and prints its URLs.
dbenv="$(SEATGRAPH_DB_NAME="$db" "$root/scripts/db.sh" env)"
eval "$dbenv"
superuser_url="$SEATGRAPH_TEST_SUPERUSER_URL"
export E2E_TENANT_A=e2e-acme E2E_TENANT_B=e2e-globex
# The production switches: introspection off (the gateway composes from
# _service, which answers without it), no playground.
export DEV_MODE=false MIGRATE_ON_START=false PLAYGROUND=false INTROSPECTION=false DEBUG_ENDPOINTS=true
# The webhook test's receiver listens on loopback.
export WEBHOOK_ALLOW_PRIVATE=true
JWT_SECRET="e2e-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export JWT_SECRET
"$SEATGRAPH_BIN" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
"$SEATGRAPH_BIN" seed --tenant "$E2E_TENANT_A" >/dev/null
"$SEATGRAPH_BIN" seed --tenant "$E2E_TENANT_B" >/dev/null
# Tenant A's licenses cover assets that the procurement subgraph owns. The
# owner role writes through row-level security, like any tenant write.
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$DATABASE_ADMIN_URL" >/dev/null <<SQL
BEGIN;
SET LOCAL app.tenant_id = '$E2E_TENANT_A';
UPDATE licenses SET asset_id = 'ast_' || lower(regexp_replace(program_key, '[^A-Za-z0-9]+', '_', 'g'))
 WHERE tenant_id = '$E2E_TENANT_A';
COMMIT;
SQL

# 4. seatgraph on a free loopback port.
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
# Loopback only: DEBUG_ENDPOINTS is on and DEV_MODE off, so HOST would
# otherwise default to every interface.
HOST=127.0.0.1 PORT="$port" "$SEATGRAPH_BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
export SEATGRAPH_URL="http://127.0.0.1:$port"
ready='fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))'
for i in $(seq 1 100); do
  node -e "$ready" "$SEATGRAPH_URL/readyz" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "e2e: seatgraph exited" >&2; exit 1; }
  [ "$i" -lt 100 ] || { echo "e2e: seatgraph was not ready in time" >&2; exit 1; }
  sleep 0.2
done

# 5. The tests, one file at a time: the statement count is the server's.
node --test --test-concurrency=1 --test-reporter=spec composition.test.mjs gateway.test.mjs webhooks.test.mjs
