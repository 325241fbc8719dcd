#!/usr/bin/env bash
# tests/e2e/gui_screenshot.sh: the real window under Xvfb renders the default
# scenario and writes a screenshot; the PNG must have the screen's size and
# must not be blank (several distinct colours, not one flat fill).
# Usage: bash gui_screenshot.sh <smtplab-binary> <source-dir>
set -euo pipefail
SMTPLAB=$(realpath "${1:?usage: gui_screenshot.sh SMTPLAB SOURCE_DIR}")
SRC=$(realpath "${2:?usage: gui_screenshot.sh SMTPLAB SOURCE_DIR}")
# A build with -DSMTPLAB_GUI=OFF lists no gui subcommand in its help (the
# word "gui" still appears there, in the bench names).
if ! "$SMTPLAB" --help | grep -qE '^[[:space:]]+gui[[:space:]]'; then
  echo "gui_screenshot: this smtplab has no gui subcommand (built without the GUI); skipping"
  exit 0
fi
if ! command -v xvfb-run >/dev/null; then
  echo "gui_screenshot: xvfb-run is missing (scripts/install-deps.sh installs xvfb)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Mesa's llvmpipe keeps allocations that LeakSanitizer reports; not ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# Settings must not leak in from (or out to) the user's home.
export SMTPLAB_GUI_CONFIG="$TMP/gui.json"

# usage_error TEXT COMMAND...: the command exits 2 and says TEXT on stderr.
usage_error() {
  local want=$1; shift
  local rc=0
  "$@" 2> err.txt || rc=$?
  [ "$rc" -eq 2 ] || { echo "gui_screenshot: ${*:2}: exit $rc, want 2"; cat err.txt; exit 1; }
  grep -qF -- "$want" err.txt || { echo "gui_screenshot: ${*:2}: the error does not say \"$want\""; cat err.txt; exit 1; }
}

check_png() {  # file width height
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys, zlib
path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), f"unexpected PNG format depth={depth} type={ctype}"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert (w, h) == (want_w, want_h), f"size {w}x{h}, want {want_w}x{want_h}"
raw = zlib.decompress(idat)
stride = w * bpp + 1
# Sample pixel colours (filters make raw bytes differ from pixels only for
# filter type != 0; stb writes filtered rows, so count distinct raw rows and
# distinct bytes as a blank-ness proxy, then verify on unfiltered rows).
rows = {raw[y * stride + 1:(y + 1) * stride] for y in range(0, h, 7)}
distinct_bytes = len(set(raw[1::97]))
assert len(rows) > h // 14, f"only {len(rows)} distinct sampled rows: the image looks blank"
assert distinct_bytes > 16, f"only {distinct_bytes} distinct byte values: the image looks blank"
print(f"gui_screenshot: {path}: {w}x{h}, {len(rows)} distinct sampled rows, {distinct_bytes} byte values: ok")
PY
}

cd "$TMP"
xvfb-run -a -s "-screen 0 1280x800x24" "$SMTPLAB" gui --screenshot out.png --frames 5
check_png out.png 1280 800

# A later cursor, the light theme and an explicit size also work.
echo '{"theme": "light"}' > "$SMTPLAB_GUI_CONFIG"
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/bob-to-alice.json" --screenshot later.png --frames 3 --at 70s --size 1280x720
check_png later.png 1280 720

# --hover rests the pointer for the shot: over the File menu it lights up,
# so the picture differs from the same shot without it.
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/bob-to-alice.json" --screenshot hover.png --frames 3 --at 70s --size 1280x720 --hover 20,10
check_png hover.png 1280 720
if cmp -s later.png hover.png; then echo "gui_screenshot: --hover changed nothing in the picture"; exit 1; fi
for bad in "20" "20,x" "-1,5" "2000,10" "5,5,5"; do
  usage_error "--hover $bad: expected X,Y" "$SMTPLAB" gui --size 1280x720 --screenshot x.png --hover "$bad"
done

