#!/usr/bin/env bash
# Smoke test of the one-folder build (`make package-test`): the packaged CLI reports its version and runs the
# headless demo (short training), then the packaged GUI opens the bundled demo under Xvfb, a screenshot of the X
# screen is taken, and the window must have drawn (a large, non-uniform image). Prints one line per check.
#
#   packaging/package_test.sh [DIST_FOLDER]      (default dist/medseg)
#
# Needs: xvfb-run, and ImageMagick (import, convert) for the screenshot checks. On Debian/Ubuntu:
#   apt-get install xvfb imagemagick libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1
# (the libxcb/xkbcommon libraries are what Qt's xcb platform plugin needs on a bare machine).
set -euo pipefail

DIST=${1:-dist/medseg}
DEMO_MINUTES=${MEDSEG_PACKAGE_TEST_MINUTES:-0.5}  # training budget of the headless demo
WORK=$(mktemp -d "${TMPDIR:-/tmp}/medseg-package-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
pass() { echo "package-test: ok: $*"; }

[ -x "$DIST/medseg" ] && [ -x "$DIST/medseg-gui" ] || fail "no build in $DIST (run: make package)"
for tool in xvfb-run import convert; do
    command -v "$tool" > /dev/null || fail "$tool not found; install: apt-get install xvfb imagemagick" \
        "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1"
done

# The packaged program must not depend on this machine's Python, venv or user settings.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_STATE_HOME="$WORK/home/.local/state" \
    XDG_CACHE_HOME="$WORK/home/.cache" XDG_DATA_HOME="$WORK/home/.local/share"
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV TF_CPP_MIN_LOG_LEVEL
mkdir -p "$HOME"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # no .venv/bin on PATH

# TensorFlow's C++ start-up lines (oneDNN, cpu_feature_guard, absl) must not reach the user.
banner() { grep -E "oneDNN|cpu_feature_guard|absl::|tensorflow/core|This TensorFlow binary" "$1" || true; }

version=$("$DIST/medseg" --version 2> "$WORK/version.err") || fail "medseg --version: $(cat "$WORK/version.err")"
[[ $version == medseg\ * ]] || fail "medseg --version printed '$version'"
pass "$version"

start=$(date +%s)
if ! "$DIST/medseg" demo --out "$WORK/demo" --minutes "$DEMO_MINUTES" > "$WORK/demo.out" 2> "$WORK/demo.err"; then
    tail -n 20 "$WORK/demo.err" >&2
    fail "medseg demo exited with an error"
fi
[ -s "$WORK/demo/report.csv" ] || fail "medseg demo wrote no report.csv"
[ -z "$(banner "$WORK/demo.err")" ] || fail "TensorFlow start-up messages reached the terminal: $(banner "$WORK/demo.err")"
pass "medseg demo trained, predicted and wrote report.csv in $(( $(date +%s) - start ))s, no TensorFlow banner"

# The window: opened on the bundled vessel demo, grabbed by the app itself (--screenshot, then it quits) and, while
# it shows, the whole X screen is grabbed from outside with ImageMagick's `import`.
SHOT_APP="$WORK/window.png" SHOT_X="$WORK/screen.png"
cat > "$WORK/gui.sh" << EOF
"$DIST/medseg-gui" --demo vessel --screenshot "$SHOT_APP" --quit-after 25 > "$WORK/gui.out" 2>&1 &
app=\$!
sleep 15
import -window root "$SHOT_X"
wait \$app
EOF
xvfb-run --auto-servernum --server-args "-screen 0 1600x1000x24" bash "$WORK/gui.sh" \
    || { tail -n 20 "$WORK/gui.out" >&2; fail "medseg-gui under Xvfb exited with an error"; }
[ -z "$(banner "$WORK/gui.out")" ] || fail "TensorFlow start-up messages reached the terminal: $(banner "$WORK/gui.out")"

# A drawn window: plausible size and many colours (a window that never painted is one flat colour).
check_image() {  # FILE WHAT MIN_WIDTH MIN_HEIGHT
    [ -s "$1" ] || { tail -n 20 "$WORK/gui.out" >&2; fail "no $2 was written"; }
    read -r w h colours < <(convert "$1" -format "%w %h %k\n" info:)
    (( w >= $3 && h >= $4 )) || fail "$2 is only ${w}x${h} pixels"
    (( colours >= 64 )) || fail "$2 has only $colours colours: the window did not draw"
    pass "$2 ${w}x${h}, $colours colours"
}
check_image "$SHOT_APP" "window grab (medseg-gui --screenshot)" 640 400
check_image "$SHOT_X" "X screen grab (import -window root)" 1600 1000
if [ -n "${MEDSEG_PACKAGE_TEST_KEEP:-}" ]; then
    mkdir -p "$MEDSEG_PACKAGE_TEST_KEEP" && cp "$SHOT_APP" "$SHOT_X" "$MEDSEG_PACKAGE_TEST_KEEP/"
    echo "package-test: screenshots kept in $MEDSEG_PACKAGE_TEST_KEEP"
fi
echo "package-test: passed ($DIST, $(du -sh "$DIST" | cut -f1))"
