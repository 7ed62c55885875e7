#!/usr/bin/env bash
# Installs the Debian packages headroom needs to build, test and benchmark, skipping those present.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev libhttp-parser-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev zlib1g-dev libre2-dev
  clang-19 libclang-rt-19-dev
  wrk nginx-light procps
  jq time strace linux-perf iproute2
  postgresql-15 libpq-dev redis-server libhiredis-dev prometheus-node-exporter
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
