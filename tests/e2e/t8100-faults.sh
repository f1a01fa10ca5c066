#!/bin/sh
# t8100: faults while writing and reading.  Root only (it mounts), exit 77 otherwise.
#
# - The output disk fills up: an 8 MiB tmpfs, and edit, vmtar c, vib create, depot create and
#   export each write a 12 MiB output (incompressible data) onto it.
# - The output folder is read-only: the same tmpfs remounted ro; and, as `nobody` through
#   setpriv when it is there, a 0555 folder.
# - The input shrinks while it is read: gdb stops esximg at the first read of its input (a
#   breakpoint on read() once esx_file_read runs, on copy_file_range() for edit's copy, on
#   esximg_iso_reader_open for info --verify), truncates the file, and lets it go on.  A
#   breakpoint is deterministic where a background truncate would race; skipped without gdb.
# Each must exit 1 with one line `esximg: FILE: reason` naming the file and the cause (No space
# left on device, Read-only file system, Permission denied, truncated), leave no output and no
# temporary file, and (for the write faults) leave its input byte-identical.
. "$(dirname "$0")/lib.sh"
need_tool python3
[ "$(id -u)" = 0 ] || { echo "skipped: not root (the test mounts a tmpfs)"; exit 77; }
mkdir "$T/full"
mount -t tmpfs -o size=8m,mode=0755 esximg-t8100 "$T/full" 2>/dev/null ||
    { echo "skipped: cannot mount a tmpfs"; exit 77; }
trap 'umount "$T/full" 2>/dev/null; rm -rf "$T" ${ESXIMG_WRAPDIR:+"$ESXIMG_WRAPDIR"}' EXIT
export SOURCE_DATE_EPOCH=1600000000

# one_error REGEX: exit 1 was seen; stderr is one line matching REGEX; the tmpfs is empty
one_error() {
    [ "$(wc -l <err)" -eq 1 ] || { cat err >&2; fail "stderr is not one line"; }
    expect_grep "^esximg: $1" err
    [ -z "$(ls -A "$T/full")" ] || fail "left on the disk: $(ls -A "$T/full")"
}

step "inputs: 12 MiB of seeded random bytes as a tree, a VIB and an image"
mkdir -p tree/opt/big
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(8100).randbytes(12 << 20))' \
    >tree/opt/big/data.bin
expect_ok "$ESXIMG" vib create -o big.vib --payload big="$T/tree" --name big --version 1.0-1 \
    --vendor ESXIMGTEST --acceptance community -q
expect_ok "$ESXIMG" vmtar c -o big.v00 -C tree opt -q
expect_ok "$ESXIMG" depot create -o big.zip big.vib
iso=""
if python3 "$E2E_DIR/../gen/mkesxiso.py" --version 7.0 --pad-mib 12 -o pad.iso >/dev/null 2>&1
then
    iso=pad.iso
else
    echo "note: mkesxiso.py failed: the edit and export cases are left out"
fi
sha256sum big.vib big.v00 big.zip tree/opt/big/data.bin $iso >inputs.sum

# writers OUTDIR: each writer's command, one a line, OUT being a file in OUTDIR
writers() {
    [ -z "$iso" ] || echo "edit $iso -o $1/out.iso --add big.vib -q"
    [ -z "$iso" ] || echo "export $iso -o $1/out.zip -q"
    echo "vmtar c -o $1/out.v00 --no-gzip -C tree opt -q"
    echo "vib create -o $1/out.vib --payload big=$T/tree --name big --version 1.0-1 --vendor X -q"
    echo "depot create -o $1/out.zip big.vib"
}

step "the output disk fills up"
writers "$T/full" >cmds
while read -r cmd; do
    step "disk full: esximg $cmd"
    # shellcheck disable=SC2086
    expect_exit 1 "$ESXIMG" $cmd
    one_error "$T/full/out\.[a-z0-9]+: .*No space left on device$"
    sed "s|^|    |" err
done <cmds
sha256sum -c --quiet inputs.sum || fail "an input changed"

step "the output folder is read-only"
mount -o remount,ro "$T/full" || fail "cannot remount read-only"
while read -r cmd; do
    step "read-only: esximg $cmd"
    # shellcheck disable=SC2086
    expect_exit 1 "$ESXIMG" $cmd
    one_error "$T/full/out\.[a-z0-9]+: .*Read-only file system$"
done <cmds
mount -o remount,rw "$T/full"
sha256sum -c --quiet inputs.sum || fail "an input changed"

