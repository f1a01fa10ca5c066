#!/bin/sh
# bench/inspect.sh: how long `esximg info`, `ls --drivers` and `hcl` take on big installer
# images, against reading the image once.  The goal: well under a second at 400 MiB and not
# growing with the image, i.e. the commands read only the ISO directory, BOOT.CFG, IMGDB.TGZ and
# the driver modules, never the big payloads.
#
#   bench/inspect.sh [DIR]
#
# DIR holds the images (kept there for a second run; default: a temporary directory, removed).
# Environment: ESXIMG (default build/esximg beside this script), SIZES (MiB of the pad module,
# default "100 400 800"), RUNS (best of, default 3), SOURCE_DATE_EPOCH.
# Each command runs under /usr/bin/time for its peak RSS; the time is the wall clock around it
# in milliseconds (time's %e has 10 ms steps, too coarse here).  Warm: the image was just read.
# Cold: the page cache is dropped before each run, when /proc/sys/vm/drop_caches is writable.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ESXIMG=${ESXIMG:-$HERE/../build/esximg}
SIZES=${SIZES:-100 400 800}
RUNS=${RUNS:-3}
GEN=$HERE/../tests/gen/mkesxiso.py
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1600000000}"

[ -x "$ESXIMG" ] || { echo "inspect.sh: no esximg at '$ESXIMG' (set ESXIMG)" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y time >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } || true
    fi
    [ -x /usr/bin/time ] || { echo "inspect.sh: /usr/bin/time is missing (package time)" >&2
                              exit 1; }
fi

if [ $# -ge 1 ]; then
    DIR=$1
    mkdir -p "$DIR"
    CLEANUP=
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/esximg-bench.XXXXXX")
    CLEANUP=$DIR
fi
trap '[ -z "$CLEANUP" ] || rm -rf "$CLEANUP"' EXIT

python3 "$GEN" --print-host >"$DIR/host.txt"

COLD=0
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    COLD=1
fi

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# measure MODE CMD...: prints "MS KIB", the best of RUNS (time and RSS of the fastest run).
# MODE warm: the file was just read; cold: caches dropped before each run.
measure() {
    mode=$1
    shift
    best_ms=''
    best_kib=''
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        i=$((i + 1))
        if [ "$mode" = cold ]; then
            sync
            echo 3 >/proc/sys/vm/drop_caches
        fi
        t0=$(now_ms)
        /usr/bin/time -f '%e %M' -o "$DIR/time.out" "$@" >/dev/null 2>"$DIR/err.out" || {
            rc=$?
            # hcl exits 3 on the test host (the Realtek NIC): that is its answer, not a failure
            [ "$rc" -eq 3 ] || { cat "$DIR/err.out" >&2; echo "failed ($rc): $*" >&2; exit 1; }
        }
        t1=$(now_ms)
        ms=$((t1 - t0))
        kib=$(tail -n 1 "$DIR/time.out" | cut -d' ' -f2)
        if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then
            best_ms=$ms
            best_kib=$kib
        fi
    done
    echo "$best_ms $best_kib"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
}

row() {
    printf '%-6s %-5s %-22s %9s %10s %8s\n' "$@"
}

echo "esximg: $ESXIMG"
echo "images: $DIR; best of $RUNS; time = wall clock in ms; rss = peak resident KiB"
[ "$COLD" = 1 ] || echo "cold cache: skipped (/proc/sys/vm/drop_caches is not writable)"
row SIZE CACHE COMMAND MS RSS_KIB X_READ
for mib in $SIZES; do
    img=$DIR/pad$mib.iso
    if [ ! -s "$img" ]; then
        python3 "$GEN" --version 8.0 --pad-mib "$mib" -o "$img"
    fi
    real=$(($(stat -c %s "$img") / 1048576))
    modes=warm
    [ "$COLD" = 0 ] || modes="warm cold"
    for mode in $modes; do
        cat "$img" >/dev/null       # warm the cache (cold runs drop it again)
        r=$(measure "$mode" cat "$img")
        read_ms=${r% *}
        row "${real}M" "$mode" "cat (read once)" "$read_ms" "${r#* }" "1.00"
        r=$(measure "$mode" "$ESXIMG" info "$img")
        row "${real}M" "$mode" "esximg info" "${r% *}" "${r#* }" "$(ratio "${r% *}" "$read_ms")"
        r=$(measure "$mode" "$ESXIMG" ls --drivers "$img")
        row "${real}M" "$mode" "esximg ls --drivers" "${r% *}" "${r#* }" \
            "$(ratio "${r% *}" "$read_ms")"
        r=$(measure "$mode" "$ESXIMG" hcl "$img" --lspci "$DIR/host.txt")
        row "${real}M" "$mode" "esximg hcl --lspci" "${r% *}" "${r#* }" \
            "$(ratio "${r% *}" "$read_ms")"
        r=$(measure "$mode" "$ESXIMG" info --verify "$img")
        row "${real}M" "$mode" "esximg info --verify" "${r% *}" "${r#* }" \
            "$(ratio "${r% *}" "$read_ms")"
    done
done
