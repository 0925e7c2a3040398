#!/usr/bin/env bash
# Debian packages the integration tests use as reference tools and workloads. Idempotent; needs root.
set -euo pipefail
packages=(procps smem tmux gcc libc6-dev util-linux prometheus chromium hyperfine sqlite3 libsqlite3-dev clang time python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]} and not root; install them with apt-get" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