# --seed shows another run of the scenario (lossy-link: other packets lost),
# --sweep opens the Seeds tab with a sweep made, --fault adds a fault as the
# Failures panel would: each is a different picture.
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot own.png --frames 3 --at 20s --size 1280x720
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot seed.png --frames 3 --at 20s --size 1280x720 --seed 40
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot sweep.png --frames 3 --at 20s --size 1280x720 --sweep 50
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot fault.png --frames 3 --at 20s --size 1280x720 \
  --fault '{"type": "host-down", "at": "0s", "host": "mx.yahoo.test"}'
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot set.png --frames 3 --at 20s --size 1280x720 \
  --set /links/2/loss=0
# A list of values with --sweep: compared in the What if tab (the shot waits for it).
xvfb-run -a -s "-screen 0 1920x1080x24" "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --screenshot whatif.png --frames 3 --at 20s --size 1280x720 \
  --set /links/2/loss=0,0.2,0.4 --sweep 20
for f in seed.png sweep.png fault.png set.png whatif.png; do
  check_png "$f" 1280 720
  if cmp -s own.png "$f"; then echo "gui_screenshot: $f is the same picture as without the option"; exit 1; fi
done
for bad in "--seed -1" "--seed x" "--sweep 0" "--sweep 10001"; do
  # shellcheck disable=SC2086
  usage_error "${bad%% *}" "$SMTPLAB" gui --size 1280x720 --screenshot x.png $bad
done
usage_error '--set /links/2/loss=3: /links/2/loss: must be between 0 and 1, got 3' \
  "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --size 1280x720 --screenshot x.png --set /links/2/loss=3
usage_error 'a list of values is compared over seeds: add --sweep N' "$SMTPLAB" gui --size 1280x720 --screenshot x.png --set /links/0/loss=0,1
usage_error 'the lab runs at most 10000' "$SMTPLAB" gui --size 1280x720 --screenshot x.png --set /links/0/loss=0,1 --sweep 6000
usage_error '--set /links/2/loss=-1: /links/2/loss: must be between 0 and 1, got -1' \
  "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --size 1280x720 --screenshot x.png --set /links/2/loss=0,-1 --sweep 5
usage_error 'a second list of values (/links/0/loss has one); this compares one value at a time' "$SMTPLAB" gui --size 1280x720 --screenshot x.png --set /links/0/loss=0,1 --set /links/1/loss=0,1 --sweep 5
# Without a display the transcript is of the changed scenario.
env -u DISPLAY -u WAYLAND_DISPLAY "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --set /duration=1min > set.txt 2>/dev/null
grep -q "seed 2, duration 1 min" set.txt || { echo "gui_screenshot: the transcript without a display ignores --set"; head -3 set.txt; exit 1; }
# ... and with a list to compare, the other --set values still apply, and a line points to `smtplab sweep`.
env -u DISPLAY -u WAYLAND_DISPLAY "$SMTPLAB" gui "$SRC/scenarios/lossy-link.json" --set /duration=1min --set /links/2/loss=0,0.1 --sweep 5 > set.txt 2> set.err
grep -q "seed 2, duration 1 min" set.txt || { echo "gui_screenshot: a --set list lost the other --set values"; head -3 set.txt; exit 1; }
grep -q "smtplab sweep --set ... --seeds 5" set.err || { echo "gui_screenshot: no pointer to smtplab sweep"; cat set.err; exit 1; }
usage_error '--fault 1: /host: no host named "nobody"' \
  "$SMTPLAB" gui --size 1280x720 --screenshot x.png --fault '{"type": "host-down", "at": "0s", "host": "nobody"}'

# A broken scenario: a clear error and exit code 2, never a crash.
echo '{"smtplab": 1, "hosts": 5}' > bad.json
set +e
xvfb-run -a -s "-screen 0 1280x800x24" "$SMTPLAB" gui bad.json --screenshot bad.png --frames 1 2> err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "gui_screenshot: bad scenario: exit $rc, want 2"; cat err.txt; exit 1; }
grep -q "bad.json" err.txt || { echo "gui_screenshot: the error does not name the file"; cat err.txt; exit 1; }
echo "gui_screenshot: all ok"
