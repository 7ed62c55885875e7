#!/usr/bin/env bash
# Installs the Debian packages headroom needs to build, test and benchmark, skipping those present,
# then the HTML report's front-end packages from the npm registry (web/package-lock.json, `npm ci`).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev libhttp-parser-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev zlib1g-dev libre2-dev liburing-dev libssl-dev openssl ca-certificates
  libnghttp2-dev nghttp2-client
  clang-19 libclang-rt-19-dev
  wrk nginx-light procps
  jq time strace linux-perf iproute2
  postgresql-15 libpq-dev redis-server libhiredis-dev prometheus-node-exporter
  chromium
)
# node builds the HTML report's page (web/build.mjs) and runs its browser tests; a node already on
# the PATH (v18 or later) is used as it is.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# uPlot (inlined into the report at build time) and puppeteer-core (browser tests), exactly as
# pinned in web/package-lock.json; again only when the lockfile changed since the last install.
if ! cmp -s web/package-lock.json web/node_modules/.headroom-installed-lock 2>/dev/null; then
  echo "setup: npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  cp web/package-lock.json web/node_modules/.headroom-installed-lock
fi
