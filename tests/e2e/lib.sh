# lib.sh: sourced by every tests/e2e/tNNNN-*.sh script.
#   ESXIMG          the esximg binary (set by CTest)
#   ESXIMG_SAMPLES  the real samples folder, may be empty
# Each script runs in a fresh temporary directory ($T) removed at exit; `step` titles what
# follows; any failed expectation stops the script with a message and exit 1.
set -eu

: "${ESXIMG:?ESXIMG must name the esximg binary}"
: "${ESXIMG_SAMPLES:=}"
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/esximg-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
# ESXIMG_WRAPPER: a command every esximg run goes through, e.g. "valgrind --error-exitcode=99
# --log-file=..." (tests/valgrind.sh); $ESXIMG then names a small script outside $T that runs
# the wrapper, and ESXIMG_REAL the binary itself
if [ -n "${ESXIMG_WRAPPER:-}" ]; then
    ESXIMG_WRAPDIR=$(mktemp -d "${TMPDIR:-/tmp}/esximg-wrap.XXXXXX")
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$ESXIMG_WRAPPER" "$ESXIMG" >"$ESXIMG_WRAPDIR/esximg"
    chmod 755 "$ESXIMG_WRAPDIR" "$ESXIMG_WRAPDIR/esximg"
    ESXIMG_REAL=$ESXIMG
    ESXIMG=$ESXIMG_WRAPDIR/esximg
    trap 'rm -rf "$T" "$ESXIMG_WRAPDIR"' EXIT
fi
cd "$T"
STEP="start"
STEPS=0

step() { STEP="$*"; STEPS=$((STEPS + 1)); }

fail() {
    echo "FAIL: $(basename "$0"): $STEP: $*" >&2
    exit 1
}

# expect_ok CMD...: runs CMD, stdout to out, stderr to err; fails unless it exits 0
expect_ok() {
    if ! "$@" >out 2>err; then
        cat err >&2
        fail "expected success: $*"
    fi
}

# expect_exit N CMD...: fails unless CMD exits with N
expect_exit() {
    want=$1
    shift
    set +e
    "$@" >out 2>err
    got=$?
    set -e
    [ "$got" -eq "$want" ] || { cat err >&2; fail "expected exit $want, got $got: $*"; }
}

# expect_grep PATTERN FILE: fails unless FILE has a line matching the extended regex
expect_grep() {
    grep -Eq -- "$1" "$2" || { echo "--- $2:" >&2; head -50 "$2" >&2; fail "no line matches '$1' in $2"; }
}

# expect_no_grep PATTERN FILE
expect_no_grep() {
    ! grep -Eq -- "$1" "$2" || fail "a line matches '$1' in $2"
}

# expect_same_file A B
expect_same_file() {
    cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

# expect_lines N FILE: FILE has exactly N lines
expect_lines() {
    got=$(wc -l <"$2" | tr -d ' ')
    [ "$got" -eq "$1" ] || fail "$2 has $got lines, expected $1"
}

# need_samples: skip the script (exit 77) when the samples are absent
need_samples() {
    if [ -z "$ESXIMG_SAMPLES" ] || [ ! -d "$ESXIMG_SAMPLES" ]; then
        echo "skipped: ESXIMG_SAMPLES is not set to the samples folder"
        exit 77
    fi
}

# need_tool NAME: skip when an independent checking tool is missing
need_tool() {
    command -v "$1" >/dev/null 2>&1 || { echo "skipped: $1 is not installed"; exit 77; }
}

# need_image_tools: skip unless the test image generator can build an image: python3,
# xorriso, grub-mkimage, mtools, mkfs.vfat and syslinux's isolinux.bin (or the file
# ISOLINUX_BIN names); GEN then names the generator, tests/gen/mkesxiso.py
need_image_tools() {
    need_tool python3
    need_tool xorriso
    need_tool grub-mkimage
    need_tool mformat
    need_tool mkfs.vfat
    [ -r /usr/lib/ISOLINUX/isolinux.bin ] || [ -r /usr/share/syslinux/isolinux.bin ] ||
        [ -n "${ISOLINUX_BIN:-}" ] || { echo "skipped: isolinux is not installed"; exit 77; }
    GEN="$E2E_DIR/../gen/mkesxiso.py"
}

# need_ovmf: skip (77) without OVMF firmware
need_ovmf() {
    for f in ${OVMF_FD:-} /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd \
             /usr/share/OVMF/OVMF.fd; do
        [ -n "$f" ] && [ -r "$f" ] && return 0
    done
    echo "skipped: no OVMF firmware"
    exit 77
}

# boot_check IMG TEXT MODE COUNT LOG: tests/gen/boot-check.sh boots IMG in QEMU in MODE (bios,
# uefi, usb-bios, usb-uefi, disk-bios) and must see the line TEXT COUNT times on its serial
# console, kept in LOG; its output goes to bout and berr.  Skips (77) when boot-check does
# (no qemu, no OVMF firmware); fails when the text is not seen.
boot_check() {
    set +e
    BOOT_CHECK_COUNT=$4 sh "$E2E_DIR/../gen/boot-check.sh" "$1" "$2" "$3" "$5" >bout 2>berr
    _rc=$?
    set -e
    [ "$_rc" -ne 77 ] || { cat bout; exit 77; }
    [ "$_rc" -eq 0 ] ||
        { cat bout berr >&2; fail "$1 booted in mode $3 did not show '$2' $4 time(s)"; }
}

done_testing() {
    echo "ok: $(basename "$0"): $STEPS steps"
}
