#!/usr/bin/env bash
# Builds the playground's assets (GraphiQL, React, Monaco) from the npm
# packages pinned in internal/playground/app/package-lock.json.
#
#   scripts/playground.sh build   npm ci (when the lock changed), then bundle into internal/playground/dist
#   scripts/playground.sh check   bundle into a temporary folder and fail when it differs from the committed dist
#
# The bundle is committed so that `go build` alone embeds a working
# playground; `check` (run by make check-generated, and so make test)
# proves the committed files are what the lock file gives.
set -Eeuo pipefail
trap 'code=$?; echo "playground.sh: failed (exit $code) at line $LINENO: $BASH_COMMAND" >&2' ERR

root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/internal/playground/app"
dist="$root/internal/playground/dist"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "playground.sh: $tool is needed (node >= 20 with npm)" >&2; exit 1; }
done

# npm ci, exactly as package-lock.json pins it, unless node_modules already matches.
install() {
  local stamp="$app/node_modules/.seatgraph-lock.sha256" lock
  lock="$(sha256sum "$app/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock" ]; then
    echo "playground.sh: npm ci" >&2
    (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" >"$stamp"
  fi
}

case "${1:-build}" in
  build)
    install
    node "$app/build.mjs" "$dist"
    ;;
  check)
    install
    fresh="$(mktemp -d "${TMPDIR:-/tmp}/seatgraph-playground.XXXXXX")"
    trap 'rm -rf "$fresh"' EXIT
    node "$app/build.mjs" "$fresh"
    if ! diff -r -q "$dist" "$fresh" >&2; then
      echo "playground.sh: internal/playground/dist is not what package-lock.json builds: run make playground and commit" >&2
      exit 1
    fi
    ;;
  *) echo "usage: $0 build|check" >&2; exit 2 ;;
esac
