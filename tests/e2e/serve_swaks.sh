#!/usr/bin/env bash
# tests/e2e/serve_swaks.sh: swaks against `smtplab serve`: a plain send, a
# pipelined send (--pipeline), a refused recipient (exit 24 = RCPT refused),
# a body whose lines begin with "." arriving intact, and --catch-all.
# Usage: serve_swaks.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-swaks.XXXXXX")
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- smtplab serve stderr:" >&2; cat "$WORK/serve.err" >&2 2>/dev/null || true
  echo "--- swaks output:" >&2; cat "$WORK/swaks.out" >&2 2>/dev/null || true
  exit 1
}
start_serve() {
  rm -f "$WORK/serve.err"  # never read the previous server's port
  "$SMTPLAB" serve --listen 127.0.0.1:0 --duration 110 "$@" >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  PORT=""
  for _ in $(seq 1 150); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/serve.err" 2>/dev/null | head -1)
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "smtplab serve exited before listening"
    sleep 0.1
  done
  fail "smtplab serve did not listen within 15 s"
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  local rc=0
  for _ in $(seq 1 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVE_PID" 2>/dev/null && fail "smtplab serve still running 15 s after SIGTERM"
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  [ "$rc" = 0 ] || fail "smtplab serve exited with $rc after SIGTERM"
}
count_new() { find "$1" -path '*/new/*' -type f 2>/dev/null | wc -l; }
wait_count() {  # dir n: bounded wait for n files in new/
  for _ in $(seq 1 100); do [ "$(count_new "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  fail "expected $2 message(s) under $1, found $(count_new "$1")"
}
SWAKS=(swaks --server 127.0.0.1 --timeout 10 --helo swaks.example --from tester@outside.test)

start_serve --maildir "$WORK/md" --catch-all

"${SWAKS[@]}" --port "$PORT" --to alice@yahoo.test --header "Subject: plain" --body "plain body" >"$WORK/swaks.out" 2>&1 ||
  fail "swaks plain send"
grep -q '<-  250 2.0.0 Ok: queued' "$WORK/swaks.out" || fail "no 250 queued in swaks output"

"${SWAKS[@]}" --port "$PORT" --pipeline --to alice@yahoo.test --header "Subject: piped" --body "piped body" \
  >"$WORK/swaks.out" 2>&1 || fail "swaks --pipeline"

# A body with leading dots: swaks dot-stuffs on the wire; the Maildir must hold the original.
printf 'Subject: dots\r\n\r\n.\r\n..leading two\r\n.one\r\nend\r\n' >"$WORK/dots.eml"
"${SWAKS[@]}" --port "$PORT" --to alice@yahoo.test --data "@$WORK/dots.eml" >"$WORK/swaks.out" 2>&1 ||
  fail "swaks dots"

# --catch-all: any local part of yahoo.test is accepted...
"${SWAKS[@]}" --port "$PORT" --to whoever@yahoo.test --body "catch-all body" >"$WORK/swaks.out" 2>&1 ||
  fail "swaks catch-all"
# ...but a domain outside the scenario never is (swaks exits 24 when every RCPT is refused).
rc=0
"${SWAKS[@]}" --port "$PORT" --to victim@example.com --body "relay attempt" >"$WORK/swaks.out" 2>&1 || rc=$?
[ "$rc" = 24 ] || fail "relay attempt: swaks exit $rc, want 24 (recipient refused)"
grep -q '<\*\* 55[0-9] 5.7.1' "$WORK/swaks.out" || fail "relay attempt not refused with 5.7.1"

wait_count "$WORK/md/alice@yahoo.test" 3
wait_count "$WORK/md/whoever@yahoo.test" 1
grep -l -x 'piped body' "$WORK"/md/alice@yahoo.test/new/* >/dev/null || fail "pipelined message missing"
dotfile=$(grep -l -x '..leading two' "$WORK"/md/alice@yahoo.test/new/* | head -1)
[ -n "$dotfile" ] || fail "dot message missing or still stuffed"
body=$(sed '1,/^$/d' "$dotfile")
[ "$body" = $'.\n..leading two\n.one\nend' ] || fail "dot body changed: $(printf %q "$body")"
[ -e "$WORK/md/victim@example.com" ] && fail "a foreign domain got a mailbox"
stop_serve
echo "PASS serve_swaks"
