#!/usr/bin/env bash
# headroom client benchmarks on loopback, against nginx, with wrk as the peer.
#
#   bench/run.sh            closed model: headroom vs wrk (req/s, CPU/request, syscalls/request),
#                           then the open model at 50% and 90% of the measured maximum
#   bench/run.sh memory     RSS per connection of headroom at 10,000 connections
#   bench/run.sh soak       RSS every 10 s over a 5-minute run (flat = no leak)
#   bench/run.sh mix        a 3-request weighted mix with templated paths (scenario file) vs the
#                           plain single-URL run, both closed model: the cost of templating
#   bench/run.sh watch      the same closed-model run with and without watched tiers (--watch host
#                           --watch process:nginx), interleaved, wrk in the same rounds
#   bench/run.sh checks     the same closed-model scenario with and without response checks
#                           (expect: status, header, body text, RE2 pattern), interleaved, with wrk
#   bench/run.sh uring      headroom --io uring vs --io epoll vs wrk, interleaved in the same rounds
#                           (URING_ROUNDS, default 8): closed model req/s, CPU/request and
#                           syscalls/request (medians, min..max, ratios); the open model at 90% of
#                           each path's closed maximum; RSS per connection at MEMORY_CONNECTIONS on
#                           both paths; the stall test (headroom target --stall 500ms/5s, 1,000/s)
#                           on both paths: p50/p99/p99.9
#   bench/run.sh soak-watch a soak phase (open model, SOAK_WATCH_RATE) for SOAK_WATCH_S with four
#                           watched tiers (host, process:nginx, a PostgreSQL 15 and a Redis 7 that
#                           the bench starts on 127.0.0.1): headroom's RSS every 10 s, its slope,
#                           and the size of tiers.jsonl and results.hlog (flat RSS = streamed)
#   bench/run.sh tls        HTTPS (nginx with TLS, 1 worker): headroom vs wrk on keep-alive
#                           connections, then every request on a new connection (Connection:
#                           close: a handshake per request; headroom resumes its sessions)
#   bench/run.sh h2         HTTP/2 (nginx with TLS and HTTP/2, 1 worker): headroom --http2 -c N
#                           --max-streams M vs h2load -c N -m M (H2_CONNECTIONS, H2_STREAMS), then
#                           the same over h2c; new TLS connection per request (HTTP/1.1,
#                           Connection: close) vs h2load --h1; the stall test over h2 and HTTP/1.1
#                           (nginx's worker stopped 500 ms every 5 s, 1,000/s, STALL_S)
#
# Environment: HEADROOM (binary, default build/headroom), ROUNDS (3), DURATION_S (10),
# CONNECTIONS (50), SYSCALL_S (3), URING_ROUNDS (8), STALL_S (20), MEMORY_CONNECTIONS (10000), MEMORY_S (20), SOAK_S (300),
# SOAK_WATCH_S (1800), SOAK_WATCH_RATE (500), PG_BIN (/usr/lib/postgresql/15/bin),
# H2_CONNECTIONS (4), H2_STREAMS (32), CLIENT_CPU (0), SERVER_CPU (1), KEEP=1 keeps the temp dir. All traffic goes to 127.0.0.1.
# See bench/README.md for what each figure means.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HEADROOM=${HEADROOM:-$ROOT/build/headroom}
ROUNDS=${ROUNDS:-3}
DURATION_S=${DURATION_S:-10}
CONNECTIONS=${CONNECTIONS:-50}
SYSCALL_S=${SYSCALL_S:-3}
MEMORY_CONNECTIONS=${MEMORY_CONNECTIONS:-10000}
URING_ROUNDS=${URING_ROUNDS:-8}
STALL_S=${STALL_S:-20}
TARGET_PID=""
MEMORY_S=${MEMORY_S:-20}
SOAK_S=${SOAK_S:-300}
SOAK_WATCH_S=${SOAK_WATCH_S:-1800}
SOAK_WATCH_RATE=${SOAK_WATCH_RATE:-500}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PID=""
REDIS_PID=""
MODE=${1:-closed}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/headroom-bench.XXXXXX")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
cleanup() {
  stop_nginx
  stop_pid "$PG_PID" INT  # PostgreSQL's fast shutdown
  stop_pid "$REDIS_PID" TERM
  stop_pid "$TARGET_PID" TERM
  if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need nginx wrk taskset jq awk ss /usr/bin/time
[ -x "$HEADROOM" ] || echo "bench: warning: $HEADROOM is not built; headroom figures will be n/a" >&2

# hr_run TAG ARGS...: headroom run against nginx pinned to CLIENT_CPU; results in $WORK/TAG/.
# Returns 1 (with a message) when headroom fails or writes no results.json.
hr_run() {
  local tag=$1
  shift
  [ -x "$HEADROOM" ] || return 1
  if ! /usr/bin/time -f "%U %S" -o "$WORK/$tag.time" taskset -c "$CLIENT_CPU" \
    "$HEADROOM" run "${HR_URL:-http://127.0.0.1:$NGINX_PORT/}" --threads 1 --out "$WORK/$tag" --quiet "$@" \
    >"$WORK/$tag.log" 2>&1 || [ ! -s "$WORK/$tag/results.json" ]; then
    echo "  headroom run failed: $(tail -n 1 "$WORK/$tag.log")" >&2
    return 1
  fi
}
hr_field() { jq -r "$2 // empty" "$WORK/$1/results.json"; }

# hr_figures TAG: "REQ_PER_S CPU_US_PER_REQUEST" of a finished headroom run (CPU from $WORK/TAG.time).
hr_figures() {
  local req
  req=$(hr_field "$1" .requests.total)
  echo "$(hr_field "$1" .throughput.achieved_rps) $(calc "$(cpu_seconds "$WORK/$1.time") * 1e6 / $req")"
}

wrk_run() {
  local tag=$1 seconds=$2
  /usr/bin/time -f "%U %S" -o "$WORK/$tag.time" taskset -c "$CLIENT_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"${seconds}s" "http://127.0.0.1:$NGINX_PORT/" >"$WORK/$tag.log" 2>&1
}

closed_model() {
  start_nginx 1000
  echo "Closed model: $CONNECTIONS connections, 1 client thread on CPU $CLIENT_CPU, nginx (1 worker) on CPU $SERVER_CPU"
  echo "target http://127.0.0.1:$NGINX_PORT/ ; $ROUNDS interleaved rounds of ${DURATION_S}s"
  echo
  printf '%-6s %-9s %12s %14s\n' round client "req/s" "cpu_us/req"
  local hr_rps=() hr_cpu=() wrk_rps_list=() wrk_cpu=() i rps req cpu
  for i in $(seq 1 "$ROUNDS"); do
    if hr_run "hr.$i" --connections "$CONNECTIONS" --duration "${DURATION_S}s"; then
      read -r rps cpu <<<"$(hr_figures "hr.$i")"
      hr_rps+=("$rps") && hr_cpu+=("$cpu")
      printf '%-6s %-9s %12.0f %14.3f\n' "$i" headroom "$rps" "$cpu"
    else
      printf '%-6s %-9s %12s %14s\n' "$i" headroom n/a n/a
    fi
    wrk_run "wrk.$i" "$DURATION_S"
    rps=$(wrk_rps "$WORK/wrk.$i.log")
    req=$(wrk_requests "$WORK/wrk.$i.log")
    cpu=$(calc "$(cpu_seconds "$WORK/wrk.$i.time") * 1e6 / $req")
    wrk_rps_list+=("$rps") && wrk_cpu+=("$cpu")
    printf '%-6s %-9s %12.0f %14.3f\n' "$i" wrk "$rps" "$cpu"
  done

  # System calls on a separate, shorter run (counting them costs a little throughput).
  local hr_sys="" wrk_sys=""
  if hr_run hr.sys --connections "$CONNECTIONS" --duration "${SYSCALL_S}s" 2>/dev/null; then
    syscall_count "$WORK/hr.sys.count" taskset -c "$CLIENT_CPU" "$HEADROOM" run \
      "http://127.0.0.1:$NGINX_PORT/" --threads 1 --connections "$CONNECTIONS" \
      --duration "${SYSCALL_S}s" --out "$WORK/hr.sys" --quiet >/dev/null 2>&1 || true
    req=$(hr_field hr.sys .requests.total)
    [ -s "$WORK/hr.sys.count" ] && [ -n "$req" ] && hr_sys=$(calc "$(cat "$WORK/hr.sys.count") / $req")
  fi
  syscall_count "$WORK/wrk.sys.count" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" \
    -d"${SYSCALL_S}s" "http://127.0.0.1:$NGINX_PORT/" >"$WORK/wrk.sys.log" 2>&1
  wrk_sys=$(calc "$(cat "$WORK/wrk.sys.count") / $(wrk_requests "$WORK/wrk.sys.log")")

  local m_hr_rps m_wrk_rps m_hr_cpu m_wrk_cpu
  m_hr_rps=$(median "${hr_rps[@]+"${hr_rps[@]}"}")
  m_wrk_rps=$(median "${wrk_rps_list[@]}")
  m_hr_cpu=$(median "${hr_cpu[@]+"${hr_cpu[@]}"}")
  m_wrk_cpu=$(median "${wrk_cpu[@]}")
  echo
  printf '%-24s %12s %12s %14s\n' "median" headroom wrk "headroom/wrk"
  printf '%-24s %12s %12s %14s\n' "req/s" "$(fmt 0 "$m_hr_rps")" "$(fmt 0 "$m_wrk_rps")" "$(ratio "$m_hr_rps" "$m_wrk_rps")"
  printf '%-24s %12s %12s %14s\n' "client cpu_us/req" "$(fmt 3 "$m_hr_cpu")" "$(fmt 3 "$m_wrk_cpu")" "$(ratio "$m_hr_cpu" "$m_wrk_cpu")"
  printf '%-24s %12s %12s %14s\n' "syscalls/req (${SYSCALL_S}s run)" "$(fmt 2 "$hr_sys")" "$(fmt 2 "$wrk_sys")" "$(ratio "$hr_sys" "$wrk_sys")"
  echo
  open_model "$m_hr_rps"
  stop_nginx
}

open_model() {
  local max=$1 pct rate requested achieved late
  if [ -z "$max" ]; then
    echo "Open model: skipped (no closed-model maximum from headroom)"
    return
  fi
  echo "Open model: headroom --rate at 50% and 90% of the closed-model maximum ($(fmt 0 "$max") req/s), ${DURATION_S}s each, up to $((CONNECTIONS * 2)) connections"
  printf '%-6s %14s %14s %12s %18s\n' load "requested/s" "achieved/s" "achieved %" "pacer late p99"
  for pct in 50 90; do
    rate=$(awk "BEGIN { printf \"%d\", $max * $pct / 100 }")
    # Cap at twice the closed model's connections: the maximum was measured with CONNECTIONS, and
    # an uncapped open model opens more whenever a burst queues, which on one nginx worker lowers
    # the very throughput being tested.
    if hr_run "open.$pct" --rate "${rate}/s" --connections "$((CONNECTIONS * 2))" --duration "${DURATION_S}s"; then
      requested=$(hr_field "open.$pct" .throughput.requested_rps)
      achieved=$(hr_field "open.$pct" .throughput.achieved_rps)
      late=$(hr_field "open.$pct" .generator.pacer_lateness_us.p99)
      printf '%-6s %14.0f %14.0f %11.1f%% %16sus\n' "$pct%" "$requested" "$achieved" \
        "$(calc "100 * $achieved / $requested")" "$late"
    else
      printf '%-6s %14s %14s %12s %18s\n' "$pct%" "$rate" n/a n/a n/a
    fi
  done
}

# sample_rss PID INTERVAL_S OUT [DEADLINE_S]: "ELAPSED_S KIB" lines, VmRSS of PID every INTERVAL_S
# (elapsed time from the clock, so the sampling's own cost does not skew it) until PID exits;
# past DEADLINE_S, PID is sent SIGINT (once), so a run that hangs cannot keep the bench going.
sample_rss() {
  local pid=$1 interval=$2 out=$3 deadline=${4:-} start=$EPOCHREALTIME now t kib stopped=0
  : >"$out"
  while kill -0 "$pid" 2>/dev/null; do
    now=$EPOCHREALTIME
    t=$(calc "$now - $start")
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$kib" ] && echo "$t $kib" >>"$out"
    if [ -n "$deadline" ] && [ "$stopped" = 0 ] && awk -v t="$t" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
      echo "bench: headroom still running after ${deadline}s; sending SIGINT" >&2
      kill -INT "$pid" 2>/dev/null || true
      stopped=1
    fi
    # (In awk, `>` after print or printf redirects to a file: compare in a condition only.)
    sleep "$(awk -v i="$interval" -v a="$now" -v b="$EPOCHREALTIME" 'BEGIN { s = i - (b - a); if (s < 0) s = 0; print s }')"
  done
}

# hr_background TAG ARGS...: starts headroom run pinned to CLIENT_CPU; sets HR_PID.
hr_background() {
  local tag=$1
  shift
  [ -x "$HEADROOM" ] || die "$HEADROOM is not built"
  taskset -c "$CLIENT_CPU" "$HEADROOM" run "http://127.0.0.1:$NGINX_PORT/" --threads 1 \
    --out "$WORK/$tag" --quiet "$@" >"$WORK/$tag.log" 2>&1 &
  HR_PID=$!
}

memory() {
  memory_limits
  start_nginx "$MEMORY_CONNECTIONS"
  echo "Memory: headroom VmRSS, closed model, ${MEMORY_S}s runs against nginx (1 worker)"
  memory_per_connection mem
  stop_nginx
}

memory_limits() {
  ulimit -n "$(ulimit -Hn)" || true
  [ "$(ulimit -n)" -gt $((MEMORY_CONNECTIONS + 100)) ] ||
    die "ulimit -n is $(ulimit -n); $MEMORY_CONNECTIONS connections need more"
}

# memory_per_connection TAG [ARGS...]: headroom at 1 and at MEMORY_CONNECTIONS connections (ARGS
# added to both runs); prints both peaks and sets RSS_PER_CONN (bytes; empty when a run failed).
# The kernel's count of connections dropped because a listen queue was full (TcpExtListenOverflows).
listen_overflows() {
  awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) col[$i] = i; n = 1 } else print $col["ListenOverflows"] }' \
    /proc/net/netstat
}

