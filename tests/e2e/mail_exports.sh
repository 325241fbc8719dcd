#!/usr/bin/env bash
# tests/e2e/mail_exports.sh: `smtplab run --maildir/--mbox/--eml` write files
# that real mail tools read: Python's mailbox.Maildir, mailbox.mbox and
# email.message_from_bytes parse them back, and the subjects, attachment,
# Bcc privacy and DSN structure come back as the scenario says.
#
# Usage: bash mail_exports.sh <smtplab-binary> <source-dir>
# The scenarios are copied with every user agent's fetch turned off, so the
# mail is still on the servers when the run ends (a POP3 fetch would delete it).
set -euo pipefail

SMTPLAB=${1:?usage: mail_exports.sh <smtplab-binary> <source-dir>}
SRC=${2:?usage: mail_exports.sh <smtplab-binary> <source-dir>}
PY=/usr/bin/python3
if [[ ! -x $PY ]]; then
  echo "SKIP: $PY not found"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-e2e-exports.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Copy a scenario with fetching disabled and an optional Bcc/8-bit tweak.
prepare() {
  local name=$1 out=$2
  "$PY" - "$SRC/scenarios/$name.json" "$out" <<'PY'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    s = json.load(f)
for h in s.get("hosts", []):
    h.pop("fetch", None)
with open(dst, "w") as f:
    json.dump(s, f, indent=1)
PY
}

run_export() {
  local name=$1
  prepare "$name" "$WORK/$name.json"
  mkdir -p "$WORK/$name"
  if ! "$SMTPLAB" run "$WORK/$name.json" --maildir "$WORK/$name/maildir" --mbox "$WORK/$name/mbox" \
      --eml "$WORK/$name/eml" > "$WORK/$name/transcript.txt" 2>&1; then
    cat "$WORK/$name/transcript.txt" >&2
    fail "smtplab run $name failed"
  fi
}

for s in bob-to-alice attachment-7bit user-unknown-bounce; do
  run_export "$s"
done

"$PY" - "$WORK" <<'PY'
import email, email.policy, mailbox, os, sys

work = sys.argv[1]
errors = []

def check(cond, what):
    if not cond:
        errors.append(what)

def maildir(scenario, address):
    path = os.path.join(work, scenario, "maildir", address)
    check(all(os.path.isdir(os.path.join(path, d)) for d in ("tmp", "new", "cur")),
          f"{scenario}: {path} lacks tmp/new/cur")
    return mailbox.Maildir(path, factory=None, create=False)

def mbox(scenario, address):
    return mailbox.mbox(os.path.join(work, scenario, "mbox", address + ".mbox"), create=False)

def emls(scenario, address):
    d = os.path.join(work, scenario, "eml", address)
    out = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name), "rb") as f:
            out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
    return out

# 1. bob-to-alice: one message in Alice's mailbox, in all three formats.
md = maildir("bob-to-alice", "alice@yahoo.test")
msgs = list(md.values())
check(len(msgs) == 1, f"bob-to-alice: Alice's Maildir holds {len(msgs)} messages, want 1")
if msgs:
    m = msgs[0]
    check(m["Subject"] == "Lunch on Friday?", f"bob-to-alice: subject {m['Subject']!r}")
    check(m["From"] is not None and "bob@gmail.test" in m["From"], "bob-to-alice: From lacks bob@gmail.test")
    check(m["Message-ID"] is not None and m["Date"] is not None, "bob-to-alice: Message-ID/Date missing")
    check(m.get_all("Received") and len(m.get_all("Received")) >= 2,
          "bob-to-alice: want >= 2 Received: headers (submission + relay hop)")
    check(m.get_subdir() == "new", "bob-to-alice: an unread message belongs in new/")
mb = list(mbox("bob-to-alice", "alice@yahoo.test"))
check(len(mb) == 1, f"bob-to-alice: mbox holds {len(mb)} messages, want 1")
if mb:
    check(mb[0].get_from().startswith("bob@gmail.test "), f"bob-to-alice: From_ line {mb[0].get_from()!r}")
    check(mb[0]["Subject"] == "Lunch on Friday?", "bob-to-alice: mbox subject")
e = emls("bob-to-alice", "alice@yahoo.test")
check(len(e) == 1 and e[0]["Subject"] == "Lunch on Friday?", "bob-to-alice: .eml subject")

# 2. attachment-7bit: multipart/mixed with a 3000-byte base64 attachment.
msgs = list(maildir("attachment-7bit", "alice@yahoo.test").values())
check(len(msgs) == 1, f"attachment-7bit: {len(msgs)} messages, want 1")
if msgs:
    m = email.message_from_bytes(msgs[0].as_bytes(), policy=email.policy.default)
    check(m.get_content_type() == "multipart/mixed", f"attachment-7bit: {m.get_content_type()}")
    atts = list(m.iter_attachments())
    check(len(atts) == 1, f"attachment-7bit: {len(atts)} attachments, want 1")
    if atts:
        a = atts[0]
        check(a.get_filename() == "photo.jpg", f"attachment-7bit: filename {a.get_filename()!r}")
        check(a["Content-Transfer-Encoding"] == "base64", "attachment-7bit: want base64")
        check(len(a.get_payload(decode=True)) == 3000, "attachment-7bit: decoded size != 3000")
        raw = a.get_payload(decode=False)
        check(all(len(l) <= 76 for l in raw.splitlines()), "attachment-7bit: base64 line over 76")
    body = m.get_body(preferencelist=("plain",))
    check(body is not None and "Here is the photo." in body.get_content(), "attachment-7bit: text part")

# 3. user-unknown-bounce: a DSN in Bob's mailbox, from <>.
msgs = list(maildir("user-unknown-bounce", "bob@gmail.test").values())
dsns = [m for m in msgs if m.get_content_type() == "multipart/report"]
check(len(dsns) == 1, f"user-unknown-bounce: {len(dsns)} DSNs in Bob's mailbox, want 1")
if dsns:
    d = email.message_from_bytes(dsns[0].as_bytes(), policy=email.policy.compat32)
    check(d.get_param("report-type") == "delivery-status", "DSN: report-type")
    parts = d.get_payload()
    types = [p.get_content_type() for p in parts]
    check(types[:2] == ["text/plain", "message/delivery-status"], f"DSN: part types {types}")
    check(len(types) == 3 and types[2] in ("text/rfc822-headers", "message/rfc822"), f"DSN: part 3 {types}")
    status = parts[1].get_payload()
    per_rcpt = status[1] if len(status) > 1 else {}
    check(per_rcpt.get("Action") == "failed", f"DSN: Action {per_rcpt.get('Action')!r}")
    check((per_rcpt.get("Status") or "").startswith("5."), f"DSN: Status {per_rcpt.get('Status')!r}")
    check("alcie@yahoo.test" in (per_rcpt.get("Final-Recipient") or ""), "DSN: Final-Recipient")
    check("550" in (per_rcpt.get("Diagnostic-Code") or ""), "DSN: Diagnostic-Code lacks the 550 reply")
    human = parts[0].get_payload(decode=True).decode()
    check("alcie@yahoo.test" in human, "DSN: the human part does not name the recipient")
box = mbox("user-unknown-bounce", "bob@gmail.test")
froms = [m.get_from() for m in box]
check(any(f.startswith("MAILER-DAEMON ") for f in froms), f"DSN: mbox From_ lines {froms} (null sender -> MAILER-DAEMON)")

if errors:
    for e in errors:
        print("FAIL:", e)
    sys.exit(1)
print("OK: Maildir, mbox and .eml exports read back by Python")
PY
