#!/usr/bin/env bash
# tests/e2e/serve_smtplib.sh: Python's smtplib (and a raw socket) against
# `smtplab serve`: the happy path into the Maildir, refused recipients
# (unknown user, a domain outside the scenario: never an open relay), a body
# of lone dots arriving intact, and a pipelined command group (RFC 2920).
# Usage: serve_smtplib.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> <source-dir>}
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-smtplib.XXXXXX")
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- smtplab serve stderr:" >&2; cat "$WORK/serve.err" >&2 2>/dev/null || true
  echo "--- transcript (tail):" >&2; tail -40 "$WORK/serve.out" >&2 2>/dev/null || true
  exit 1
}
start_serve() {  # starts `smtplab serve` on a free loopback port; sets PORT
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
stop_serve() {  # SIGTERM, bounded wait, exit status must be 0
  kill -TERM "$SERVE_PID"
  local rc=0
  for _ in $(seq 1 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVE_PID" 2>/dev/null && fail "smtplab serve still running 15 s after SIGTERM"
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  [ "$rc" = 0 ] || fail "smtplab serve exited with $rc after SIGTERM"
}

start_serve --maildir "$WORK/md"

"$PY" - "$PORT" "$WORK/md" <<'PYEOF' || fail "smtplib checks"
import glob, os, smtplib, socket, sys, time
port, md = int(sys.argv[1]), sys.argv[2]

def wait_files(pattern, n, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        files = sorted(glob.glob(pattern))
        if len(files) >= n:
            return files
        time.sleep(0.05)
    raise SystemExit("expected %d file(s) matching %s, got %d" % (n, pattern, len(glob.glob(pattern))))

def body_of(path):
    text = open(path, "rb").read().decode()
    return text.split("\n\n", 1)[1]

# 1. Happy path, with a message id we can find again.
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
code, ehlo = s.ehlo("client.example")
assert code == 250, (code, ehlo)
assert b"PIPELINING" in ehlo and b"STARTTLS" not in ehlo, ehlo  # no fake TLS on a real socket
refused = s.sendmail("sender@outside.test", ["alice@yahoo.test"],
                     "From: sender@outside.test\r\nTo: alice@yahoo.test\r\nSubject: happy\r\n\r\nHello Alice.\r\n")
assert refused == {}, refused

# 2. Refused recipients: unknown user (5.1.1) and a foreign domain (5.7.1, never an open relay).
for rcpt, want_code, want_enh in (("nobody@yahoo.test", 550, b"5.1.1"), ("victim@example.com", 554, b"5.7.1")):
    try:
        s.sendmail("sender@outside.test", [rcpt], "Subject: no\r\n\r\nno\r\n")
        raise SystemExit("%s was accepted" % rcpt)
    except smtplib.SMTPRecipientsRefused as e:
        code, msg = e.recipients[rcpt]
        assert code // 100 == 5 and msg.startswith(want_enh), (rcpt, code, msg)
# Partial refusal: the good recipient still gets the message.
refused = s.sendmail("sender@outside.test", ["alice@yahoo.test", "victim@example.org"],
                     "Subject: partial\r\n\r\npartial\r\n")
assert list(refused) == ["victim@example.org"], refused

# 3. A body of lone dots (RFC 5321 4.5.2): smtplib dot-stuffs, the server un-stuffs.
dots = "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n...\r\nmiddle . line\r\n.\r\nlast\r\n"
assert s.sendmail("sender@outside.test", ["alice@yahoo.test"], dots) == {}
s.quit()

files = wait_files(os.path.join(md, "alice@yahoo.test", "new", "*"), 3)
bodies = [body_of(f) for f in files]
assert "Hello Alice.\n" in bodies, bodies
assert "partial\n" in bodies, bodies
assert ".\n..\n.x\n...\nmiddle . line\n.\nlast\n" in bodies, bodies
assert not os.listdir(os.path.join(md, "alice@yahoo.test", "tmp"))
assert not os.path.exists(os.path.join(md, "victim@example.com"))

# 4. Pipelining (RFC 2920): one write holds MAIL, two RCPTs and DATA; the
# replies come back in order, the bad RCPT refused without breaking the group.
def read_replies(sock, n, timeout=10.0):
    sock.settimeout(timeout)
    buf, replies = b"", []
    while len(replies) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed after %r" % replies)
        buf += chunk
        while b"\r\n" in buf and len(replies) < n:
            line, buf = buf.split(b"\r\n", 1)
            if line[3:4] != b"-":
                replies.append(line)
    return replies

c = socket.create_connection(("127.0.0.1", port), timeout=10)
assert read_replies(c, 1)[0].startswith(b"220")
c.sendall(b"EHLO pipeliner.example\r\n")
assert read_replies(c, 1)[0].startswith(b"250")
c.sendall(b"MAIL FROM:<p@outside.test>\r\nRCPT TO:<alice@yahoo.test>\r\nRCPT TO:<ghost@yahoo.test>\r\n"
          b"RCPT TO:<x@elsewhere.test>\r\nDATA\r\n")
r = read_replies(c, 5)
codes = [x[:3] for x in r]
assert codes == [b"250", b"250", b"550", b"554", b"354"], r
c.sendall(b"Subject: piped\r\n\r\npipelined body\r\n.\r\nNOOP\r\nQUIT\r\n")
r = read_replies(c, 3)
assert [x[:3] for x in r] == [b"250", b"250", b"221"], r
c.close()
files = wait_files(os.path.join(md, "alice@yahoo.test", "new", "*"), 4)
assert any(body_of(f) == "pipelined body\n" for f in files)
print("smtplib: ok")
PYEOF

stop_serve
grep -q -- '-> MAIL FROM:<p@outside.test>' "$WORK/serve.out" || fail "the transcript does not show the pipelined MAIL"
grep -q '<- 354' "$WORK/serve.out" || fail "the transcript does not show replies"
grep -q 'delivered to the mailbox of alice@yahoo.test' "$WORK/serve.out" || fail "no delivery record in the transcript"
echo "PASS serve_smtplib"
