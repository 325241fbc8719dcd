#!/usr/bin/env bash
# tests/e2e/serve_robust.sh: `smtplab serve` against hostile or careless
# peers, and its command-line errors:
#   - bad options: one line on stderr, exit 2 (unparsable --listen, unknown
#     --host, port in use, bad --relay-to, bad --idle-timeout);
#   - a 1 MB command line (500, the session goes on), a 1 MB text line and
#     endless DATA past the size limit (552 per RFC 5321 4.5.3.1.10, then
#     the session goes on), binary garbage, a command sent one byte at a
#     time, abrupt disconnects (RST) in every state;
#   - 520 concurrent sessions with --max-connections 500: 500 greeted, 20
#     told 421 and closed, all greeted ones still answer;
#   - --idle-timeout: a silent client gets 421 and is closed, and so does one
#     that sends a command one byte at a time, slower than the timeout;
#   - SIGTERM: every open session gets 421 first, exit status 0.
# Usage: serve_robust.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-robust.XXXXXX")
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- smtplab serve stderr:" >&2; tail -20 "$WORK/serve.err" >&2 2>/dev/null || true
  echo "--- transcript (tail):" >&2; tail -30 "$WORK/serve.out" >&2 2>/dev/null || true
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

# ---- command-line errors: exit 2 and one line
expect_usage() {  # expected-text args...
  local want=$1; shift
  local rc=0
  timeout 20 "$SMTPLAB" serve --duration 1 "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
  [ "$rc" = 2 ] || fail "serve $*: exit $rc, want 2 ($(cat "$WORK/cli.err"))"
  grep -q -- "$want" "$WORK/cli.err" || fail "serve $*: stderr lacks \"$want\": $(cat "$WORK/cli.err")"
  [ "$(grep -c . "$WORK/cli.err")" = 1 ] || fail "serve $*: more than one line on stderr: $(cat "$WORK/cli.err")"
}
expect_usage "--listen" --listen nonsense
expect_usage "--listen" --listen 127.0.0.1:99999
expect_usage "not a numeric IP" --listen mail.example.com:25
expect_usage "no such host" --host nope.test
expect_usage "not a mail server" --host bob-pc
expect_usage "--relay-to" --relay-to 127.0.0.1
expect_usage "--idle-timeout" --idle-timeout soon
expect_usage "--max-connections" --max-connections 0

start_serve --max-connections 500 --idle-timeout 3 --quiet
expect_usage "already in use" --listen "127.0.0.1:$PORT"

"$PY" - "$PORT" <<'PYEOF' || fail "robustness checks"
import socket, struct, sys, time
port = int(sys.argv[1])

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    return s

class Peer:
    def __init__(self):
        self.s = connect()
        self.buf = b""
    def reply(self):
        """One complete (possibly multi-line) reply: (code, last line)."""
        while True:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                if line[3:4] != b"-":
                    return int(line[:3]), line
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed; pending %r" % self.buf[:200])
            self.buf += chunk
    def cmd(self, data):
        self.s.sendall(data)
        return self.reply()
    def closed(self, timeout=10):
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False

def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

# 1 MB command line: 500 (RFC 5321 4.5.3.1.4), and the session goes on.
p = Peer(); assert p.reply()[0] == 220
assert p.cmd(b"EHLO robust.example\r\n")[0] == 250
code, line = p.cmd(b"NOOP " + b"A" * (1 << 20) + b"\r\n")
assert code == 500, line
assert p.cmd(b"NOOP\r\n")[0] == 250
# A 1 MB text line inside DATA, then more than the 10 MB SIZE limit: 552 at
# the end of data, still in business afterwards.
assert p.cmd(b"MAIL FROM:<big@outside.test>\r\n")[0] == 250
assert p.cmd(b"RCPT TO:<alice@yahoo.test>\r\n")[0] == 250
assert p.cmd(b"DATA\r\n")[0] == 354
p.s.sendall(b"Subject: big\r\n\r\n" + b"x" * (1 << 20) + b"\r\n")
chunk = (b"y" * 998 + b"\r\n") * 1024
for _ in range(11):
    p.s.sendall(chunk)
code, line = p.cmd(b".\r\n")
assert code in (500, 552), line
assert p.cmd(b"RSET\r\n")[0] == 250
assert p.cmd(b"QUIT\r\n")[0] == 221
assert p.closed()