memory_per_connection() {
  local tag=$1
  shift
  local peak=() conns opened failed=0
  RSS_PER_CONN=""
  for conns in 1 "$MEMORY_CONNECTIONS"; do
    overflows=$(listen_overflows)
    hr_background "$tag.$conns" --connections "$conns" --duration "${MEMORY_S}s" "$@"
    sample_rss "$HR_PID" 1 "$WORK/$tag.$conns.rss"
    if ! wait "$HR_PID"; then
      echo "  headroom exited with an error: $(tail -n 1 "$WORK/$tag.$conns.log")" >&2
      failed=1
    fi
    overflows=$(($(listen_overflows) - overflows))
    # The peak over the run: the steady state once every connection is open.
    peak+=("$(sort -k2 -n "$WORK/$tag.$conns.rss" | tail -n 1 | awk '{ print $2 }')")
    opened=$(jq -r '"\(.generator.connections_opened), errors: \(.requests.errors)"' "$WORK/$tag.$conns/results.json" 2>/dev/null || echo n/a)
    printf '  %-6s %6s connections: peak VmRSS %8s KiB (connections opened: %s; listen queue overflows: %s)\n' \
      "$tag" "$conns" "${peak[-1]}" "$opened" "$overflows"
  done
  if [ "$failed" = 1 ]; then
    echo "RSS per connection ($tag): n/a (a headroom run failed)"
    return
  fi
  RSS_PER_CONN=$(calc "(${peak[1]} - ${peak[0]}) * 1024 / ($MEMORY_CONNECTIONS - 1)")
  printf 'RSS per connection (%s): %s bytes  ((peak at %s - peak at 1) / %s)\n' "$tag" "$RSS_PER_CONN" \
    "$MEMORY_CONNECTIONS" "$((MEMORY_CONNECTIONS - 1))"
}

