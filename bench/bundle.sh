#!/bin/sh
# bench/bundle.sh [BUILD_DIR] [SIZES_MIB...]: time the offline bundle writers against a copy.
#
# A full depot and the ISO of an ESXi-like 7.0 image padded to 100, 400 and 800 MiB are made by
# tests/gen/mkesxiso.py --pad-mib N --depot (its PAD.V00 module belongs to a VIB of its own);
# then, each the best of 3 runs of /usr/bin/time -f '%e %M %U %S':
#   cp+sync   cp DEPOT OUT && sync OUT: the floor, the bundle's bytes copied to the disk
#   build     esximg build -o OUT --format bundle --depot DEPOT --profile NAME (the depot
#             spooled, its stored .vib members read in place; each .vib read once for its
#             sha-256, CRC-32 and deflated size, then copied into the zip by the kernel)
#   export    esximg export ISO -o OUT (each VIB rebuilt from the ISO in memory and verified,
#             kept in a work folder, then copied into the zip the same way)
# printed as seconds, ratio to cp+sync, CPU seconds (user + system) and peak RSS.  Goal for
# the 400 MiB depot, said on a last line: the build's peak RSS < 64 MiB.  (The time is mostly
# zlib's level 9 deflate of each .vib, which the writer must run to know whether to store it:
# about 7 s of CPU for 400 MiB.  The export still holds its largest VIB and that VIB's
# payloads while it rebuilds it.)  Not a pass/fail test (exit 0 even when the goal is missed,
# 1 when a method fails, 2 when a tool is missing).
# Environment: BENCH_DIR (work directory, default $TMPDIR/esximg-bench; images and depots are
# reused, shared with bench/build.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_args "$@"
bench_need_esximg export

met=yes
printf '%-6s %-9s %8s %8s %8s %9s\n' "depot" "method" "seconds" "ratio" "cpu s" "peak RSS"
for mib in $sizes; do
    bench_padded "$mib"
    out=$work/out.zip
    cp_r=$(best3 sh -c "cp '$depot' '$out' && sync '$out'")
    bu_r=$(best3 "$esximg" build -o "$out" --format bundle --depot "$depot" \
        --profile ESXi-7.0.2-17630552-standard -q)
    ex_r=$(best3 "$esximg" export "$iso" -o "$out" -q)
    rm -f "$out"
    base=${cp_r%% *}
    for m in cp+sync build export; do
        case $m in cp+sync) r=$cp_r ;; build) r=$bu_r ;; export) r=$ex_r ;; esac
        bench_row "${mib}M" "$m" "$base" "$r"
    done
    if [ "$mib" = 400 ]; then
        echo "$bu_r" | awk '{ exit !($2 < 65536) }' || met=no
    fi
done
case " $sizes " in
*" 400 "*)
    echo "goal (bundle build of the 400 MiB depot: peak RSS < 64 MiB): $met" ;;
esac
