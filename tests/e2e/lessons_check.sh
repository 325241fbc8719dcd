#!/usr/bin/env bash
# tests/e2e/lessons_check.sh SMTPLAB SOURCE_DIR
#
# 1. Every lesson in lessons/ passes `smtplab lesson --check` (the revealed
#    answers match the simulator, solutions pass, non-solutions fail).
# 2. The lesson command as a user meets it, on a small lesson written here
#    (only records today's simulator always produces): the list, a walk
#    driven through a pipe (answers, an exercise typed as JSON, one solved
#    by switching off the scenario's own fault with "off N", end of input),
#    teacher mode, --check passing and failing, unknown IDs.
set -u
BIN=$1
SRC=$2
fail=0
note() { echo "lessons_check: $*"; }
bad() { echo "lessons_check: FAIL: $*"; fail=1; }

# ---- 1. the repository's lessons
if ls "$SRC"/lessons/[0-9]*.json >/dev/null 2>&1; then
  if ! out=$("$BIN" lesson --check --dir "$SRC/lessons" 2>&1); then
    bad "smtplab lesson --check failed:"
    echo "$out"
  else
    note "$(echo "$out" | tail -n 1)"
  fi
else
  note "no lessons in lessons/ yet (drafts wait in lessons/drafts/)"
fi

# ---- 2. the command on a lesson of our own
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lessons" "$tmp/scenarios"
cp "$SRC/lessons/schema.json" "$tmp/lessons/"
cat > "$tmp/scenarios/tiny.json" <<'JSON'
{"smtplab": 1, "name": "tiny", "duration": "5min",
 "hosts": [
  {"name": "bob-pc", "role": "user-agent", "user": "bob@gmail.test", "server": "smtp.gmail.test"},
  {"name": "smtp.gmail.test", "role": "mail-server", "domains": ["gmail.test"]}],
 "messages": [{"from": "bob@gmail.test", "to": "bob@gmail.test", "at": "1s", "subject": "Note to self", "body": "Hi"}]}
JSON
cat > "$tmp/lessons/01-tiny.json" <<'JSON'
{"smtplab_lesson": 1, "title": "A tiny lesson", "summary": "For the end-to-end test.",
 "scenario": "tiny.json",
 "steps": [
  {"title": "Bob writes", "text": "Bob writes a note to himself.",
   "terms": {"MUA": "mail user agent"},
   "myths": [{"claim": "Mail needs two people.", "truth": "A note to self is mail too.", "cite": "RFC 5321 2.3.1"}],
   "pause": {"kind": "run-start"},
   "question": {"prompt": "Who writes first?",
     "choices": [{"text": "Bob", "match": {"kind": "message-composed", "src": "bob-pc"}},
                 {"text": "Nobody", "match": {"kind": "run-end"}, "why": "Bob writes at 1 s."}],
     "answer": "a", "reveal": {"kind": ["message-composed", "run-end"]}, "explain": "Bob's user agent composes the message."}},
  {"title": "Break it", "text": "Take the server down.",
   "exercise": {"task": "Inject a host-down fault on smtp.gmail.test.",
     "check": {"exists": {"kind": "fault-injected", "student_fault": true, "attrs": {"type": "host-down"}}},
     "explain": "Well done.",
     "teacher": {"solution": {"faults": [{"type": "host-down", "at": "0s", "host": "smtp.gmail.test"}]},
                 "non_solution": {"faults": []}}}}]}
JSON
L="$BIN lesson --dir $tmp/lessons"

out=$($L 2>&1) || bad "list exits $?"
echo "$out" | grep -q '^01-tiny .*A tiny lesson' || bad "list does not show the lesson: $out"
echo "$out" | grep -q 'For the end-to-end test.' || bad "list does not show the summary"

out=$($L 01-tiny --check 2>&1) || bad "--check of a good lesson exits $?: $out"
echo "$out" | grep -q '^ok   01-tiny (' || bad "--check output: $out"

# A walk: Enter, a wrong answer, Enter, a bad fault, a good fault, run, end.
out=$(printf 'b\n\nnot json\n{"type": "host-down", "at": "0s", "host": "nowhere"}\n\n{"type": "host-down", "at": "0s", "host": "smtp.gmail.test"}\n\n' | $L tiny 2>&1)
rc=$?
[ $rc -eq 0 ] || bad "walk exits $rc"
for want in 'Lesson 01-tiny: A tiny lesson' '\[1/2\] Bob writes' 'Often said: "Mail needs two people."' \
            'Not quite: the answer is a) Bob' 'Bob writes at 1 s.' 'The simulator shows:' 'writes "Note to self"' \
            'That is not JSON' 'These changes do not fit the scenario' '/faults/0/host: no host named "nowhere"' \
            'Solved:' 'Well done.' 'End of the lesson. Questions: 0/1 right. Exercises: 1/1 solved.'; do
  echo "$out" | grep -q -- "$want" || bad "walk output lacks: $want"
