# bench/lib.sh: sourced by the benches after they set $work (their work directory).

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
