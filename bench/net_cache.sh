#!/usr/bin/env bash
# bench/net_cache.sh: why `smtplab bench net` costs more per session at 10,000
# concurrent sessions than at 1,000, in figures that do not depend on how
# busy the machine is. Runs the same closed loop of SMTP sessions as
# `bench net` (SMTPLAB_BENCH_NET_ONLY=C: C open at a time, 5 x C in all)
# under valgrind's cachegrind at C = 1 (the fixed set-up: hosts, links,
# zones), 1,000 and 10,000, subtracts the set-up and prints per session:
#   - instructions executed: the work. Flat (ratio near 1) means nothing in
#     the model scans or grows with the number of open connections;
#   - last-level cache misses with a simulated last-level cache of LL bytes
#     (default 32 MiB, 16-way): what the larger working set costs. The
#     misses, not the instructions, make the CPU-time ratio of `bench net`.
#
# Usage: bench/net_cache.sh <smtplab-binary> [LL-bytes]
# Takes about 3 minutes (cachegrind runs the program some 50 times slower).
set -euo pipefail
SMTPLAB=${1:?usage: $0 <smtplab-binary> [LL-bytes]}
LL=${2:-33554432}
command -v valgrind >/dev/null || { echo "bench/net_cache.sh: valgrind missing (Debian package valgrind)" >&2; exit 2; }
[[ "$LL" =~ ^[0-9]+$ ]] || { echo "bench/net_cache.sh: LL-bytes must be a number of bytes, not '$LL'" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtplab-bench-cache.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Prints "<instructions> <last-level misses>" for C concurrent sessions.
measure() {
  local c=$1 log="$WORK/cg.$1.log"
  if ! SMTPLAB_BENCH_NET_ONLY=$c valgrind --tool=cachegrind --cache-sim=yes --LL="$LL,16,64" \
      --cachegrind-out-file="$WORK/cg.$c.out" "$SMTPLAB" bench net >"$WORK/out.$c" 2>"$log"; then
    echo "bench/net_cache.sh: the run with $c sessions failed:" >&2
    cat "$WORK/out.$c" "$log" >&2
    exit 1
  fi
  local ir ll
  ir=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$log" | tr -d ,)
  ll=$(sed -n 's/.*LL misses: *\([0-9,]*\).*/\1/p' "$log" | tr -d ,)
  [ -n "$ir" ] && [ -n "$ll" ] || { echo "bench/net_cache.sh: no cachegrind summary in the run with $c sessions" >&2; exit 1; }
  echo "$ir $ll"
}

read -r base_ir base_ll < <(measure 1)
read -r a_ir a_ll < <(measure 1000)
read -r b_ir b_ll < <(measure 10000)
awk -v bi="$base_ir" -v bl="$base_ll" -v ai="$a_ir" -v al="$a_ll" -v ci="$b_ir" -v cl="$b_ll" -v ll="$LL" 'BEGIN {
  na = 5 * 1000 - 5; nb = 5 * 10000 - 5
  ia = (ai - bi) / na; ib = (ci - bi) / nb
  ma = (al - bl) / na; mb = (cl - bl) / nb
  printf "bench net under cachegrind (last-level cache %.0f MiB), per SMTP session, set-up subtracted:\n", ll / 1048576
  printf "  1,000 concurrent:  %.0f instructions, %.1f last-level misses\n", ia, ma
  printf "  10,000 concurrent: %.0f instructions, %.1f last-level misses\n", ib, mb
  printf "  instruction ratio (10,000 vs 1,000): %.3f (1.0 = the work per session does not grow with concurrency)\n", ib / ia
  printf "  extra last-level misses per session at 10,000: %.1f\n", mb - ma
}'