done

# "off N": an exercise solved by switching off the scenario's own fault
# (mx-fallback.json: with its primary MX up, the first attempt goes there).
mkdir -p "$tmp/scenarios"
cp "$SRC/scenarios/mx-fallback.json" "$tmp/scenarios/"
cat > "$tmp/lessons/02-whatif.json" <<'JSON'
{"smtplab_lesson": 1, "title": "What if", "summary": "Switch a fault off.", "scenario": "mx-fallback.json",
 "steps": [{"title": "What if", "text": "The primary MX is down.",
   "exercise": {"task": "Make the primary MX take the mail at the first attempt.",
     "check": {"exists": {"kind": "message-relayed", "attrs": {"mx": "mx1.yahoo.test", "attempt": "1"}}},
     "teacher": {"solution": {"switch_off": [0]}, "non_solution": {}}}}]}
JSON
out=$($L 02-whatif --check 2>&1) || bad "--check of the switch_off lesson exits $?: $out"
out=$(printf 'off 3
off 0

' | $L whatif 2>&1)
for want in '0: host-down at 0 s on mx1.yahoo.test' 'The scenario has 1 fault; there is no fault 3.' 'Solved:'; do
  echo "$out" | grep -q -- "$want" || bad "switch_off walk output lacks: $want"
done
rm "$tmp/lessons/02-whatif.json"

# End of input in the middle: a clean exit 0.
out=$(printf '' | $L tiny 2>&1); rc=$?
[ $rc -eq 0 ] || bad "walk with empty stdin exits $rc"
echo "$out" | grep -q 'leaving the lesson' || bad "walk at EOF: $out"

# Teacher mode shows the answer and the solution.
out=$(printf 'a\n\nskip\n' | $L tiny --teacher 2>&1)
echo "$out" | grep -q 'a) Bob   <- answer' || bad "teacher mode does not mark the answer"
echo "$out" | grep -q "Teacher's solution: \[{\"at\":\"0s\",\"host\":\"smtp.gmail.test\",\"type\":\"host-down\"}\]" || bad "teacher mode does not show the solution: $out"
echo "$out" | grep -q 'Skipped.' || bad "skip does not skip"

# A lesson that lies about the simulator fails --check with exit 1.
sed -e 's/"answer": "a"/"answer": "b"/' "$tmp/lessons/01-tiny.json" > "$tmp/lessons/02-lying.json"
out=$($L 02-lying --check 2>&1); rc=$?
[ $rc -eq 1 ] || bad "--check of a lying lesson exits $rc (want 1)"
echo "$out" | grep -q '02-lying.json: /steps/0/question/choices/1: the simulator reveals #[0-9]* message-composed' || bad "--check failure text: $out"
out=$($L --check 2>&1); rc=$?
[ $rc -eq 1 ] || bad "--check of all exits $rc (want 1)"
echo "$out" | grep -q '2 lessons checked, 1 failed' || bad "--check summary: $out"
rm "$tmp/lessons/02-lying.json"

# Invalid lessons and unknown IDs.
echo '{"smtplab_lesson": 1, "title": "x", "summary": "y", "scenario": "tiny.json", "steps": [{"title": "t", "text": "u", "pause": {"kind": "smtp-replies"}}]}' > "$tmp/lessons/03-broken.json"
out=$($L 03-broken --check 2>&1); rc=$?
[ $rc -eq 1 ] || bad "--check of an invalid lesson exits $rc (want 1)"
echo "$out" | grep -q '03-broken.json: /steps/0/pause/kind: unknown record kind "smtp-replies"' || bad "invalid lesson message: $out"
out=$($L 03-broken 2>&1); rc=$?
[ $rc -eq 2 ] || bad "walking an invalid lesson exits $rc (want 2)"
out=$($L no-such-lesson 2>&1); rc=$?
[ $rc -eq 2 ] || bad "unknown lesson exits $rc (want 2)"
echo "$out" | grep -q 'no lesson "no-such-lesson"' || bad "unknown lesson message: $out"

[ $fail -eq 0 ] && note "all passed"
exit $fail