soak() {
  start_nginx 1000
  echo "Soak: headroom closed model, $CONNECTIONS connections, ${SOAK_S}s; VmRSS every 10 s"
  hr_background soak --connections "$CONNECTIONS" --duration "${SOAK_S}s"
  sample_rss "$HR_PID" 10 "$WORK/soak.rss"
  wait "$HR_PID" || echo "  headroom exited with an error: $(tail -n 1 "$WORK/soak.log")" >&2
  awk '{ printf "  t=%4ds  VmRSS %8d KiB\n", $1, $2 }' "$WORK/soak.rss"
  # Growth after the first minute (warm-up: buffers, histograms and pages first touched).
  awk '$1 >= 60 { if (first == "") first = $2; last = $2 }
       END { if (first == "") print "RSS growth after 60s: n/a (run shorter than 60 s)";
             else printf "RSS growth after 60s: %d KiB (%d -> %d)\n", last - first, first, last }' \
    "$WORK/soak.rss"
  if [ -s "$WORK/soak/results.json" ]; then
    echo "requests: $(jq -r .requests.total "$WORK/soak/results.json")"
  fi
  stop_nginx
}

# hr_scenario TAG FILE: headroom run FILE pinned to CLIENT_CPU; results in $WORK/TAG/.
hr_scenario() {
  if ! /usr/bin/time -f "%U %S" -o "$WORK/$1.time" taskset -c "$CLIENT_CPU" \
    "$HEADROOM" run "$2" --threads 1 --out "$WORK/$1" --quiet >"$WORK/$1.log" 2>&1 && [ ! -s "$WORK/$1/results.json" ]; then
    echo "  $1 failed: $(tail -n 1 "$WORK/$1.log")" >&2
    return 1
  fi
}

# wrk_round I: the round's wrk run, appended to the caller's wrk_rps and printed.
wrk_round() {
  local rps
  if wrk_run "wrk.$1" "$DURATION_S"; then
    rps=$(wrk_rps "$WORK/wrk.$1.log")
    wrk_rps+=("$rps")
    printf '%-6s %-8s %12.0f\n' "$1" wrk "$rps"
  fi
}

# pair_table A B: the medians of the caller's A_rps, B_rps, A_cpu, B_cpu and wrk_rps arrays, and
# the ratios A/B.
pair_table() {
  local -n a_rps=$1_rps b_rps=$2_rps a_cpu=$1_cpu b_cpu=$2_cpu
  local a b c d e
  a=$(median "${a_rps[@]+"${a_rps[@]}"}")
  b=$(median "${b_rps[@]+"${b_rps[@]}"}")
  c=$(median "${a_cpu[@]+"${a_cpu[@]}"}")
  d=$(median "${b_cpu[@]+"${b_cpu[@]}"}")
  e=$(median "${wrk_rps[@]+"${wrk_rps[@]}"}")
  echo
  printf '%-20s %12s %12s %14s %12s\n' median "$1" "$2" "$1/$2" wrk
  printf '%-20s %12s %12s %14s %12s\n' "req/s" "$(fmt 0 "$a")" "$(fmt 0 "$b")" "$(ratio "$a" "$b")" "$(fmt 0 "$e")"
  printf '%-20s %12s %12s %14s\n' "client cpu_us/req" "$(fmt 3 "$c")" "$(fmt 3 "$d")" "$(ratio "$c" "$d")"
}

