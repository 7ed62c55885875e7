#!/usr/bin/env bash
# The embedded target (headroom target, 1 thread) against nginx (1 worker), both on SERVER_CPU,
# loaded by wrk -t1 -c50 on CLIENT_CPU, interleaved rounds. Prints req/s and the ratio.
#
# Environment: HEADROOM (binary, default build/headroom), ROUNDS (3), DURATION_S (10),
# CONNECTIONS (50), CLIENT_CPU (0), SERVER_CPU (1), KEEP=1 keeps the temp dir.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HEADROOM=${HEADROOM:-$ROOT/build/headroom}
ROUNDS=${ROUNDS:-3}
DURATION_S=${DURATION_S:-10}
CONNECTIONS=${CONNECTIONS:-50}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/headroom-bench.XXXXXX")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
TARGET_PID=""
cleanup() {
  if [ -n "$TARGET_PID" ] && kill -0 "$TARGET_PID" 2>/dev/null; then
    kill -TERM "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
  fi
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need nginx wrk taskset awk ss /usr/bin/time
[ -x "$HEADROOM" ] || die "$HEADROOM is not built (make build)"

# Start the target and read its port from the one "listening" line it prints.
taskset -c "$SERVER_CPU" "$HEADROOM" target --port 0 --threads 1 >"$WORK/target.out" 2>&1 &
TARGET_PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/target.out" && break
  kill -0 "$TARGET_PID" 2>/dev/null || die "headroom target exited: $(cat "$WORK/target.out")"
  sleep 0.1
done
TARGET_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/target.out")
[ -n "$TARGET_PORT" ] || die "headroom target did not report its port"
start_nginx 1000

echo "wrk -t1 -c$CONNECTIONS on CPU $CLIENT_CPU; servers on CPU $SERVER_CPU (1 thread / 1 worker)"
echo "$ROUNDS interleaved rounds of ${DURATION_S}s; route / (target: \"ok\\n\", nginx: return 200 \"ok\")"
echo
printf '%-6s %-8s %12s %16s\n' round server "req/s" "server cpu_us/req"
# server_cpu_ticks PID: utime+stime of the process in clock ticks.
server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
worker_pid() { pgrep -P "$NGINX_PID" | head -n 1; }
hz=$(getconf CLK_TCK)
target_rps=() nginx_rps=() target_cpu=() nginx_cpu=()
for i in $(seq 1 "$ROUNDS"); do
  for server in target nginx; do
    if [ "$server" = target ]; then port=$TARGET_PORT pid=$TARGET_PID; else port=$NGINX_PORT pid=$(worker_pid); fi
    before=$(server_cpu_ticks "$pid")
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION_S}s" "http://127.0.0.1:$port/" \
      >"$WORK/$server.$i.log" 2>&1
    after=$(server_cpu_ticks "$pid")
    rps=$(wrk_rps "$WORK/$server.$i.log")
    cpu=$(calc "($after - $before) / $hz * 1e6 / $(wrk_requests "$WORK/$server.$i.log")")
    printf '%-6s %-8s %12.0f %16.3f\n' "$i" "$server" "$rps" "$cpu"
    if [ "$server" = target ]; then target_rps+=("$rps") target_cpu+=("$cpu"); else nginx_rps+=("$rps") nginx_cpu+=("$cpu"); fi
  done
done
m_t=$(median "${target_rps[@]}")
m_n=$(median "${nginx_rps[@]}")
m_tc=$(median "${target_cpu[@]}")
m_nc=$(median "${nginx_cpu[@]}")
echo
printf '%-20s %12s %12s %14s\n' median target nginx "target/nginx"
printf '%-20s %12s %12s %14s\n' "req/s" "$(fmt 0 "$m_t")" "$(fmt 0 "$m_n")" "$(ratio "$m_t" "$m_n")"
printf '%-20s %12s %12s %14s\n' "server cpu_us/req" "$(fmt 3 "$m_tc")" "$(fmt 3 "$m_nc")" "$(ratio "$m_tc" "$m_nc")"
