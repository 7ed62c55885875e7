# Shared helpers for bench/*.sh: nginx in a temp dir, free ports, medians, CPU pinning.
# Sourced, not run. Expects WORK (a mktemp dir) to be set by the caller.

CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
NGINX_PID=""

die() { echo "bench: $*" >&2; exit 2; }

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (run scripts/setup.sh)"
  done
}

# A TCP port on 127.0.0.1 that no socket uses now, below the ephemeral range (so that the
# client sockets of an earlier run, possibly in TIME_WAIT, cannot hold it).
free_port() {
  local low port
  low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! ss -Htan "( sport = :$port or dport = :$port )" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# wait_port PORT PID LOG: until something accepts on 127.0.0.1:PORT (at most 10 s); fails with
# the last line of LOG if process PID exits first.
wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || die "server exited before listening: $(tail -n 1 "$3" 2>/dev/null)"
    sleep 0.1
  done
  die "nothing is listening on 127.0.0.1:$1"
}

# median of the numbers given as arguments (empty if none).
median() {
  [ $# -gt 0 ] || { echo ""; return; }
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# calc EXPR: floating-point arithmetic via awk, e.g. calc "3/2".
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# fmt DECIMALS VALUE: VALUE rounded, or "n/a" when empty.
fmt() {
  if [ -z "${2:-}" ]; then echo "n/a"; else awk "BEGIN { printf \"%.${1}f\", $2 }"; fi
}

# ratio A B: A/B with 2 decimals, or "n/a" when either side is missing or B is 0.
ratio() {
  if [ -z "${1:-}" ] || [ -z "${2:-}" ] || [ "$(calc "$2 == 0")" = 1 ]; then echo "n/a"; return; fi
  awk "BEGIN { printf \"%.2f\", $1 / $2 }"
}

# make_certs: a CA ($WORK/tls/ca.pem) and a certificate for 127.0.0.1 it signs
# ($WORK/tls/server.pem, server.key), made with the openssl command.
make_certs() {
  local d="$WORK/tls" ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
  mkdir -p "$d"
  # shellcheck disable=SC2086
  openssl req -x509 $ec -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=headroom bench CA" 2>/dev/null
  # shellcheck disable=SC2086
  openssl req $ec -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  echo "subjectAltName=IP:127.0.0.1" >"$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
}

# start_nginx WORKER_CONNECTIONS: one worker pinned to SERVER_CPU, `return 200 "ok"` on a free
# 127.0.0.1 port; everything (config, pid, logs, temp files) lives in $WORK/nginx. Sets
# NGINX_PORT and NGINX_PID (the master's PID; stop_nginx signals it). With NGINX_TLS=1 the port
# speaks TLS with make_certs' certificate (session tickets on, nginx's default); NGINX_H2=1 adds
# HTTP/2.
start_nginx() {
  local conns=$1 dir="$WORK/nginx" mask user_directive="" ssl="" ssl_lines=""
  if [ "${NGINX_TLS:-0}" = 1 ]; then
    ssl=" ssl"
    ssl_lines="ssl_certificate $WORK/tls/server.pem; ssl_certificate_key $WORK/tls/server.key;"
  fi
  # NGINX_H2=1: HTTP/2 too (by ALPN with NGINX_TLS=1, else h2c with prior knowledge only).
  [ "${NGINX_H2:-0}" = 1 ] && ssl="$ssl http2"
  mkdir -p "$dir/logs" "$dir/tmp"
  NGINX_PORT=$(free_port)
  mask="1$(printf '0%.0s' $(seq 1 "$SERVER_CPU"))"
  [ "$SERVER_CPU" -eq 0 ] && mask=1
  [ "$(id -u)" -eq 0 ] && user_directive="user root;"
  cat >"$dir/nginx.conf" <<CONF
$user_directive
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile $((conns * 4 + 200));
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections $((conns * 2 + 100)); }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT$ssl backlog=16384;
    $ssl_lines
    location / { return 200 "ok"; }
  }
}
CONF
  nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
    >"$dir/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  wait_port "$NGINX_PORT" "$NGINX_PID" "$dir/logs/error.log"
}

stop_nginx() {
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  NGINX_PID=""
}

# cpu_seconds TIME_FILE: user+system seconds recorded by `/usr/bin/time -f "%U %S" -o FILE`.
cpu_seconds() { awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { s = $1 + $2 } END { print s + 0 }' "$1"; }

# wrk_requests OUTPUT_FILE / wrk_rps OUTPUT_FILE: figures from wrk's text report.
wrk_requests() { awk '/requests in/ { print $1 }' "$1"; }
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

# h2load_requests OUTPUT_FILE / h2load_rps OUTPUT_FILE: figures from h2load's report.
h2load_requests() { awk '/^requests:/ { print $8 }' "$1"; }
h2load_rps() { awk '/^finished in/ { gsub(",", "", $4); print $4 }' "$1"; }

# syscall_count OUT_FILE CMD...: runs CMD and writes how many system calls it (and its threads)
# made, counted with perf's raw_syscalls:sys_enter tracepoint, or strace -f -c without perf.
syscall_count() {
  local out=$1
  shift
  if perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1; then
    perf stat -x, -e raw_syscalls:sys_enter -o "$out.perf" -- "$@"
    awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$out.perf" >"$out"
  else
    strace -f -c -o "$out.strace" -- "$@"
    awk '$NF == "total" { print $4 }' "$out.strace" >"$out"
  fi
}

# stop_pid PID SIGNAL: signals a server this script started (PID may be empty) and waits for it.
stop_pid() {
  if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
    kill "-$2" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
