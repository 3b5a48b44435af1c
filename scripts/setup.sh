#!/usr/bin/env bash
# Idempotent setup: npm dependencies when missing or stale, and a WebGPU adapter. On a
# machine without a GPU, Debian bookworm gets Mesa's lavapipe (>= 24, from
# bookworm-backports; bookworm's own Mesa 22 is rejected by Dawn). Costs well under 2 s
# when everything is already in place. WITH_BROWSER=1 also installs Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.setup-stamp
# the lock file changes with every dependency change (scripts edits in package.json do not matter)
lock_sum=$( (cat package-lock.json 2>/dev/null || cat package.json) | cksum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: installing npm dependencies" >&2
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
  echo "$lock_sum" > "$stamp"
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

adapter_ok() { node scripts/probe-adapter.mjs >/dev/null 2>&1; }

if ! adapter_ok; then
  if [ -f /etc/debian_version ] && grep -q '^12' /etc/debian_version && command -v apt-get >/dev/null; then
    echo "setup: no WebGPU adapter; installing Mesa lavapipe from bookworm-backports" >&2
    list=/etc/apt/sources.list.d/bookworm-backports.list
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee "$list" >/dev/null
    fi
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >&2
  fi
  if ! adapter_ok; then
    echo "setup: no WebGPU adapter found." >&2
    echo "  Install a Vulkan driver: a GPU's own driver, or Mesa >= 24 lavapipe (CPU)," >&2
    echo "  e.g. Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers;" >&2
    echo "  Ubuntu 24.04+: apt-get install mesa-vulkan-drivers." >&2
    node scripts/probe-adapter.mjs >&2 || true
    exit 1
  fi
fi

if [ "${WITH_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "setup: installing chromium for the browser test" >&2
    as_root apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >&2
  else
    echo "setup: chromium not found; install it to run the browser test" >&2
  fi
fi
