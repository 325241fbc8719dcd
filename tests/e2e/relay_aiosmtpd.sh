#!/usr/bin/env bash
# tests/e2e/relay_aiosmtpd.sh: the outbound bridge. `smtplab serve --relay-to`
# delivers mail for the scenario's other domains over a real socket, with the
# simulator's own SMTP client machine, to python3-aiosmtpd; bodies with lines
# that begin with "." arrive un-stuffed and intact; a foreign domain is still
# refused (--relay-to opens no relay); an unreachable relay defers the mail.
# Usage: relay_aiosmtpd.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
PY=/usr/bin/python3
"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-relay.XXXXXX")
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
  echo "--- aiosmtpd:" >&2; cat "$WORK/sink.log" >&2 2>/dev/null || true
  exit 1
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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

# A small aiosmtpd handler that saves each message (envelope + content as received).
cat >"$WORK/sink.py" <<'PYEOF'
import itertools, os, sys, time
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
seq = itertools.count()
class Saver:
    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(out, "msg%05d" % next(seq))
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 saved"
c = Controller(Saver(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
end = time.time() + 110
while time.time() < end:
    time.sleep(0.2)
c.stop()
PYEOF
mkdir -p "$WORK/got"
SINK_PORT=$(free_port)
"$PY" "$WORK/sink.py" "$SINK_PORT" "$WORK/got" >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 100); do grep -q ready "$WORK/sink.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$WORK/sink.log" || fail "aiosmtpd did not start"

start_serve --relay-to "127.0.0.1:$SINK_PORT"
"$PY" - "$PORT" "$WORK/got" <<'PYEOF' || fail "relay checks"
import glob, os, smtplib, sys, time
port, got = int(sys.argv[1]), sys.argv[2]
dots = ("From: sender@outside.test\r\nTo: bob@gmail.test\r\nSubject: dots\r\n\r\n"
        ".\r\n..\r\n.leading\r\n..two leading\r\nnormal\r\n. space\r\n.\r\nlast line\r\n")
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
assert s.sendmail("sender@outside.test", ["bob@gmail.test"], dots) == {}
# --relay-to is no open relay: a domain outside the scenario is still refused.
try:
    s.sendmail("sender@outside.test", ["victim@example.com"], "Subject: x\r\n\r\nx\r\n")
    raise SystemExit("victim@example.com accepted")
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients["victim@example.com"][0] // 100 == 5
# Mixed: one local recipient (stays in the simulation), one relayed.
assert s.sendmail("sender@outside.test", ["alice@yahoo.test", "bob@gmail.test"], "Subject: mixed\r\n\r\nmixed\r\n") == {}
for i in range(30):
    assert s.sendmail("sender@outside.test", ["bob@gmail.test"], "Subject: n%d\r\n\r\nbody %d\r\n" % (i, i)) == {}
s.quit()
end = time.time() + 20
while time.time() < end and len(glob.glob(os.path.join(got, "msg*[0-9]"))) < 32:
    time.sleep(0.1)
files = sorted(glob.glob(os.path.join(got, "msg*[0-9]")))
assert len(files) == 32, "relayed %d of 32" % len(files)
texts = [open(f, "rb").read().decode() for f in files]
want = ".\r\n..\r\n.leading\r\n..two leading\r\nnormal\r\n. space\r\n.\r\nlast line\r\n"
dot = [t for t in texts if "Subject: dots" in t]
assert len(dot) == 1 and dot[0].endswith("\r\n\r\n" + want), repr(dot)
assert "X-Envelope-From: sender@outside.test\r\nX-Envelope-To: bob@gmail.test\r\n" in dot[0]
mixed = [t for t in texts if "Subject: mixed" in t]
assert len(mixed) == 1 and "X-Envelope-To: bob@gmail.test\r\n" in mixed[0], mixed  # alice stayed local
for i in range(30):
    assert sum(1 for t in texts if t.endswith("\r\n\r\nbody %d\r\n" % i)) == 1, i
print("relay to aiosmtpd: ok")
PYEOF
stop_serve
grep -q 'relayed to <bob@gmail.test> via 127.0.0.1:'"$SINK_PORT" "$WORK/serve.out" || fail "no message-relayed record"
grep -q '<- 250 2.0.0 saved' "$WORK/serve.out" || fail "the real server's replies are not in the transcript"
grep -q '32 relayed, 0 relay failure' "$WORK/serve.err" || fail "summary does not count 32 relayed recipients"

# An unreachable relay: the message is accepted, then deferred (transient), not lost silently.
DEAD_PORT=$(free_port)
start_serve --relay-to "127.0.0.1:$DEAD_PORT"
"$PY" - "$PORT" <<'PYEOF' || fail "dead relay send"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
assert s.sendmail("sender@outside.test", ["bob@gmail.test"], "Subject: dead\r\n\r\nx\r\n") == {}
s.quit()
PYEOF
for _ in $(seq 1 100); do grep -q 'deferred' "$WORK/serve.out" && break; sleep 0.1; done
grep -q 'B000001: <bob@gmail.test> deferred' "$WORK/serve.out" || fail "no deferral for an unreachable relay"
grep -q 'next relay attempt in' "$WORK/serve.out" || fail "no retry scheduled"
stop_serve
grep -q 'still queued for relay' "$WORK/serve.out" || fail "shutdown does not report the queued message"
echo "PASS relay_aiosmtpd"
