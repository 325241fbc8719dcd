#!/usr/bin/env bash
# tests/e2e/relay_smtp_sink.sh: the outbound bridge delivering to Postfix's
# smtp-sink, which dumps each transaction to a file: a body with lines that
# begin with "." must arrive un-stuffed and intact, and a batch of messages
# must all arrive (the client machine pipelines when PIPELINING is offered).
# Usage: relay_smtp_sink.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
SINK=/usr/sbin/smtp-sink
PY=/usr/bin/python3
[ -x "$SINK" ] || { echo "SKIP: $SINK not installed (Debian package postfix)"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-sink.XXXXXX")
chmod 755 "$WORK"
SERVE_PID=""
SINK_PID=""
cleanup() {
  for p in $SERVE_PID $SINK_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- smtplab serve stderr:" >&2; cat "$WORK/serve.err" >&2 2>/dev/null || true
  echo "--- transcript (tail):" >&2; tail -40 "$WORK/serve.out" >&2 2>/dev/null || true
  echo "--- smtp-sink:" >&2; cat "$WORK/sink.log" >&2 2>/dev/null || true
  exit 1
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/dump"
SINK_ARGS=()
# smtp-sink refuses to run as root without dropping privileges (-u).
if [ "$(id -u)" = 0 ]; then SINK_ARGS=(-u nobody); chmod 777 "$WORK/dump"; fi
SINK_PORT=$(free_port)
"$SINK" "${SINK_ARGS[@]}" -d "$WORK/dump/%M." "127.0.0.1:$SINK_PORT" 64 >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 100); do
  "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$SINK_PORT" 2>/dev/null && break
  kill -0 "$SINK_PID" 2>/dev/null || fail "smtp-sink exited"
  sleep 0.1
done

"$SMTPLAB" serve --listen 127.0.0.1:0 --duration 110 --relay-to "127.0.0.1:$SINK_PORT" \
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

"$PY" - "$PORT" "$WORK/dump" <<'PYEOF' || fail "relay to smtp-sink"
import glob, os, smtplib, sys, time
port, dump = int(sys.argv[1]), sys.argv[2]
body = ".\r\n..\r\n.leading\r\n...three\r\nplain\r\n.\r\nend\r\n"
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
assert s.sendmail("dots@outside.test", ["bob@gmail.test"], "Subject: dots\r\n\r\n" + body) == {}
for i in range(25):
    assert s.sendmail("n@outside.test", ["bob@gmail.test"], "Subject: n%d\r\n\r\nnumber %d\r\n" % (i, i)) == {}
s.quit()
def dumps():
    return [f for f in glob.glob(os.path.join(dump, "*")) if os.path.isfile(f)]
end = time.time() + 20
while time.time() < end and len(dumps()) < 26:
    time.sleep(0.1)
time.sleep(0.2)  # smtp-sink writes the file as data arrives; let the last one finish
texts = [open(f, "rb").read().decode().replace("\r\n", "\n") for f in dumps()]
assert len(texts) == 26, "smtp-sink got %d of 26" % len(texts)
dot = [t for t in texts if "X-Mail-Args: <dots@outside.test>" in t]
assert len(dot) == 1, dot
want = "\nSubject: dots\n\n.\n..\n.leading\n...three\nplain\n.\nend\n"
assert want in dot[0], repr(dot[0])
assert "X-Rcpt-Args: <bob@gmail.test>" in dot[0]
for i in range(25):
    assert sum(1 for t in texts if "\nnumber %d\n" % i in t) == 1, i
print("relay to smtp-sink: ok")
PYEOF

kill -TERM "$SERVE_PID"
for _ in $(seq 1 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[ "$rc" = 0 ] || fail "smtplab serve exited with $rc"
grep -q '26 relayed, 0 relay failure' "$WORK/serve.err" || fail "summary does not count 26 relayed"
echo "PASS relay_smtp_sink"
