#!/usr/bin/env bash
# End-to-end: the smtplab command line contract (exit codes 0/1/2, one-line
# errors on stderr, validate on malformed files of every kind, a trace that is
# identical run after run, sweep's usage and its summary on any number of
# threads).
#   bash tests/e2e/cli.sh <smtplab> <source-dir>
set -uo pipefail
bin=${1:?smtplab binary}; src=${2:?source dir}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
check() {  # check NAME WANT_EXIT GOT_EXIT
  if [ "$2" = "$3" ]; then passes=$((passes+1)); else echo "FAIL: $1: exit $3, want $2"; fails=$((fails+1)); fi
}
expect_in() {  # expect_in NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then passes=$((passes+1)); else echo "FAIL: $1: \"$3\" not in output:"; sed 's/^/    /' "$2"; fails=$((fails+1)); fi
}

"$bin" --version >"$tmp/out" 2>&1; check version 0 $?; expect_in version "$tmp/out" "smtplab "
"$bin" --help >"$tmp/out" 2>&1; check help 0 $?; expect_in help "$tmp/out" "validate"
"$bin" run --help >"$tmp/out" 2>&1; check run-help 0 $?; expect_in run-help "$tmp/out" "--format"
"$bin" frobnicate >"$tmp/out" 2>"$tmp/err"; check unknown-command 2 $?
expect_in unknown-command "$tmp/err" "smtplab: "
[ "$(wc -l < "$tmp/err")" -eq 1 ] && passes=$((passes+1)) || { echo "FAIL: unknown-command: error is not one line"; fails=$((fails+1)); }
"$bin" run --format xml >"$tmp/out" 2>"$tmp/err"; check bad-format 2 $?
"$bin" run --until soon >"$tmp/out" 2>"$tmp/err"; check bad-until 2 $?; expect_in bad-until "$tmp/err" "--until soon"
"$bin" run --layers smtp,http >"$tmp/out" 2>"$tmp/err"; check bad-layers 2 $?; expect_in bad-layers "$tmp/err" "unknown layer \"http\""
"$bin" bench nosuch >"$tmp/out" 2>"$tmp/err"; check bad-bench 2 $?; expect_in bad-bench "$tmp/err" "unknown benchmark"
"$bin" bench --list >"$tmp/out" 2>&1; check bench-list 0 $?; expect_in bench-list "$tmp/out" "engine:"