# Binary garbage and bare line ends never crash it; a real command still works after.
p = Peer(); assert p.reply()[0] == 220
p.s.sendall(bytes(range(256)) * 4 + b"\r\n")
code, _ = p.reply()
assert code // 100 == 5, code
p.s.sendall(b"NOOP\nNOOP\r\n")  # a bare LF never ends a command (SMTP smuggling)
code, _ = p.reply()
assert code // 100 in (2, 5), code
assert p.cmd(b"\r\n")[0] // 100 == 5  # an empty line is no command
assert p.cmd(b"NOOP\r\n")[0] == 250
assert p.cmd(b"QUIT\r\n")[0] == 221
assert p.closed(); p.s.close()

# One byte at a time.
p = Peer(); assert p.reply()[0] == 220
for b in b"EHLO slow.example\r\n":
    p.s.sendall(bytes([b])); time.sleep(0.005)
assert p.reply()[0] == 250
p.s.sendall(b"QUIT\r\n"); assert p.reply()[0] == 221
assert p.closed(); p.s.close()

# Abrupt disconnects (RST) in every state, including mid-DATA and mid-line.
for stage in (b"", b"EHLO x\r\n", b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n",
              b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@yahoo.test>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a li",
              b"EHLO x\r\nNOOP " + b"z" * 5000):
    for _ in range(10):
        s = connect(); s.recv(1024); s.sendall(stage); rst(s)

time.sleep(1.0)  # let the server see every RST before counting sessions

# 520 concurrent sessions against --max-connections 500.
peers, busy = [], 0
for i in range(520):
    s = connect()
    data = b""
    while b"\r\n" not in data:
        more = s.recv(1024)
        if not more:
            break
        data += more
    if data.startswith(b"220"):
        peers.append(s)
    else:
        assert data.startswith(b"421"), data
        busy += 1
        s.close()
assert len(peers) == 500 and busy == 20, (len(peers), busy)
for s in peers:
    s.sendall(b"NOOP\r\n")
for s in peers:
    assert s.recv(1024).startswith(b"250")
for s in peers:
    s.sendall(b"QUIT\r\n")
for s in peers:
    assert s.recv(1024).startswith(b"221")
    s.close()

# --idle-timeout 3: a silent client is told 421 and closed.
p = Peer(); assert p.reply()[0] == 220
t0 = time.time()
code, line = p.reply()
assert code == 421, line
assert 2.0 < time.time() - t0 < 8.0, time.time() - t0
assert p.closed()

# Slowloris: one byte every 0.5 s never completes a line; the command-line
# limit (the command timeout, here 3 s, from the line's first byte) ends it.
p = Peer(); assert p.reply()[0] == 220
p.s.settimeout(0.5)
t0, got = time.time(), b""
while time.time() - t0 < 10 and not got:
    try:
        p.s.send(b"N")
    except OSError:
        break
    try:
        got = p.s.recv(1024)
    except socket.timeout:
        pass
assert got.startswith(b"421"), got
assert time.time() - t0 < 8.0, time.time() - t0
print("robustness: ok")
PYEOF
kill -0 "$SERVE_PID" 2>/dev/null || fail "smtplab serve died"

# SIGTERM: each open session gets 421 before the server exits 0.
"$PY" - "$PORT" "$SERVE_PID" <<'PYEOF' || fail "shutdown checks"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
socks = []
for setup in (b"", b"EHLO a\r\n", b"EHLO a\r\nMAIL FROM:<x@y.test>\r\nRCPT TO:<alice@yahoo.test>\r\nDATA\r\nSubject: half\r\n"):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(setup)
    socks.append(s)
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
for s in socks:
    data = b""
    while True:
        more = s.recv(65536)
        if not more:
            break
        data += more
    last = data.rstrip(b"\r\n").split(b"\r\n")[-1]
    assert last.startswith(b"421"), data
print("shutdown: ok")
PYEOF
rc=0
for _ in $(seq 1 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[ "$rc" = 0 ] || fail "smtplab serve exited with $rc after SIGTERM"
grep -q 'refused (too many connections)' "$WORK/serve.err" || fail "summary lacks the refused connections"
echo "PASS serve_robust"