if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
    step "a 0555 folder, as nobody"
    chmod 0755 "$T"
    chmod -R a+rX "$T"
    mkdir "$T/full/locked"
    chmod 0555 "$T/full/locked"
    writers "$T/full/locked" >cmds
    while read -r cmd; do
        step "0555 as nobody: esximg $cmd"
        # shellcheck disable=SC2086
        expect_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$ESXIMG" $cmd
        [ "$(wc -l <err)" -eq 1 ] || { cat err >&2; fail "stderr is not one line"; }
        expect_grep "^esximg: $T/full/locked/out\.[a-z0-9]+: .*Permission denied$" err
        [ -z "$(ls -A "$T/full/locked")" ] || fail "left: $(ls -A "$T/full/locked")"
    done <cmds
    rmdir "$T/full/locked"
    sha256sum -c --quiet inputs.sum || fail "an input changed"
else
    echo "note: setpriv or the nobody user is missing: the 0555 case is left out"
fi

# shrink FILE SIZE STOP1 [STOP2] -- ARGS...: runs esximg ARGS under gdb, stopped at STOP1 (then
# STOP2 when given), truncates FILE to SIZE there, and continues; exit status in $got
shrink() {
    file=$1 size=$2 stop1=$3 stop2=$4
    shift 5
    # (LeakSanitizer cannot run under ptrace: an ASan build would print its refusal)
    set -- -q -batch -nx -ex 'set breakpoint pending on' \
        -ex 'set environment ASAN_OPTIONS=detect_leaks=0' -ex "break $stop1" \
        -ex "run $* >$T/out 2>$T/err"
    [ "$stop2" = - ] || set -- "$@" -ex 'delete' -ex "break $stop2" -ex 'continue'
    set +e
    gdb "$@" -ex "shell truncate -s $size $file" -ex 'delete' -ex 'continue' \
        -ex 'quit $_exitcode' "$ESXIMG" >gdb.log 2>&1
    got=$?
    set -e
    grep -q "exited with code\|exited normally" gdb.log || { cat gdb.log >&2; fail "gdb: no exit"; }
}

if command -v gdb >/dev/null 2>&1 && [ -z "${ESXIMG_WRAPPER:-}" ]; then
    mkdir xo
    step "a VIB shrinks while vib verify reads it"
    cp big.vib in.vib
    shrink in.vib 6000000 esx_file_read read -- vib verify in.vib
    [ "$got" -eq 1 ] || { cat err >&2; fail "exit $got"; }
    expect_lines 1 err
    expect_grep "^esximg: in\.vib: .*(past the end|truncated)" err

    step "a vmtar shrinks while vmtar x reads it"
    cp big.v00 in.v00
    shrink in.v00 3000000 esximg_vmtar_extract_file read -- vmtar x in.v00 -C xo
    [ "$got" -eq 1 ] || { cat err >&2; fail "exit $got"; }
    expect_lines 1 err
    expect_grep "^esximg: in\.v00: .*(outside the archive|truncated)" err
    [ -z "$(ls -A xo)" ] || fail "vmtar x left: $(ls -A xo)"

    step "a bundle shrinks while depot extract reads it"
    cp big.zip in.zip
    shrink in.zip 6000000 esx_file_read read -- depot extract in.zip -C xo
    [ "$got" -eq 1 ] || { cat err >&2; fail "exit $got"; }
    expect_lines 1 err
    expect_grep "^esximg: in\.zip: " err
    [ -z "$(ls -A xo)" ] || fail "depot extract left: $(ls -A xo)"

    if [ -n "$iso" ]; then
        step "the image shrinks while edit copies it"
        cp "$iso" in.iso
        shrink in.iso 4000000 copy_file_range - -- edit in.iso -o xo/out.iso --add big.vib -q
        [ "$got" -eq 1 ] || { cat err >&2; fail "exit $got"; }
        expect_lines 1 err
        expect_grep "^esximg: in\.iso: input ended after 4000000 of [0-9]+ bytes" err
        [ -z "$(ls -A xo)" ] || fail "edit left: $(ls -A xo)"

        step "the image shrinks while info --verify reads its modules"
        cp "$iso" in.iso
        shrink in.iso 4000000 esximg_iso_reader_open - -- info --verify in.iso
        [ "$got" -eq 1 ] || { cat err >&2; fail "exit $got"; }
        expect_lines 1 err
        expect_grep "^esximg: in\.iso: .*(truncated|past the end|ended)" err
    fi
else
    echo "note: gdb is missing (or a wrapper is set): the shrinking-input cases are left out"
fi

done_testing
