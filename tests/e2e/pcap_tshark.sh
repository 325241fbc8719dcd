#!/usr/bin/env bash
# tests/e2e/pcap_tshark.sh: `smtplab run --pcap` writes a capture that
# Wireshark's dissector (tshark) reads as a real one: every IP, TCP and UDP
# checksum good, the SMTP commands and replies and the DNS answers
# dissected, the lossy link's retransmissions recognised as such, and one
# host's interface missing the segments that were lost on the way to it.
# Usage: bash pcap_tshark.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=$(realpath "${1:?usage: pcap_tshark.sh SMTPLAB SOURCE_DIR}")
SRC=$(realpath "${2:?usage: pcap_tshark.sh SMTPLAB SOURCE_DIR}")
if ! command -v tshark >/dev/null; then
  echo "pcap_tshark: tshark is missing (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
fail() { echo "pcap_tshark: $*" >&2; exit 1; }
shark() { tshark -r "$1" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "${@:2}" 2>/dev/null; }

"$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --pcap all.pcap > /dev/null 2> err.txt
grep -q "packets in all.pcap (each as its sender sent it)" err.txt || { cat err.txt; fail "no summary line"; }
total=$(shark all.pcap | wc -l)
[ "$total" -gt 100 ] || fail "only $total packets"
bad=$(shark all.pcap -Y "ip.checksum.status==0 || tcp.checksum.status==0 || udp.checksum.status==0" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad packets with a bad checksum"
good=$(shark all.pcap -Y "ip.checksum.status==1 && (tcp.checksum.status==1 || udp.checksum.status==1)" | wc -l)
[ "$good" -eq "$total" ] || fail "$good of $total packets have a verified TCP or UDP checksum"
# The same dialogue the transcript shows.
# (Wireshark names a command by its first four letters, STARTTLS as STAR; a
# pipelined group is one field with commas.)
shark all.pcap -Y smtp.req.command -T fields -e smtp.req.command | tr ',' '\n' > commands.txt
for c in EHLO STAR AUTH MAIL RCPT DATA QUIT; do grep -qx "$c" commands.txt || fail "no SMTP $c dissected"; done
replies=$(shark all.pcap -Y smtp.response.code | wc -l)
[ "$replies" -gt 10 ] || fail "only $replies SMTP replies dissected"
shark all.pcap -Y "dns.flags.response==1 && dns.mx.mail_exchange" -T fields -e dns.mx.mail_exchange | grep -qx "mx.yahoo.test" \
  || fail "no DNS answer naming mx.yahoo.test as the MX"
shark all.pcap -Y pop.request.command -T fields -e pop.request.command | grep -qx "RETR" || fail "no POP3 RETR dissected"
retrans=$(shark all.pcap -Y tcp.analysis.retransmission | wc -l)
[ "$retrans" -gt 0 ] || fail "the lossy link shows no retransmission"

# mx.yahoo.test's interface: fewer packets, and the gaps that loss leaves.
"$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --pcap mx.pcap --pcap-host mx.yahoo.test > /dev/null 2> err.txt
grep -q "as mx.yahoo.test's interface saw them" err.txt || { cat err.txt; fail "no summary line for --pcap-host"; }
mx=$(shark mx.pcap | wc -l)
[ "$mx" -gt 0 ] && [ "$mx" -lt "$total" ] || fail "mx.yahoo.test's capture has $mx of $total packets"
addr=$(shark mx.pcap -T fields -e ip.dst -Y "tcp.dstport==25" | head -1)
outside=$(shark mx.pcap -Y "!(ip.addr==$addr)" | wc -l)
[ "$outside" -eq 0 ] || fail "$outside packets of mx.yahoo.test's capture are not to or from $addr"

# To stdout, straight into tshark: the same packets.
piped=$("$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --out /dev/null --pcap - 2> /dev/null | tshark -r - 2>/dev/null | wc -l)
[ "$piped" -eq "$total" ] || fail "--pcap - gave $piped packets, the file $total"

# Bad use: clear errors, exit code 2.
set +e
"$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --pcap x.pcap --pcap-host nowhere > /dev/null 2> err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "no such host in the scenario; hosts: bob-pc" err.txt || { cat err.txt; fail "--pcap-host nowhere: exit $rc"; }
set +e
"$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --pcap - > /dev/null 2> err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "send the trace elsewhere with --out" err.txt || { cat err.txt; fail "--pcap - without --out: exit $rc"; }
set +e
"$SMTPLAB" run "$SRC/scenarios/lossy-link.json" --pcap x.pcap --pcap-host edge.gmail.test > /dev/null 2> err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "a router forwards packets" err.txt || { cat err.txt; fail "--pcap-host on a router: exit $rc"; }
echo "pcap_tshark: $total packets, $retrans retransmissions, $replies SMTP replies, $mx at mx.yahoo.test: ok"