# checks: the same closed-model scenario with and without response checks (status, a header, body
# text and an RE2 pattern on every response), interleaved, with wrk in the same rounds.
checks_cost() {
  start_nginx 1000
  local plain="$WORK/plain.yaml" checked="$WORK/checked.yaml"
  local common="target: http://127.0.0.1:$NGINX_PORT
phases:
  - { name: run, closed: { connections: $CONNECTIONS, duration: ${DURATION_S}s } }"
  printf 'name: plain\n%s\nrequests:\n  - { name: home, path: / }\n' "$common" >"$plain"
  printf '%s\n' "name: checked" "$common" "requests:" "  - name: home" "    path: /" \
    "    expect: { status: 200, headers: { Server: { contains: nginx } }, body_contains: ok, body_matches: '^ok\$' }" \
    >"$checked"
  "$HEADROOM" validate "$plain" "$checked" >/dev/null || die "bench scenarios do not validate"
  echo "Response checks vs none: closed model, $CONNECTIONS connections, 1 thread on CPU $CLIENT_CPU, $ROUNDS rounds of ${DURATION_S}s"
  printf '%-6s %-8s %12s %14s %8s\n' round run "req/s" "cpu_us/req" errors
  local plain_rps=() plain_cpu=() checked_rps=() checked_cpu=() wrk_rps=() i rps cpu tag
  for i in $(seq 1 "$ROUNDS"); do
    for tag in plain checked; do
      if hr_scenario "$tag.$i" "$WORK/$tag.yaml"; then
        read -r rps cpu <<<"$(hr_figures "$tag.$i")"
        if [ "$tag" = plain ]; then plain_rps+=("$rps") && plain_cpu+=("$cpu"); else checked_rps+=("$rps") && checked_cpu+=("$cpu"); fi
        printf '%-6s %-8s %12.0f %14.3f %8s\n' "$i" "$tag" "$rps" "$cpu" "$(hr_field "$tag.$i" .requests.errors)"
      fi
    done
    wrk_round "$i"
  done
  pair_table checked plain
  stop_nginx
}

# mix: scenario runs render templated requests and keep per-request statistics; compare them with
# the plain run, interleaved, same connections and duration.
mix() {
  start_nginx 1000
  local scenario="$WORK/mix.yaml"
  cat >"$scenario" <<YAML
name: bench-mix
target: http://127.0.0.1:$NGINX_PORT
requests:
  - { name: home, weight: 60, path: / }
  - { name: item, weight: 30, path: "/items/{{ randint(1, 100000) }}?ref={{ choice(a, b, c) }}" }
  - { name: user, weight: 10, path: "/users/{{ seq() }}/{{ uuid() }}" }
phases:
  - { name: mix, closed: { connections: $CONNECTIONS, duration: ${DURATION_S}s } }
YAML
  echo "Templated mix vs plain: closed model, $CONNECTIONS connections, 1 thread on CPU $CLIENT_CPU, $ROUNDS rounds of ${DURATION_S}s"
  printf '%-6s %-7s %12s %14s\n' round run "req/s" "cpu_us/req"
  local plain_rps=() plain_cpu=() mix_rps=() mix_cpu=() i rps req cpu
  for i in $(seq 1 "$ROUNDS"); do
    if hr_run "plain.$i" --connections "$CONNECTIONS" --duration "${DURATION_S}s"; then
      read -r rps cpu <<<"$(hr_figures "plain.$i")"
      plain_rps+=("$rps") && plain_cpu+=("$cpu")
      printf '%-6s %-7s %12.0f %14.3f\n' "$i" plain "$rps" "$cpu"
    fi
    if hr_scenario "mix.$i" "$scenario"; then
      read -r rps cpu <<<"$(hr_figures "mix.$i")"
      mix_rps+=("$rps") && mix_cpu+=("$cpu")
      printf '%-6s %-7s %12.0f %14.3f\n' "$i" mix "$rps" "$cpu"
    fi
  done
  local a b c d
  a=$(median "${mix_rps[@]+"${mix_rps[@]}"}")
  b=$(median "${plain_rps[@]+"${plain_rps[@]}"}")
  c=$(median "${mix_cpu[@]+"${mix_cpu[@]}"}")
  d=$(median "${plain_cpu[@]+"${plain_cpu[@]}"}")
  echo
  printf '%-20s %12s %12s %12s\n' median mix plain mix/plain
  printf '%-20s %12s %12s %12s\n' "req/s" "$(fmt 0 "$a")" "$(fmt 0 "$b")" "$(ratio "$a" "$b")"
  printf '%-20s %12s %12s %12s\n' "client cpu_us/req" "$(fmt 3 "$c")" "$(fmt 3 "$d")" "$(ratio "$c" "$d")"
  stop_nginx
}

# watch: the same closed-model run with and without tiers watched beside it (host and the nginx
# processes, sampled at 1 Hz on the watcher's own thread), interleaved, with wrk in the same rounds
# as the peer that shows how much the machine itself moved between rounds.
watch_cost() {
  start_nginx 1000
  echo "Watched tiers vs none: closed model, $CONNECTIONS connections, 1 thread on CPU $CLIENT_CPU, $ROUNDS rounds of ${DURATION_S}s"
  printf '%-6s %-8s %12s %14s\n' round run "req/s" "cpu_us/req"
  local plain_rps=() plain_cpu=() watched_rps=() watched_cpu=() wrk_rps=() i rps cpu
  for i in $(seq 1 "$ROUNDS"); do
    if hr_run "plain.$i" --connections "$CONNECTIONS" --duration "${DURATION_S}s"; then
      read -r rps cpu <<<"$(hr_figures "plain.$i")"
      plain_rps+=("$rps") && plain_cpu+=("$cpu")
      printf '%-6s %-8s %12.0f %14.3f\n' "$i" plain "$rps" "$cpu"
    fi
    if hr_run "watch.$i" --connections "$CONNECTIONS" --duration "${DURATION_S}s" --watch host --watch web=process:nginx; then
      read -r rps cpu <<<"$(hr_figures "watch.$i")"
      watched_rps+=("$rps") && watched_cpu+=("$cpu")
      printf '%-6s %-8s %12.0f %14.3f\n' "$i" watched "$rps" "$cpu"
    fi
    wrk_round "$i"
  done
  pair_table watched plain
  stop_nginx
}

