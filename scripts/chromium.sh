#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the playground's
# browser test, installing Debian's `chromium` package with apt-get when
# none is found and this runs as root (or may sudo without a password).
# `make test` runs it before `go test` and passes the path on in
# CHROMIUM_BIN, so an installation's minutes show and do not count against
# the Go test's timeout.
#
#   scripts/chromium.sh          print the browser's path (install if missing)
#
# CHROMIUM_BIN, when set, is used as it is.
set -euo pipefail

if [ -n "${CHROMIUM_BIN:-}" ]; then
  [ -x "$CHROMIUM_BIN" ] || { echo "chromium.sh: CHROMIUM_BIN=$CHROMIUM_BIN is not an executable" >&2; exit 1; }
  echo "$CHROMIUM_BIN"
  exit 0
fi

find_browser() {
  local name
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if find_browser; then
  exit 0
fi

# apt runs apt-get as root: directly, or through sudo when that needs no
# password. Another apt job's lock (an unattended upgrade, say) is waited
# for, up to 5 minutes, rather than failed on.
apt() {
  if [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=300 "$@"
  else
    sudo -n apt-get -o DPkg::Lock::Timeout=300 "$@"
  fi
}

if command -v apt-get >/dev/null 2>&1 &&
  { [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }; then
  echo "chromium.sh: no Chromium found; installing Debian's chromium package (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt install -y -q --no-install-recommends chromium >&2; then
    apt update -q >&2 || { echo "chromium.sh: apt-get update failed" >&2; exit 1; }
    apt install -y -q --no-install-recommends chromium >&2 ||
      { echo "chromium.sh: apt-get install chromium failed" >&2; exit 1; }
  fi
  find_browser && exit 0
  echo "chromium.sh: chromium was installed but is not on PATH" >&2
  exit 1
fi

echo "chromium.sh: no Chromium found. Install one (Debian/Ubuntu: sudo apt-get install chromium;" \
  "macOS: brew install --cask chromium) or set CHROMIUM_BIN to a Chrome/Chromium binary." >&2
exit 1
