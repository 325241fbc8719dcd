#!/usr/bin/env bash
# Regenerates golden traces: tests/golden/NAME.jsonl is the JSON Lines trace
# of scenarios/NAME.json with its own seed. With names, (re)creates those;
# without, every golden that exists. Review `git diff tests/golden` after.
#   bash tests/golden/update.sh path/to/smtplab [NAME...]
set -euo pipefail
bin=${1:?usage: update.sh SMTPLAB [NAME...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/*.jsonl; do [ -e "$f" ] && names+=("$(basename "$f" .jsonl)"); done
fi
for n in "${names[@]}"; do
  "$bin" run "$root/scenarios/$n.json" --format jsonl --out "$here/$n.jsonl"
  echo "updated tests/golden/$n.jsonl ($(wc -l < "$here/$n.jsonl") records)"
done
