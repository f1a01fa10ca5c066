# bench/lib.sh: sourced by the benches once they set $here (their own folder).

# bench_args [BUILD_DIR] [SIZES_MIB...]: a bench's usual arguments; sets root, build, sizes
# (default "100 400 800"), work ($BENCH_DIR, default $TMPDIR/esximg-bench, made) and esximg
# (the command in BUILD_DIR); exits 2 without /usr/bin/time, which measures peak RSS.
bench_args() {
    root=$(dirname "$here")
    build=${1:-$root/build}
    [ $# -gt 0 ] && shift
    sizes=${*:-100 400 800}
    work=${BENCH_DIR:-${TMPDIR:-/tmp}/esximg-bench}
    mkdir -p "$work"
    esximg=$build/esximg
    [ -x /usr/bin/time ] || {
        echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
}

# bench_need_esximg [COMMAND]: exits 2 unless esximg is built (and has COMMAND).
bench_need_esximg() {
    [ -x "$esximg" ] || { echo "bench: build esximg first ($esximg missing)" >&2; exit 2; }
    [ $# -eq 0 ] || "$esximg" "$1" --help >/dev/null 2>&1 ||
        { echo "bench: $esximg has no $1 command" >&2; exit 2; }
}

# best of 3 by elapsed time: prints "seconds peak_kib user system"
best3() {
    best=""
    for _ in 1 2 3; do
        rm -f "$work/out.iso"
        /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" ||
            { cat "$work/err.txt" >&2; echo "bench: failed: $*" >&2; exit 1; }
        line=$(tail -1 "$work/time.txt")
        if [ -z "$best" ] ||
            awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$line
        fi
    done
    echo "$best"
}

# bench_padded MIB: sets iso and depot to the padded ESXi-like 7.0 image and full depot of MIB
# MiB in $work (tests/gen/mkesxiso.py --pad-mib MIB --depot), made once and then reused.
bench_padded() {
    iso=$work/p$1.iso
    depot=$work/p$1-full.zip
    [ -s "$iso" ] && [ -s "$depot" ] || SOURCE_DATE_EPOCH=1600000000 python3 \
        "$root/tests/gen/mkesxiso.py" --version 7.0 --pad-mib "$1" -o "$iso" \
        --depot "$depot" >/dev/null
}

# bench_row SIZE METHOD BASE_SECONDS RESULT: one line of a bench's table from a best3 result:
# seconds, ratio to BASE_SECONDS, CPU seconds and peak RSS.
bench_row() {
    echo "$4" | awk -v img="$1" -v m="$2" -v b="$3" '{
        printf "%-6s %-9s %8.2f %7.2fx %8.2f %5.1f MiB\n", img, m, $1,
            (b > 0 ? $1 / b : 0), $3 + $4, $2 / 1024 }'
}
