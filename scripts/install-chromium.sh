#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (Microsoft.Playwright drives /usr/bin/chromium; its own browser
# download does not work here). Does nothing when chromium is already installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-chromium: /usr/bin/chromium is missing and this user cannot install packages (run as root: apt-get install -y chromium)." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium
test -x /usr/bin/chromium
