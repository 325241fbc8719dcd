#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS]: runs every fuzz_* target of BUILD_DIR
# for SECONDS (default 25) each on its seed corpus, in a scratch copy (the
# checked-in corpus is never modified). Fails if any target finds a crash,
# leak, timeout or sanitizer report; the reproducer is kept in BUILD_DIR/fuzz-crashes/.
# Turn each into a regression test in the owner's tests and add the input to
# corpus/<target>/ as regress-<what>, so every later run replays it.
set -u
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-25}
here=$(cd "$(dirname "$0")" && pwd)
crashes="$build/fuzz-crashes"
mkdir -p "$crashes"
status=0
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $build/tests/fuzz" >&2
  exit 1
fi
for bin in "${targets[@]}"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work=$(mktemp -d)
  if [ -d "$here/corpus/$name" ]; then cp -r "$here/corpus/$name/." "$work/"; fi
  echo "== fuzz_$name: ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -max_len=8192 \
      -artifact_prefix="$crashes/${name}-" -print_final_stats=0 "$work" >"$crashes/$name.log" 2>&1; then
    echo "!! fuzz_$name FAILED; see $crashes/$name.log:" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$crashes/$name.log" | head -5 >&2
    status=1
  else
    grep -E "^#[0-9]+.*DONE" "$crashes/$name.log" | tail -1
  fi
  rm -rf "$work"
done
exit $status
