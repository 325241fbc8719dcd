#!/usr/bin/env bash
# tests/e2e/serve_smtp_source.sh: Postfix's smtp-source against `smtplab
# serve`: 20 parallel sessions, 1000 messages, every one accounted for in
# the Maildir (each file moved from tmp/ to new/, none left in tmp/).
# Usage: serve_smtp_source.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
SOURCE=/usr/sbin/smtp-source
[ -x "$SOURCE" ] || { echo "SKIP: $SOURCE not installed (Debian package postfix)"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-source.XXXXXX")
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- smtplab serve stderr:" >&2; cat "$WORK/serve.err" >&2 2>/dev/null || true
  echo "--- smtp-source output (tail):" >&2; tail -20 "$WORK/source.out" >&2 2>/dev/null || true
  exit 1
}
"$SMTPLAB" serve --listen 127.0.0.1:0 --duration 110 --quiet --catch-all --maildir "$WORK/md" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
PORT=""
for _ in $(seq 1 150); do
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/serve.err" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || fail "smtplab serve exited before listening"
  sleep 0.1
done
[ -n "$PORT" ] || fail "smtplab serve did not listen within 15 s"

# A recipient no scenario message uses, so the count is exactly ours.
timeout 100 "$SOURCE" -s 20 -m 1000 -l 2048 -f load@outside.test -t load@yahoo.test "127.0.0.1:$PORT" \
  >"$WORK/source.out" 2>&1 || fail "smtp-source failed"

box="$WORK/md/load@yahoo.test"
n=0
for _ in $(seq 1 200); do
  n=$(find "$box/new" -type f 2>/dev/null | wc -l)
  [ "$n" -ge 1000 ] && break
  sleep 0.1
done
[ "$n" = 1000 ] || fail "Maildir holds $n messages, want 1000"
left=$(find "$box/tmp" -type f | wc -l)
[ "$left" = 0 ] || fail "$left file(s) left in tmp/"
# Every file is a whole message from smtp-source, with the delivery headers.
bad=$(grep -L '^Return-Path: <load@outside.test>$' "$box"/new/* | wc -l)
[ "$bad" = 0 ] || fail "$bad message(s) lack the Return-Path"
short=$(find "$box/new" -type f -size -2k | wc -l)
[ "$short" = 0 ] || fail "$short message(s) shorter than the 2048-byte body sent"

kill -TERM "$SERVE_PID"
for _ in $(seq 1 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[ "$rc" = 0 ] || fail "smtplab serve exited with $rc"
grep -q '1000 message(s) accepted' "$WORK/serve.err" || fail "summary does not count 1000 messages"
echo "PASS serve_smtp_source"