# soak-watch: a long open-model soak with four tiers watched beside it. The watcher streams each
# sample to tiers.jsonl and keeps only per-window aggregates, so headroom's RSS must stay flat
# while tiers.jsonl (and results.hlog) grow linearly with the run.
soak_watch() {
  need redis-server psql pg_isready
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb is missing (PostgreSQL 15; run scripts/setup.sh)"
  [ -x "$HEADROOM" ] || die "$HEADROOM is not built"
  start_nginx 1000
  start_postgres
  start_redis
  local out="$WORK/soak-watch" scenario="$WORK/soak-watch.yaml" window_s
  window_s=$((SOAK_WATCH_S / 6 > 0 ? SOAK_WATCH_S / 6 : 1))
  cat >"$scenario" <<YAML
name: bench-soak-watch
target: http://127.0.0.1:$NGINX_PORT
requests:
  - { name: home, path: / }
phases:
  - { name: soak, soak: { rate: ${SOAK_WATCH_RATE}/s, duration: ${SOAK_WATCH_S}s, window: ${window_s}s } }
YAML
  echo "Soak with watched tiers: ${SOAK_WATCH_RATE} req/s (open model) for ${SOAK_WATCH_S}s, 1 thread on CPU $CLIENT_CPU;"
  echo "nginx (1 worker), PostgreSQL (port $PG_PORT) and Redis (port $REDIS_PORT) on CPU $SERVER_CPU; VmRSS every 10 s"
  taskset -c "$CLIENT_CPU" "$HEADROOM" run "$scenario" --threads 1 --out "$out" --quiet \
    --watch host --watch process:nginx \
    --watch "postgres:host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" \
    --watch "redis:127.0.0.1:$REDIS_PORT" >"$WORK/soak-watch.log" 2>&1 &
  HR_PID=$!
  # Bounded: a run still going 2 minutes after its planned end is stopped (SIGINT: it still
  # writes its results, marked interrupted).
  sample_rss "$HR_PID" 10 "$WORK/soak-watch.rss" $((SOAK_WATCH_S + 120))
  wait "$HR_PID" || echo "  headroom exited with an error: $(tail -n 1 "$WORK/soak-watch.log")" >&2
  awk '{ printf "  t=%5ds  VmRSS %8d KiB\n", $1, $2 }' "$WORK/soak-watch.rss"
  echo
  # RSS at the first sample at or after 60 s, at the end, the maximum, and the least-squares
  # slope over the last two thirds of the run (the first third is warm-up: allocator arenas,
  # connection buffers and the aggregates' maps first filled).
  awk -v total="$SOAK_WATCH_S" '
    $1 >= 60 && at60 == "" { at60 = $2 }
    { last = $2; if ($2 > max) max = $2 }
    $1 >= total / 3 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
    END {
      printf "%-32s %s KiB\n", "RSS at 1 min", (at60 == "" ? "n/a" : at60)
      printf "%-32s %s KiB\n", "RSS at the end", last
      printf "%-32s %s KiB\n", "RSS max", max
      if (n >= 3 && n * sxx - sx * sx > 0)
        printf "%-32s %.1f KiB/min (%d samples)\n", "RSS slope, last 2/3 of the run", 60 * (n * sxy - sx * sy) / (n * sxx - sx * sx), n
      else
        printf "%-32s n/a (too few samples)\n", "RSS slope, last 2/3 of the run"
    }' "$WORK/soak-watch.rss"
  local f
  for f in tiers.jsonl results.hlog; do
    if [ -f "$out/$f" ]; then
      printf '%-32s %s bytes, %s lines\n' "$f" "$(stat -c %s "$out/$f")" "$(wc -l <"$out/$f")"
    else
      printf '%-32s missing\n' "$f"
    fi
  done
  if [ -s "$out/results.json" ]; then
    jq -r '"requested/s \(.throughput.requested_rps)  achieved/s \(.throughput.achieved_rps)  requests \(.requests.total)  errors \(.requests.errors)  verdict \(.verdict)",
           "headroom rss_bytes at the end (results.json) \(.generator.rss_bytes)",
           (.phases[0].tiers // [] | .[] | .name as $t | .sources[] |
             "  tier \($t): \(.label): \(.samples) samples, \(.failures) failures\(if .error then " (" + .error + ")" else "" end)")' \
      "$out/results.json"
  fi
  stop_nginx
}

# start_postgres: a throw-away PostgreSQL cluster in $WORK/pg (initdb, trust authentication,
# pg_stat_statements), listening on a free 127.0.0.1 port and a unix socket in the same folder,
# pinned to SERVER_CPU. PostgreSQL refuses to run as root, so as root it runs as nobody. Sets
# PG_PORT and PG_PID (the postmaster, stopped by cleanup).
start_postgres() {
  local dir="$WORK/pg" as=()
  mkdir -p "$dir"
  PG_PORT=$(free_port)
  if [ "$(id -u)" -eq 0 ]; then
    chmod 711 "$WORK"
    chown "$(id -u nobody):$(id -g nobody)" "$dir"
    as=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
    --no-instructions >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 1 "$dir/initdb.log")"
  taskset -c "$SERVER_CPU" "${as[@]}" "$PG_BIN/postgres" -D "$dir/data" -p "$PG_PORT" -k "$dir" \
    -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements \
    -c autovacuum=off -c fsync=off -c max_connections=20 -c shared_buffers=16MB >"$dir/log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 300); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    kill -0 "$PG_PID" 2>/dev/null || die "postgres exited: $(tail -n 1 "$dir/log")"
    sleep 0.1
  done
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "postgres is not ready after 30 s"
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE EXTENSION pg_stat_statements" \
    >"$dir/psql.log" 2>&1 || die "CREATE EXTENSION failed: $(tail -n 1 "$dir/psql.log")"
}

# start_redis: redis-server on a free 127.0.0.1 port, no persistence, pinned to SERVER_CPU.
# Sets REDIS_PORT and REDIS_PID.
start_redis() {
  local dir="$WORK/redis"
  mkdir -p "$dir"
  REDIS_PORT=$(free_port)
  taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no --dir "$dir" >"$dir/log" 2>&1 &
  REDIS_PID=$!
  wait_port "$REDIS_PORT" "$REDIS_PID" "$dir/log"
}

