#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, seeded from fuzz/corpus/<name>
# (the seeds are read, never modified; new inputs go to a temporary directory).
# On a crash: prints the end of the fuzzer log, keeps the reproducer in BUILD_DIR/fuzz-artifacts/
# and exits 1. Reproduce with: BUILD_DIR/fuzz/<target> BUILD_DIR/fuzz-artifacts/<file>
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
shopt -s nullglob
ran=0
for bin in "$build"/fuzz/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  log="$work.log"
  seeds=()
  [ -d "$root/fuzz/corpus/${name#fuzz_}" ] && seeds=("$root/fuzz/corpus/${name#fuzz_}")
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
      "$work" "${seeds[@]}" >"$log" 2>&1; then
    tail -n 40 "$log"
    found=("$artifacts/$name"-*)
    echo "fuzz: $name FAILED; reproducer(s): ${found[*]:-none written}" >&2
    rm -rf "$work" "$log"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
  rm -rf "$work" "$log"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "fuzz: no fuzz targets were built in $build/fuzz" >&2; exit 1; }
echo "fuzz: $ran target(s) ran without a crash"
