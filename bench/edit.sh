#!/bin/sh
# bench/edit.sh [BUILD_DIR] [SIZES_MIB...]: time `esximg edit --add` against a plain copy.
#
# On ESXi-like 7.0 images padded to 100, 400 and 800 MiB (tests/gen/mkesxiso.py --pad-mib N),
# a small VIB (64 KiB payload, partner, made here with `esximg vib create`) is added three
# ways, each the best of 3 runs of /usr/bin/time -f '%e %M %U %S':
#   cp+sync   cp IN OUT && sync OUT: the floor, a plain copy that reaches the disk
#   edit      esximg edit IN -o OUT --add small.vib (module, both BOOT.CFG, IMGDB.TGZ; the
#             output is fsync'd by esximg before its rename)
#   xorriso   xorriso -indev IN -outdev OUT -map small.vib /X.V00 -boot_image any replay
#             -commit, then sync OUT: only the file, no BOOT.CFG or database change
# and printed as seconds, ratio to cp+sync, CPU seconds (user + system) and peak RSS.  The
# input stays in the page cache (each method reads it warm).  Goal: edit <= 1.25x cp+sync and
# peak RSS < 64 MiB; the last line says whether it was met.  Not a pass/fail test (exit 0 even
# when the goal is missed, 1 when a method fails, 2 when a tool is missing).
# Environment: BENCH_DIR (work directory, default $TMPDIR/esximg-bench; images are reused).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_args "$@"
bench_need_esximg edit
command -v xorriso >/dev/null || { echo "bench: xorriso is missing" >&2; exit 2; }

# the small VIB: one vgz payload holding a 64 KiB file of random bytes
vib=$work/small.vib
if [ ! -s "$vib" ]; then
    rm -rf "$work/small"
    mkdir -p "$work/small/opt/esximg-bench"
    head -c 65536 /dev/urandom >"$work/small/opt/esximg-bench/data.bin"
    "$esximg" vib create -o "$vib" --payload small="$work/small" --name esximg-bench-small \
        --version 1.0-1 --vendor ESXIMGTEST --acceptance partner --mtime 1600000000 -q
fi

met=yes
printf '%-6s %-9s %8s %8s %8s %9s\n' "image" "method" "seconds" "ratio" "cpu s" "peak RSS"
for mib in $sizes; do
    iso=$work/p$mib.iso
    [ -s "$iso" ] || SOURCE_DATE_EPOCH=1600000000 python3 "$root/tests/gen/mkesxiso.py" \
        --version 7.0 --pad-mib "$mib" -o "$iso" >/dev/null
    out=$work/out.iso
    cp_r=$(best3 sh -c "cp '$iso' '$out' && sync '$out'")
    ed_r=$(best3 "$esximg" edit "$iso" -o "$out" --add "$vib" -q)
    xo_r=$(best3 sh -c "xorriso -indev '$iso' -outdev '$out' -map '$vib' /X.V00 \
        -boot_image any replay -commit && sync '$out'")
    base=${cp_r%% *}
    for m in cp+sync edit xorriso; do
        case $m in cp+sync) r=$cp_r ;; edit) r=$ed_r ;; xorriso) r=$xo_r ;; esac
        bench_row "${mib}M" "$m" "$base" "$r"
    done
    echo "$ed_r" | awk -v b="$base" '{ exit !($1 <= 1.25 * b && $2 < 65536) }' || met=no
done
echo "goal (edit <= 1.25x cp+sync, peak RSS < 64 MiB): $met"