# spread DECIMALS V...: "min..max" of the numbers given, rounded (n/a if none).
spread() {
  local d=$1
  shift
  [ $# -gt 0 ] || { echo "n/a"; return; }
  printf '%s\n' "$@" | sort -g | awk -v d="$d" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.*f..%.*f", d, lo, d, hi }'
}

# hr_syscalls TAG ARGS...: a SYSCALL_S closed-model run under the system call counter; prints
# system calls per request (nothing when the run failed).
hr_syscalls() {
  local tag=$1 req
  shift
  syscall_count "$WORK/$tag.count" taskset -c "$CLIENT_CPU" "$HEADROOM" run \
    "http://127.0.0.1:$NGINX_PORT/" --threads 1 --connections "$CONNECTIONS" \
    --duration "${SYSCALL_S}s" --out "$WORK/$tag" --quiet "$@" >/dev/null 2>&1 || true
  req=$(jq -r '.requests.total // empty' "$WORK/$tag/results.json" 2>/dev/null || true)
  [ -s "$WORK/$tag.count" ] && [ -n "$req" ] && calc "$(cat "$WORK/$tag.count") / $req"
}

wrk_syscalls() {
  syscall_count "$WORK/$1.count" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" \
    -d"${SYSCALL_S}s" "http://127.0.0.1:$NGINX_PORT/" >"$WORK/$1.log" 2>&1
  calc "$(cat "$WORK/$1.count") / $(wrk_requests "$WORK/$1.log")"
}

# uring: the io_uring path against the epoll path and wrk, every figure from the same rounds.
uring_compare() {
  [ -x "$HEADROOM" ] || die "$HEADROOM is not built"
  if ! "$HEADROOM" run "http://127.0.0.1:1/" --io uring --duration 1ms --quiet >/dev/null 2>"$WORK/probe.log"; then
    if grep -q "io_uring is not available" "$WORK/probe.log"; then die "$(tail -n 1 "$WORK/probe.log")"; fi
  fi
  start_nginx 1000
  echo "Closed model: $CONNECTIONS connections, 1 client thread on CPU $CLIENT_CPU, nginx (1 worker) on CPU $SERVER_CPU"
  echo "$URING_ROUNDS interleaved rounds: wrk, headroom --io epoll, headroom --io uring, ${DURATION_S}s each,"
  echo "then each under the system call counter for ${SYSCALL_S}s"
  echo
  printf '%-6s %-8s %12s %12s %12s\n' round client "req/s" "cpu_us/req" "syscalls/req"
  local wrk_rps=() wrk_cpu=() wrk_sys=() epoll_rps=() epoll_cpu=() epoll_sys=() uring_rps=() uring_cpu=() uring_sys=()
  local i rps cpu req sys io
  for i in $(seq 1 "$URING_ROUNDS"); do
    wrk_run "wrk.$i" "$DURATION_S"
    rps=$(wrk_rps "$WORK/wrk.$i.log")
    req=$(wrk_requests "$WORK/wrk.$i.log")
    cpu=$(calc "$(cpu_seconds "$WORK/wrk.$i.time") * 1e6 / $req")
    sys=$(wrk_syscalls "wrk.sys.$i")
    wrk_rps+=("$rps") && wrk_cpu+=("$cpu") && wrk_sys+=("$sys")
    printf '%-6s %-8s %12.0f %12.3f %12.3f\n' "$i" wrk "$rps" "$cpu" "$sys"
    for io in epoll uring; do
      if hr_run "$io.$i" --io "$io" --connections "$CONNECTIONS" --duration "${DURATION_S}s"; then
        [ "$(hr_field "$io.$i" .generator.io)" = "$io" ] || die "results.json of --io $io says $(hr_field "$io.$i" .generator.io)"
        read -r rps cpu <<<"$(hr_figures "$io.$i")"
        sys=$(hr_syscalls "$io.sys.$i" --io "$io")
        local -n r=${io}_rps c=${io}_cpu s=${io}_sys
        r+=("$rps") && c+=("$cpu")
        [ -n "$sys" ] && s+=("$sys")
        printf '%-6s %-8s %12.0f %12.3f %12s\n' "$i" "$io" "$rps" "$cpu" "$(fmt 3 "$sys")"
        unset -n r c s
      else
        printf '%-6s %-8s %12s %12s %12s\n' "$i" "$io" n/a n/a n/a
      fi
    done
  done
  local m k d
  echo
  printf '%-18s %24s %24s %24s %10s %10s %10s\n' "median (min..max)" wrk epoll uring uring/wrk uring/epoll epoll/wrk
  for k in rps cpu sys; do
    local -n w=wrk_$k e=epoll_$k u=uring_$k
    local mw me mu
    mw=$(median "${w[@]+"${w[@]}"}") me=$(median "${e[@]+"${e[@]}"}") mu=$(median "${u[@]+"${u[@]}"}")
    case $k in rps) m="req/s" d=0 ;; cpu) m="client cpu_us/req" d=2 ;; sys) m="syscalls/req" d=2 ;; esac
    printf '%-18s %24s %24s %24s %10s %10s %10s\n' "$m" \
      "$(fmt "$d" "$mw") ($(spread "$d" "${w[@]+"${w[@]}"}"))" "$(fmt "$d" "$me") ($(spread "$d" "${e[@]+"${e[@]}"}"))" \
      "$(fmt "$d" "$mu") ($(spread "$d" "${u[@]+"${u[@]}"}"))" "$(ratio "$mu" "$mw")" "$(ratio "$mu" "$me")" "$(ratio "$me" "$mw")"
    [ "$k" = rps ] && { URING_MAX=$mu; EPOLL_MAX=$me; }
    unset -n w e u
  done
  echo
  echo "Open model at 90% of each path's closed-model median, ${DURATION_S}s, up to $((CONNECTIONS * 2)) connections"
  printf '%-6s %14s %14s %12s %18s\n' io "requested/s" "achieved/s" "achieved %" "pacer late p99"
  local rate requested achieved late max
  for io in epoll uring; do
    if [ "$io" = epoll ]; then max=$EPOLL_MAX; else max=$URING_MAX; fi
    [ -n "$max" ] || { printf '%-6s %14s\n' "$io" n/a; continue; }
    rate=$(awk "BEGIN { printf \"%d\", $max * 0.9 }")
    if hr_run "open.$io" --io "$io" --rate "${rate}/s" --connections "$((CONNECTIONS * 2))" --duration "${DURATION_S}s"; then
      requested=$(hr_field "open.$io" .throughput.requested_rps)
      achieved=$(hr_field "open.$io" .throughput.achieved_rps)
      late=$(hr_field "open.$io" .generator.pacer_lateness_us.p99)
      printf '%-6s %14.0f %14.0f %11.2f%% %16sus\n' "$io" "$requested" "$achieved" \
        "$(calc "100 * $achieved / $requested")" "$late"
    else
      printf '%-6s %14s %14s %12s %18s\n' "$io" "$rate" n/a n/a n/a
    fi
  done
  stop_nginx
  echo
  memory_limits
  start_nginx "$MEMORY_CONNECTIONS"
  echo "Memory: headroom VmRSS, closed model, ${MEMORY_S}s runs against nginx (1 worker)"
  local per_epoll per_uring
  memory_per_connection mem-epoll --io epoll
  per_epoll=$RSS_PER_CONN
  memory_per_connection mem-uring --io uring
  per_uring=$RSS_PER_CONN
  echo "RSS per connection uring/epoll: $(ratio "$per_uring" "$per_epoll")"
  stop_nginx
  echo
  stall_compare
}

# The stall test on both paths: the embedded target freezes 500 ms every 5 s; 1,000 requests/s
# (open model) for STALL_S. Timed from the intended start, both paths must see the same stall.
stall_compare() {
  taskset -c "$SERVER_CPU" "$HEADROOM" target --port 0 --threads 1 --stall 500ms/5s >"$WORK/target.out" 2>&1 &
  TARGET_PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/target.out" && break
    kill -0 "$TARGET_PID" 2>/dev/null || die "headroom target exited: $(cat "$WORK/target.out")"
    sleep 0.1
  done
  local port io
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/target.out")
  [ -n "$port" ] || die "headroom target did not report its port"
  echo "Stall test: headroom target --stall 500ms/5s (1 thread, CPU $SERVER_CPU), 1000/s for ${STALL_S}s"
  printf '%-6s %10s %10s %10s %10s %10s %8s\n' io p50 p99 p99.9 max delayed errors
  for io in epoll uring; do
    if taskset -c "$CLIENT_CPU" "$HEADROOM" run "http://127.0.0.1:$port/" --io "$io" --threads 1 --rate 1000/s \
      --duration "${STALL_S}s" --out "$WORK/stall.$io" --quiet >"$WORK/stall.$io.log" 2>&1 ||
      [ -s "$WORK/stall.$io/results.json" ]; then
      jq -r --arg io "$io" '[$io, (.latency.response_time_us.p50|tostring) + "us", (.latency.response_time_us.p99|tostring) + "us",
        (.latency.response_time_us.p99_9|tostring) + "us", (.latency.response_time_us.max|tostring) + "us", .generator.delayed_requests,
        .requests.errors] | @tsv' "$WORK/stall.$io/results.json" |
        awk -F'\t' '{ printf "%-6s %10s %10s %10s %10s %10s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
    else
      printf '%-6s %10s\n' "$io" "n/a ($(tail -n 1 "$WORK/stall.$io.log"))"
    fi
  done
  stop_pid "$TARGET_PID" TERM
  TARGET_PID=""
}