# validate: every scenario shipped is OK.
for f in "$src"/scenarios/*.json; do
  [ "$(basename "$f")" = schema.json ] && continue
  "$bin" validate "$f" >"$tmp/out" 2>&1; check "validate $(basename "$f")" 0 $?; expect_in "validate $(basename "$f")" "$tmp/out" ": OK"
done

# validate: malformed files of every kind give exit 2 and a clear error.
: > "$tmp/empty.json"
printf '{\n  "smtplab": 1,\n  "hosts": [ }\n' > "$tmp/syntax.json"
printf '{"a":\0}' > "$tmp/binary.json"
printf '{"name": "caf\xe9"}' > "$tmp/latin1.json"
python3 -c "print('['*100000 + ']'*100000)" > "$tmp/deep.json"
head -c 5000000 /dev/zero | tr '\0' ' ' > "$tmp/huge.json"
printf '{"smtplab": 1, "hosts": [{"name": "a", "role": "mail-server"}], "links": [{"a": "a", "b": "b", "loss": 1.5}]}' > "$tmp/range.json"
declare -A want=(
  [empty]="file is empty"
  [syntax]="syntax.json:3:14: JSON syntax error"
  [binary]="binary file"
  [latin1]="not valid UTF-8"
  [deep]="nesting deeper than 32 levels"
  [huge]="file is too large"
  [range]="/links/0/loss: must be between 0 and 1, got 1.5"
)
for k in "${!want[@]}"; do
  timeout 20 "$bin" validate "$tmp/$k.json" >"$tmp/out" 2>"$tmp/err"; check "validate $k" 2 $?
  expect_in "validate $k" "$tmp/err" "${want[$k]}"
done
"$bin" validate "$tmp/range.json" >"$tmp/out" 2>"$tmp/err"
expect_in "validate reports every error" "$tmp/err" "/links/0/b: no host named \"b\""
"$bin" validate "$tmp/nonexistent.json" >"$tmp/out" 2>"$tmp/err"; check "validate missing" 2 $?; expect_in "validate missing" "$tmp/err" "cannot open file"
"$bin" run "$tmp/syntax.json" >"$tmp/out" 2>"$tmp/err"; check "run invalid" 2 $?

# run: the default scenario's JSONL trace is identical run after run, and --out writes the same bytes.
"$bin" run "$src/scenarios/bob-to-alice.json" --format jsonl >"$tmp/a.jsonl"; check run-a 0 $?
"$bin" run "$src/scenarios/bob-to-alice.json" --format jsonl >"$tmp/b.jsonl"; check run-b 0 $?
"$bin" run "$src/scenarios/bob-to-alice.json" --format jsonl --out "$tmp/c.jsonl"; check run-out 0 $?
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" && cmp -s "$tmp/a.jsonl" "$tmp/c.jsonl" && passes=$((passes+1)) || { echo "FAIL: trace differs between runs"; fails=$((fails+1)); }
[ -s "$tmp/a.jsonl" ] && passes=$((passes+1)) || { echo "FAIL: empty trace"; fails=$((fails+1)); }
"$bin" run --format jsonl >"$tmp/d.jsonl"; cmp -s "$tmp/a.jsonl" "$tmp/d.jsonl" && passes=$((passes+1)) || { echo "FAIL: built-in scenario differs from scenarios/bob-to-alice.json"; fails=$((fails+1)); }
"$bin" run --seed 7 --format jsonl >"$tmp/e.jsonl"; check run-seed 0 $?
"$bin" run --out /nonexistent-dir/x.txt >"$tmp/out" 2>"$tmp/err"; check run-unwritable 1 $?

# sweep: the scenario once per seed; usage errors exit 2 with the reason.
"$bin" sweep --seeds ten >"$tmp/out" 2>"$tmp/err"; check sweep-bad-seeds 2 $?
expect_in sweep-bad-seeds "$tmp/err" "smtplab sweep: --seeds: expected a number of seeds"
"$bin" sweep --seeds 9-3 >"$tmp/out" 2>"$tmp/err"; check sweep-backwards 2 $?; expect_in sweep-backwards "$tmp/err" "ends before it starts"
"$bin" sweep --until soon >"$tmp/out" 2>"$tmp/err"; check sweep-bad-until 2 $?; expect_in sweep-bad-until "$tmp/err" "--until soon"
"$bin" sweep --jobs 0 >"$tmp/out" 2>"$tmp/err"; check sweep-no-jobs 2 $?
"$bin" sweep "$tmp/nonexistent.json" >"$tmp/out" 2>"$tmp/err"; check sweep-missing 2 $?; expect_in sweep-missing "$tmp/err" "cannot open file"
"$bin" sweep --seeds 3 >"$tmp/out" 2>"$tmp/err"; check sweep-default 0 $?
expect_in sweep-default "$tmp/out" 'Sweep of "Bob sends a message to Alice" over seeds 1-3 (3 runs)'
expect_in sweep-default "$tmp/out" "replay one with"
expect_in sweep-default "$tmp/out" "smtplab run --seed 1"
expect_in sweep-default "$tmp/err" "smtplab sweep: 3 runs in "
"$bin" sweep "$src/scenarios/duplicate-delivery.json" --seeds 4-8 --format json >"$tmp/sweep.json" 2>/dev/null; check sweep-json 0 $?
python3 - "$tmp/sweep.json" <<'PY' && passes=$((passes+1)) || { echo "FAIL: sweep --format json"; fails=$((fails+1)); }
import json, sys
j = json.load(open(sys.argv[1]))
o = j["recipients"][0]["outcomes"][0]
assert j["runs"] == 5 and j["seeds"] == {"first": 4, "last": 8}, j
assert o["deliveries"] == 2 and o["seeds"] == [4, 5, 6, 7, 8], o
PY
# The same sweep on one thread and on two: the same bytes.
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 30 --until 5min --jobs 1 >"$tmp/s1" 2>/dev/null; check sweep-jobs1 0 $?
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 30 --until 5min --jobs 2 >"$tmp/s2" 2>/dev/null; check sweep-jobs2 0 $?
cmp -s "$tmp/s1" "$tmp/s2" && passes=$((passes+1)) || { echo "FAIL: sweep differs between --jobs 1 and 2"; diff "$tmp/s1" "$tmp/s2" | head; fails=$((fails+1)); }
expect_in sweep-replay "$tmp/s1" "smtplab run $src/scenarios/lossy-link.json --until 5min --seed "

# --fault adds a fault (scenario format) to run and sweep; a bad one is named.
"$bin" run --fault '{"type": "host-down", "at": "0s", "host": "mx.yahoo.test"}' --layers mail >"$tmp/out" 2>"$tmp/err"
check run-fault 0 $?; expect_in run-fault "$tmp/out" "waiting in the queue of smtp.gmail.test"
"$bin" run --fault 'nope' >"$tmp/out" 2>"$tmp/err"; check fault-not-json 2 $?; expect_in fault-not-json "$tmp/err" "--fault 1: not JSON: parse error at line 1"
"$bin" run --fault '{"type": "host-down", "at": "0s", "host": "mx.yahoo.test"}' --fault '[1]' >"$tmp/out" 2>"$tmp/err"
check fault-not-object 2 $?; expect_in fault-not-object "$tmp/err" "--fault 2: expected a JSON object, got array"
"$bin" run --fault '{"type": "host-down", "at": "0s", "host": "nobody"}' >"$tmp/out" 2>"$tmp/err"
check fault-bad-host 2 $?; expect_in fault-bad-host "$tmp/err" '--fault 1: /host: no host named "nobody"'
"$bin" sweep --fault '{"type": "host-down", "host": "mx.yahoo.test"}' >"$tmp/out" 2>"$tmp/err"
check fault-no-at 2 $?; expect_in fault-no-at "$tmp/err" "--fault 1: /at: required key is missing"
f='{"type": "link-loss", "at": "0s", "link": ["edge.gmail.test", "internet"], "loss": 0.4}'
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 40 --fault "$f" >"$tmp/out" 2>"$tmp/err"; check sweep-fault 0 $?
expect_in sweep-fault "$tmp/out" "smtplab run $src/scenarios/lossy-link.json --fault '$f' --seed "
# The replay line, pasted into a shell, runs (the quoting holds).
replay=$(grep -A1 "replay it with" "$tmp/out" | tail -1 | sed "s|^  smtplab |\"\$bin\" |")
eval "$replay" >"$tmp/replay" 2>"$tmp/err"; check sweep-fault-replay 0 $?; expect_in sweep-fault-replay "$tmp/replay" "What happened to each message"

# --set changes one value of the scenario (a JSON pointer into the file);
# sweep compares a list of values. Bad ones exit 2 naming the option.
"$bin" run "$src/scenarios/lossy-link.json" --set /links/2/loss=0 --set /duration=1min --layers mail >"$tmp/out" 2>"$tmp/err"
check run-set 0 $?; expect_in run-set "$tmp/out" "What happened to each message"
"$bin" run "$src/scenarios/lossy-link.json" --set /links/0/loss=2 >"$tmp/out" 2>"$tmp/err"; check set-out-of-range 2 $?
expect_in set-out-of-range "$tmp/err" "--set /links/0/loss=2: /links/0/loss: must be between 0 and 1, got 2"
"$bin" run "$src/scenarios/lossy-link.json" --set /links/9/loss=0.1 >"$tmp/out" 2>"$tmp/err"; check set-no-link 2 $?
expect_in set-no-link "$tmp/err" '--set /links/9/loss=0.1: /links is a list of 3 elements (0 to 2); "9" is not one of them'
"$bin" run "$src/scenarios/implicit-mx.json" --set /nosuch/x=1 >"$tmp/out" 2>"$tmp/err"; check set-unknown-key 2 $?
expect_in set-unknown-key "$tmp/err" '--set /nosuch/x=1: /nosuch: unknown key "nosuch"'
# A block the file leaves out is made: implicit-mx has no "network", and loses mail at 30% loss.
"$bin" run "$src/scenarios/implicit-mx.json" --set /network/loss=0.3 --seed 3 --layers tcp >"$tmp/out" 2>"$tmp/err"; check set-made-block 0 $?
expect_in set-made-block "$tmp/out" "[SYN] Seq=0 Win=65535 MSS=1460 Len=0 lost: random loss on link bob-pc - internet"
"$bin" run --set /links/0/loss >"$tmp/out" 2>"$tmp/err"; check set-no-value 2 $?; expect_in set-no-value "$tmp/err" "expected POINTER=VALUE"
"$bin" run --set /links/0/loss=0,0.1 >"$tmp/out" 2>"$tmp/err"; check set-list-in-run 2 $?
expect_in set-list-in-run "$tmp/err" "one value here; \`smtplab sweep\` takes a list"
"$bin" sweep --set /links/0/loss=0,0.1 --set /duration=1min,2min --set /links/1/loss=0,0.1 >"$tmp/out" 2>"$tmp/err"; check set-three-lists 2 $?
expect_in set-three-lists "$tmp/err" "a third list of values (/links/0/loss and /duration have them); a sweep varies at most two values at a time"
"$bin" sweep --set /duration=1min,2min --set /duration=3min >"$tmp/out" 2>"$tmp/err"; check set-list-twice 2 $?
expect_in set-list-twice "$tmp/err" "--set /duration=3min: /duration is set twice, once with a list of values"
"$bin" sweep --seeds 200000 --set /duration=1min,2min,3min --set /links/0/loss=0,0.1 >"$tmp/out" 2>"$tmp/err"; check grid-too-many-runs 2 $?
expect_in grid-too-many-runs "$tmp/err" "6 pairs of values of /duration and /links/0/loss times 200000 seeds is 1200000 runs"
"$bin" sweep --seeds 500000 --set /duration=1min,2min,3min >"$tmp/out" 2>"$tmp/err"; check set-too-many-runs 2 $?
expect_in set-too-many-runs "$tmp/err" "3 values of /duration times 500000 seeds is 1500000 runs; at most 1000000"
"$bin" sweep --set /seed=1,2 >"$tmp/out" 2>"$tmp/err"; check set-seed-in-sweep 2 $?; expect_in set-seed-in-sweep "$tmp/err" "a sweep runs seeds of its own"
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 30 --set /links/2/loss=0,0.4 --set /duration=30min >"$tmp/out" 2>"$tmp/err"
check sweep-set 0 $?
expect_in sweep-set "$tmp/out" "(30 runs each) for each /links/2/loss in 0, 0.4"
expect_in sweep-set "$tmp/err" "smtplab sweep: 60 runs in "
# The replay line carries both settings and runs.
replay=$(grep -A1 "replay it with" "$tmp/out" | tail -1 | sed "s|^  smtplab |\"\$bin\" |")
case "$replay" in *"--set /duration=30min --set /links/2/loss=0.4 --seed "*) passes=$((passes+1)) ;; *) echo "FAIL: sweep-set replay line: $replay"; fails=$((fails+1)) ;; esac
eval "$replay" >"$tmp/replay" 2>"$tmp/err"; check sweep-set-replay 0 $?; expect_in sweep-set-replay "$tmp/replay" "What happened to each message"
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 5 --set /links/2/loss=0,0.4 --format json >"$tmp/set.json" 2>/dev/null; check sweep-set-json 0 $?
python3 - "$tmp/set.json" <<'PY' && passes=$((passes+1)) || { echo "FAIL: sweep --set --format json"; fails=$((fails+1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["set"] == "/links/2/loss", j["set"]
assert [v["value"] for v in j["values"]] == [0, 0.4], j["values"]
assert all(v["sweep"]["runs"] == 5 for v in j["values"])
PY

# Two lists: a grid, every pair of their values, the first list outermost.
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 20 --set /links/2/loss=0,0.4 --set /links/2/latency=10ms,100ms >"$tmp/out" 2>"$tmp/err"; check sweep-grid 0 $?
expect_in sweep-grid "$tmp/out" "for each pair /links/2/loss, /links/2/latency in (0, 10ms), (0, 100ms), (0.4, 10ms), (0.4, 100ms)"
expect_in sweep-grid "$tmp/out" "  0.4, 100ms  "
expect_in sweep-grid "$tmp/err" "80 runs in"
replay=$(grep -A1 "replay it with" "$tmp/out" | tail -1 | sed "s|^  smtplab |\"\$bin\" |")
case "$replay" in *"--set /links/2/loss=0.4 --set /links/2/latency="*"--seed "*) passes=$((passes+1)) ;; *) echo "FAIL: sweep-grid replay line: $replay"; fails=$((fails+1)) ;; esac
eval "$replay" >"$tmp/replay" 2>"$tmp/err"; check sweep-grid-replay 0 $?; expect_in sweep-grid-replay "$tmp/replay" "waiting in the queue of smtp.gmail.test"
"$bin" sweep "$src/scenarios/lossy-link.json" --seeds 3 --set /links/2/loss=0,0.4 --set /links/2/latency=10ms,100ms --format json >"$tmp/grid.json" 2>/dev/null; check sweep-grid-json 0 $?
python3 - "$tmp/grid.json" <<'PY' && passes=$((passes+1)) || { echo "FAIL: sweep grid --format json"; fails=$((fails+1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["set"] == ["/links/2/loss", "/links/2/latency"], j["set"]
assert [v["value"] for v in j["values"]] == [[0, "10ms"], [0, "100ms"], [0.4, "10ms"], [0.4, "100ms"]], j["values"]
assert all(v["sweep"]["runs"] == 3 for v in j["values"])
PY

echo "cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
