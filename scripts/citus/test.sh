#!/usr/bin/env bash
# make test-citus: every Go test against a Citus cluster (a coordinator and
# two workers on loopback, scripts/citus/cluster.sh), then a count of the
# statements Citus ran on more than one shard during the run, from the
# nodes' logs (citus.multi_task_query_log_level = log), by role:
#   seatgraph_app    the server's role: the tests of the tenant walls send
#                    tenant-less statements on purpose, each marked with a
#                    leading /* cross-tenant */ comment; any other is a bug,
#                    and the run fails (exit status 1) on it
#   postgres         the tests' own cross-tenant assertions and set-up
#   seatgraph_owner  migrations and distribute.sql
# Extra arguments go to `go test` (for example -run TestX ./graph).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# An assignment, so that set -e stops here when the cluster does not start
# (an eval of a failed command substitution would go on without it).
cluster_env="$(scripts/citus/cluster.sh env)"
eval "$cluster_env"
# The suite's Citus mode is on only with this (internal/apitest/citus.go).
export SEATGRAPH_TEST_CITUS=1
read -r -a logs <<<"$SEATGRAPH_CITUS_LOGS"
declare -A offset
for f in "${logs[@]}"; do offset[$f]=$(stat -c %s "$f" 2>/dev/null || echo 0); done

psql -X -At "$DATABASE_ADMIN_URL" -c "SELECT citus_version()" || true
status=0
json="$(mktemp)"
[ $# -gt 0 ] || set -- ./...
go test -count=1 -p 4 -json "$@" >"$json" || status=$?
# The packages' summary lines, then the whole output of every failed test.
jq -j 'select(.Action == "output" and .Test == null) | .Output' "$json" | grep -E '^(ok|FAIL|panic|\?)' || true
jq -r 'select(.Action == "fail" and .Test != null) | "\(.Package) \(.Test)"' "$json" | sort -u >"$json.failed"
if [ -s "$json.failed" ]; then
  jq -j --rawfile failed "$json.failed" \
    'select(.Action == "output" and .Test != null) | select("\(.Package) \(.Test)\n" as $k | $failed | contains($k)) | .Output' "$json"
fi
echo
jq -rs '[.[] | select(.Test != null and (.Action == "pass" or .Action == "fail" or .Action == "skip"))]
  | "tests (top level): \([.[] | select(.Test | contains("/") | not)] | length), of which failed: \([.[] | select(.Action == "fail" and (.Test | contains("/") | not))] | length), skipped: \([.[] | select(.Action == "skip" and (.Test | contains("/") | not))] | length)",
    "tests and subtests: \(length), of which failed: \([.[] | select(.Action == "fail")] | length), skipped: \([.[] | select(.Action == "skip")] | length)"' "$json"
rm -f "$json" "$json.failed"

# Each multi-task line is followed by a HINT and its STATEMENT (log_min_error_statement
# = log), whose continuation lines start with a tab; statements are printed on one line.
found="$(mktemp)"
for f in "${logs[@]}"; do
  tail -c +"$((offset[$f] + 1))" "$f" | awk -v node="$(basename "$(dirname "$f")")" '
    function flush() { if (stmt != "") print node "\t" user "\t" substr(stmt, 1, 200); stmt = ""; inside = 0 }
    inside && /^[ \t]/ { s = $0; gsub(/[ \t]+/, " ", s); stmt = stmt s; next }
    { flush() }
    /multi-task query about to be executed/ { split($5, who, "@"); user = who[1]; want = 1; next }
    want && /STATEMENT:/ { s = $0; sub(/.*STATEMENT: */, "", s); gsub(/[ \t]+/, " ", s); stmt = s; inside = 1; want = 0; next }
    want && !/HINT:/ { want = 0 }
    END { flush() }' >>"$found"
done
total=$(wc -l <"$found")
echo
echo "multi-shard statements logged during the run: $total"
if [ "$total" -gt 0 ]; then
  echo "by node and role:"
  cut -f1,2 "$found" | sort | uniq -c | sort -rn | sed 's/^/  /'
  echo "statements (count, node, role, first 200 characters):"
  sort "$found" | uniq -c | sort -rn | awk -F'\t' '{ print "  " $0 }'
fi
# The server's role may run on several shards only what a test marked.
unexpected="$(awk -F'\t' '$2 == "seatgraph_app" && index($3, "/* cross-tenant */") == 0' "$found")"
marked="$(awk -F'\t' '$2 == "seatgraph_app" && index($3, "/* cross-tenant */") > 0' "$found" | wc -l)"
echo "of the server's role: $marked marked /* cross-tenant */, $(printf '%s' "$unexpected" | grep -c . || true) unmarked"
if [ -n "$unexpected" ]; then
  echo "FAIL: multi-shard statements of the server's role (seatgraph_app) not marked /* cross-tenant */:"
  printf '%s\n' "$unexpected" | sort | uniq -c | sort -rn | sed 's/^/  /'
  status=1
fi
rm -f "$found"
exit "$status"
