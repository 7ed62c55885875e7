#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, seeded from fuzz/corpus/<name>.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
ran=0
for bin in "$build"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  seeds="$root/fuzz/corpus/${name#fuzz_}"
  echo "fuzz: $name for ${seconds}s"
  if [ -d "$seeds" ]; then
    "$bin" -max_total_time="$seconds" -print_final_stats=1 "$work" "$seeds" 2>&1 | tail -n 5
  else
    "$bin" -max_total_time="$seconds" -print_final_stats=1 "$work" 2>&1 | tail -n 5
  fi
  rm -rf "$work"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "fuzz: no fuzz targets were built" >&2; exit 1; }
echo "fuzz: $ran target(s) ran without a crash"
