#!/usr/bin/env bash
# bench/bridge.sh: Postfix's smtp-source against `smtplab serve`, against
# python3-aiosmtpd and against Postfix's smtp-sink, in one run with the same
# message count, message size and concurrency. Prints messages/s for each
# and the ratios (targets: smtplab >= 2x aiosmtpd, >= 0.5x smtp-sink).
#
# Usage: bench/bridge.sh <smtplab-binary> [messages] [sessions] [body-bytes]
#   (defaults 5000 messages, 20 sessions, 2048-byte bodies). Use a release
#   build: a debug or sanitizer build measures the instrumentation.
# Every server listens on 127.0.0.1 on a free port and is stopped by PID.
# smtplab serve runs the default scenario's mx.yahoo.test in world mode: each
# message goes through the simulated server's queue into a mailbox (in
# memory), the trace is built for every exchange; it runs twice: --quiet
# (no transcript) and with the live transcript written to /dev/null.
# aiosmtpd uses its Sink handler, smtp-sink discards: neither stores anything.
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> [messages] [sessions] [body-bytes]}
MESSAGES=${2:-5000}
SESSIONS=${3:-20}
BODY=${4:-2048}
PY=/usr/bin/python3
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
for tool in "$SOURCE" "$SINK"; do [ -x "$tool" ] || { echo "bench/bridge.sh: $tool missing (Debian package postfix)" >&2; exit 2; }; done
"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "bench/bridge.sh: python3-aiosmtpd missing" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-bench-bridge.XXXXXX")
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || { echo "bench/bridge.sh: server for port $1 exited" >&2; exit 1; }
    sleep 0.05
  done
  echo "bench/bridge.sh: nothing listens on port $1 after 10 s" >&2
  exit 1
}
stop() {
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}
# run NAME PORT: smtp-source against the server on PORT; prints and records messages/s.
declare -A RATE
run() {
  local name=$1 port=$2 t0 t1
  t0=$(date +%s.%N)
  timeout 600 "$SOURCE" -s "$SESSIONS" -m "$MESSAGES" -l "$BODY" -f bench@outside.test -t load@yahoo.test \
    "127.0.0.1:$port" >"$WORK/source-$name.out" 2>&1 || { echo "bench/bridge.sh: smtp-source against $name failed:" >&2; tail -5 "$WORK/source-$name.out" >&2; exit 1; }
  t1=$(date +%s.%N)
  RATE[$name]=$(awk -v n="$MESSAGES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  printf '%-28s %8s messages/s  (%d messages, %d sessions, %d-byte bodies, %.2f s)\n' "$name" "${RATE[$name]}" \
    "$MESSAGES" "$SESSIONS" "$BODY" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

echo "bench/bridge.sh: smtp-source -s $SESSIONS -m $MESSAGES -l $BODY, loopback, $(nproc) CPU(s)"

PORT=$(free_port)
"$SMTPLAB" serve --listen "127.0.0.1:$PORT" --quiet --catch-all --max-connections 1000 >/dev/null 2>"$WORK/serve.err" &
PID=$!
wait_port "$PORT"
run "smtplab serve --quiet" "$PORT"
stop
grep -q "$MESSAGES message(s) accepted" "$WORK/serve.err" || { echo "bench/bridge.sh: smtplab did not accept every message:" >&2; cat "$WORK/serve.err" >&2; exit 1; }

PORT=$(free_port)
"$SMTPLAB" serve --listen "127.0.0.1:$PORT" --catch-all --max-connections 1000 >/dev/null 2>"$WORK/serve.err" &
PID=$!
wait_port "$PORT"
run "smtplab serve (transcript)" "$PORT"
stop

PORT=$(free_port)
"$PY" -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
wait_port "$PORT"
run "python3-aiosmtpd (Sink)" "$PORT"
stop

PORT=$(free_port)
SINK_USER=()
if [ "$(id -u)" = 0 ]; then SINK_USER=(-u nobody); fi
"$SINK" "${SINK_USER[@]}" "127.0.0.1:$PORT" 256 >/dev/null 2>&1 &
PID=$!
wait_port "$PORT"
run "postfix smtp-sink" "$PORT"
stop

q=${RATE["smtplab serve --quiet"]}
awk -v s="$q" -v a="${RATE["python3-aiosmtpd (Sink)"]}" -v k="${RATE["postfix smtp-sink"]}" 'BEGIN {
  ra = s / a; rk = s / k
  printf "ratio smtplab/aiosmtpd:   %.2fx  (target >= 2x: %s)\n", ra, (ra >= 2 ? "met" : "NOT met")
  printf "ratio smtplab/smtp-sink:  %.2fx  (target >= 0.5x: %s)\n", rk, (rk >= 0.5 ? "met" : "NOT met")
}'