# tls_round LABEL TAG WRK_ARGS... -- HR_ARGS...: one interleaved headroom + wrk pair against $HR_URL,
# appended to the caller's hr_rps, hr_cpu, wrk_rps and wrk_cpu and printed.
tls_round() {
  local label=$1 tag=$2 rps cpu req wrk_args=()
  shift 2
  while [ "$1" != -- ]; do wrk_args+=("$1") && shift; done
  shift
  if hr_run "$tag.hr" --connections "$CONNECTIONS" --duration "${DURATION_S}s" "$@"; then
    read -r rps cpu <<<"$(hr_figures "$tag.hr")"
    hr_rps+=("$rps") && hr_cpu+=("$cpu")
    printf '%-10s %-9s %12.0f %14.3f  errors %s, handshakes %s new / %s resumed\n' "$label" headroom "$rps" "$cpu" \
      "$(hr_field "$tag.hr" .requests.errors)" "$(hr_field "$tag.hr" .transport.tls.handshakes_new)" \
      "$(hr_field "$tag.hr" .transport.tls.handshakes_resumed)"
  fi
  /usr/bin/time -f "%U %S" -o "$WORK/$tag.wrk.time" taskset -c "$CLIENT_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION_S}s" "${wrk_args[@]+"${wrk_args[@]}"}" "$HR_URL" >"$WORK/$tag.wrk.log" 2>&1
  rps=$(wrk_rps "$WORK/$tag.wrk.log")
  req=$(wrk_requests "$WORK/$tag.wrk.log")
  cpu=$(calc "$(cpu_seconds "$WORK/$tag.wrk.time") * 1e6 / $req")
  wrk_rps+=("$rps") && wrk_cpu+=("$cpu")
  printf '%-10s %-9s %12.0f %14.3f\n' "$label" wrk "$rps" "$cpu"
}

tls_table() {
  local a b c d
  a=$(median "${hr_rps[@]+"${hr_rps[@]}"}")
  b=$(median "${wrk_rps[@]}")
  c=$(median "${hr_cpu[@]+"${hr_cpu[@]}"}")
  d=$(median "${wrk_cpu[@]}")
  printf '%-20s %12s %12s %14s   (spread headroom %s..%s, wrk %s..%s req/s)\n' "median $1" headroom wrk headroom/wrk \
    "$(min_of "${hr_rps[@]+"${hr_rps[@]}"}")" "$(max_of "${hr_rps[@]+"${hr_rps[@]}"}")" \
    "$(min_of "${wrk_rps[@]}")" "$(max_of "${wrk_rps[@]}")"
  printf '%-20s %12s %12s %14s\n' "req/s" "$(fmt 0 "$a")" "$(fmt 0 "$b")" "$(ratio "$a" "$b")"
  printf '%-20s %12s %12s %14s\n' "client cpu_us/req" "$(fmt 3 "$c")" "$(fmt 3 "$d")" "$(ratio "$c" "$d")"
  echo
}

min_of() { printf '%s\n' "$@" | sort -g | head -n 1 | xargs printf '%.0f'; }
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1 | xargs printf '%.0f'; }

tls_bench() {
  make_certs
  NGINX_TLS=1 start_nginx 1000
  HR_URL="https://127.0.0.1:$NGINX_PORT/"
  echo "HTTPS: $CONNECTIONS connections, 1 client thread on CPU $CLIENT_CPU, nginx (1 worker, TLS) on CPU $SERVER_CPU"
  echo "target $HR_URL ; $ROUNDS interleaved rounds of ${DURATION_S}s per mode"
  echo
  printf '%-10s %-9s %12s %14s\n' mode client "req/s" "cpu_us/req"
  local hr_rps=() hr_cpu=() wrk_rps=() wrk_cpu=() i
  for i in $(seq 1 "$ROUNDS"); do
    tls_round keepalive "ka.$i" -- --cacert "$WORK/tls/ca.pem"
  done
  echo
  tls_table keep-alive
  hr_rps=() hr_cpu=() wrk_rps=() wrk_cpu=()
  for i in $(seq 1 "$ROUNDS"); do
    tls_round handshake "hs.$i" -H "Connection: close" -- --cacert "$WORK/tls/ca.pem" -H "Connection: close"
  done
  echo
  tls_table "new conn/req"
  stop_nginx
}

# h2_round LABEL TAG H2LOAD_ARGS... -- HR_ARGS...: one interleaved headroom + h2load pair against
# $HR_URL, appended to the caller's hr_rps, hr_cpu, wrk_rps and wrk_cpu (the peer's) and printed.
h2_round() {
  local label=$1 tag=$2 rps cpu req peer_args=()
  shift 2
  while [ "$1" != -- ]; do peer_args+=("$1") && shift; done
  shift
  if hr_run "$tag.hr" --duration "${DURATION_S}s" "$@"; then
    read -r rps cpu <<<"$(hr_figures "$tag.hr")"
    hr_rps+=("$rps") && hr_cpu+=("$cpu")
    printf '%-10s %-9s %12.0f %14.3f  errors %s, %s, peak streams/conn %s, connections %s, handshakes %s new / %s resumed\n' \
      "$label" headroom "$rps" "$cpu" "$(hr_field "$tag.hr" .requests.errors)" "$(hr_field "$tag.hr" .transport.protocol)" \
      "$(hr_field "$tag.hr" .transport.h2.peak_streams_per_connection)" "$(hr_field "$tag.hr" .generator.connections_opened)" \
      "$(hr_field "$tag.hr" .transport.tls.handshakes_new)" "$(hr_field "$tag.hr" .transport.tls.handshakes_resumed)"
  fi
  # h2load's duration mode does not end with Connection: close: with H2LOAD_SAME_COUNT=1 it sends
  # as many requests as headroom completed instead, and its rate comes from its own elapsed time.
  local budget=(-D "$DURATION_S")
  if [ "${H2LOAD_SAME_COUNT:-0}" = 1 ]; then
    budget=(-n "$(hr_field "$tag.hr" .requests.total)")
  fi
  /usr/bin/time -f "%U %S" -o "$WORK/$tag.h2load.time" taskset -c "$CLIENT_CPU" timeout $((DURATION_S * 6 + 30)) \
    h2load -t1 "${budget[@]}" "${peer_args[@]}" "$HR_URL" >"$WORK/$tag.h2load.log" 2>&1 || true
  rps=$(h2load_rps "$WORK/$tag.h2load.log")
  req=$(h2load_requests "$WORK/$tag.h2load.log")
  if [ -z "$rps" ] || [ -z "$req" ] || [ "$req" = 0 ]; then
    echo "  h2load failed: $(tail -n 2 "$WORK/$tag.h2load.log" | tr '\n' ' ')" >&2
    return 0
  fi
  cpu=$(calc "$(cpu_seconds "$WORK/$tag.h2load.time") * 1e6 / $req")
  wrk_rps+=("$rps") && wrk_cpu+=("$cpu")
  printf '%-10s %-9s %12.0f %14.3f  (%s requests)\n' "$label" h2load "$rps" "$cpu" "$req"
}

