#!/bin/sh
# bench/rebase.sh [BUILD_DIR] [SIZES_MIB...]: time `esximg edit --base` against a plain copy.
#
# An ESXi-like 7.0 image and the generator's patch 1 depot padded to 100, 400 and 800 MiB are
# made by tests/gen/mkesxiso.py (--patch 1 --pad-mib N --depot: its pad VIB, stored in the
# depot's zip, is added to the image by the move); then, each the best of 3 runs of
# /usr/bin/time -f '%e %M %U %S':
#   cp+sync   cp DEPOT OUT && sync OUT: the floor, the payload bytes copied to the disk
#   rebase    esximg edit IN --base DEPOT -o OUT (the depot spooled: its stored .vib members
#             read in place, the others inflated to a work folder; the image rebuilt, every
#             payload's sha-256 checked as it is written, fsync'd and renamed)
# printed as seconds, ratio to cp+sync, CPU seconds (user + system) and peak RSS.  Goal: peak
# RSS < 64 MiB with the 400 MiB depot (it was 814 MiB when the depot was read whole); the last
# line says whether it was met.  Not a pass/fail test (exit 0 even when the goal is missed, 1
# when a method fails, 2 when a tool is missing).
# Environment: BENCH_DIR (work directory, default $TMPDIR/esximg-bench; the image and depots
# are reused).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_args "$@"
bench_need_esximg

iso=$work/rebase-in.iso
[ -s "$iso" ] || SOURCE_DATE_EPOCH=1600000000 python3 "$root/tests/gen/mkesxiso.py" \
    --version 7.0 -o "$iso" >/dev/null
met=yes
printf '%-6s %-9s %8s %8s %8s %9s\n' "depot" "method" "seconds" "ratio" "cpu s" "peak RSS"
for mib in $sizes; do
    depot=$work/p$mib-patch1.zip
    [ -s "$depot" ] || SOURCE_DATE_EPOCH=1600000000 python3 "$root/tests/gen/mkesxiso.py" \
        --version 7.0 --patch 1 --pad-mib "$mib" --depot "$depot" >/dev/null
    out=$work/out.iso
    cp_r=$(best3 sh -c "cp '$depot' '$out' && sync '$out'")
    rb_r=$(best3 "$esximg" edit "$iso" --base "$depot" -o "$out" -q)
    base=${cp_r%% *}
    for m in cp+sync rebase; do
        case $m in cp+sync) r=$cp_r ;; rebase) r=$rb_r ;; esac
        echo "$r" | awk -v img="${mib}M" -v m="$m" -v b="$base" '{
            printf "%-6s %-9s %8.2f %7.2fx %8.2f %5.1f MiB\n", img, m, $1,
                (b > 0 ? $1 / b : 0), $3 + $4, $2 / 1024 }'
    done
    [ "$mib" != 400 ] || echo "$rb_r" | awk '{ exit !($2 < 65536) }' || met=no
done
rm -f "$out"
echo "goal (edit --base with the 400 MiB depot: peak RSS < 64 MiB): $met"