h2_table() {
  local a b c d
  a=$(median "${hr_rps[@]+"${hr_rps[@]}"}")
  b=$(median "${wrk_rps[@]+"${wrk_rps[@]}"}")
  c=$(median "${hr_cpu[@]+"${hr_cpu[@]}"}")
  d=$(median "${wrk_cpu[@]+"${wrk_cpu[@]}"}")
  printf '%-20s %12s %12s %14s   (spread headroom %s..%s, h2load %s..%s req/s)\n' "median $1" headroom h2load \
    headroom/h2load "$(min_of "${hr_rps[@]+"${hr_rps[@]}"}")" "$(max_of "${hr_rps[@]+"${hr_rps[@]}"}")" \
    "$(min_of "${wrk_rps[@]+"${wrk_rps[@]}"}")" "$(max_of "${wrk_rps[@]+"${wrk_rps[@]}"}")"
  printf '%-20s %12s %12s %14s\n' "req/s" "$(fmt 0 "$a")" "$(fmt 0 "$b")" "$(ratio "$a" "$b")"
  printf '%-20s %12s %12s %14s\n' "client cpu_us/req" "$(fmt 3 "$c")" "$(fmt 3 "$d")" "$(ratio "$c" "$d")"
  echo
}

# The stall test over HTTP/2 and HTTP/1.1 against the same nginx (TLS, h2 by ALPN): its worker is
# stopped for 500 ms every 5 s (SIGSTOP/SIGCONT to the worker of the nginx this script started)
# while headroom sends 1,000 requests/s (open model) for STALL_S.
h2_stall() {
  local worker pauser proto
  worker=$(pgrep -P "$NGINX_PID" | head -n 1)
  [ -n "$worker" ] || die "no nginx worker under $NGINX_PID"
  echo "Stall test: nginx worker (PID $worker) stopped 500 ms every 5 s, 1000/s for ${STALL_S}s, TLS"
  printf '%-9s %10s %10s %10s %10s %10s %8s\n' protocol p50 p99 p99.9 max delayed errors
  for proto in --http2 --http1.1; do
    (while :; do sleep 4.5; kill -STOP "$worker"; sleep 0.5; kill -CONT "$worker"; done) &
    pauser=$!
    taskset -c "$CLIENT_CPU" "$HEADROOM" run "$HR_URL" "$proto" --cacert "$WORK/tls/ca.pem" --threads 1 \
      --rate 1000/s --duration "${STALL_S}s" --out "$WORK/stall$proto" --quiet >"$WORK/stall$proto.log" 2>&1 || true
    kill "$pauser" 2>/dev/null || true
    wait "$pauser" 2>/dev/null || true
    kill -CONT "$worker" 2>/dev/null || true
    if [ -s "$WORK/stall$proto/results.json" ]; then
      jq -r '[.transport.protocol, (.latency.response_time_us.p50|tostring) + "us", (.latency.response_time_us.p99|tostring) + "us",
        (.latency.response_time_us.p99_9|tostring) + "us", (.latency.response_time_us.max|tostring) + "us",
        .generator.delayed_requests, .requests.errors] | @tsv' "$WORK/stall$proto/results.json" |
        awk -F'\t' '{ printf "%-9s %10s %10s %10s %10s %10s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
    else
      printf '%-9s %10s\n' "$proto" "n/a ($(tail -n 1 "$WORK/stall$proto.log"))"
    fi
  done
}

h2_bench() {
  need h2load
  local c=${H2_CONNECTIONS:-4} m=${H2_STREAMS:-32} i hr_rps=() hr_cpu=() wrk_rps=() wrk_cpu=()
  make_certs
  NGINX_TLS=1 NGINX_H2=1 start_nginx 1000
  HR_URL="https://127.0.0.1:$NGINX_PORT/"
  echo "HTTP/2 over TLS: $c connections x $m streams, 1 client thread on CPU $CLIENT_CPU, nginx (1 worker, TLS + h2) on CPU $SERVER_CPU"
  echo "target $HR_URL ; $ROUNDS interleaved rounds of ${DURATION_S}s per mode"
  echo
  printf '%-10s %-9s %12s %14s\n' mode client "req/s" "cpu_us/req"
  for i in $(seq 1 "$ROUNDS"); do
    h2_round h2 "h2.$i" -c "$c" -m "$m" -- --http2 --cacert "$WORK/tls/ca.pem" --connections "$c" --max-streams "$m"
  done
  echo
  h2_table "h2 (TLS)"
  hr_rps=() hr_cpu=() wrk_rps=() wrk_cpu=()
  for i in $(seq 1 "$ROUNDS"); do
    H2LOAD_SAME_COUNT=1 h2_round new-conn "hs.$i" --h1 -c "$CONNECTIONS" -H "Connection: close" -- --http1.1 --cacert "$WORK/tls/ca.pem" \
      --connections "$CONNECTIONS" -H "Connection: close"
  done
  echo
  h2_table "new TLS conn/req (HTTP/1.1)"
  h2_stall
  echo
  stop_nginx
  NGINX_H2=1 start_nginx 1000
  HR_URL="http://127.0.0.1:$NGINX_PORT/"
  echo "h2c (prior knowledge): $c connections x $m streams; target $HR_URL"
  hr_rps=() hr_cpu=() wrk_rps=() wrk_cpu=()
  for i in $(seq 1 "$ROUNDS"); do
    h2_round h2c "h2c.$i" -c "$c" -m "$m" -- --h2c --connections "$c" --max-streams "$m"
  done
  echo
  h2_table h2c
  stop_nginx
}

case "$MODE" in
  closed | all) closed_model ;;
  uring) uring_compare ;;
  memory) memory ;;
  soak) soak ;;
  mix) mix ;;
  watch) watch_cost ;;
  checks) checks_cost ;;
  soak-watch) soak_watch ;;
  tls) tls_bench ;;
  h2) h2_bench ;;
  *) die "usage: bench/run.sh [closed|memory|soak|mix|watch|checks|uring|tls|h2|soak-watch]" ;;
esac
