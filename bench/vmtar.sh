#!/bin/sh
# bench/vmtar.sh [BUILD_DIR] [MIB]: `esximg vmtar c` / `vmtar x` against `tar czf` / `tar xzf`
# on the same tree.
#
# The tree (MIB MiB, default 200, made once with a seeded generator and kept in BENCH_DIR):
# half compressible (text-like lines drawn from a small vocabulary), half incompressible
# (random bytes), in files from 4 KiB to 8 MiB under a few folders.  Each method is the best of
# RUNS (default 3) runs of /usr/bin/time -f '%e %M %U %S' (hyperfine is not used: peak RSS
# matters as much as time here):
#   tar czf    tar -C TREE -czf OUT . && sync OUT (GNU tar piping through gzip -6, its default)
#   vmtar c    esximg vmtar c -o OUT -C TREE . -q (one gzip member, level 6; esximg fsyncs the
#              output before renaming it into place, so tar's output is synced too)
#   tar xzf    tar -xzf OUT -C DIR && sync -f DIR
#   vmtar x    esximg vmtar x OUT -C DIR -q && sync -f DIR
# printed as seconds, ratio to tar, CPU seconds, peak RSS and output size.  Goal: vmtar c and
# vmtar x within 1.2x of tar; the last line says whether it was met.  Not a pass/fail test
# (exit 0 even when the goal is missed; 1 when a method fails, 2 when a tool is missing).
# Environment: BENCH_DIR (default $TMPDIR/esximg-bench), RUNS.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build}
mib=${2:-200}
runs=${RUNS:-3}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/esximg-bench}
esximg=$build/esximg
[ -x "$esximg" ] || { echo "bench: build esximg first ($esximg missing)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2
                          exit 2; }
command -v tar >/dev/null && command -v gzip >/dev/null || { echo "bench: tar/gzip missing" >&2
                                                             exit 2; }
mkdir -p "$work"
tree=$work/vtree$mib
if [ ! -d "$tree" ]; then
    python3 - "$tree" "$mib" <<'PY'
import os, random, sys
root, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(4242)
words = [''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rnd.randint(2, 9)))
         for _ in range(2000)]
total, i = mib << 20, 0
tmp = root + '.tmp'
os.makedirs(tmp)
done = 0
while done < total:
    size = min(total - done, rnd.choice([4096, 65536, 300000, 1 << 20, 8 << 20]))
    d = os.path.join(tmp, 'd%02d' % (i % 13), 's%d' % (i % 3))
    os.makedirs(d, exist_ok=True)
    if i % 2:
        data = rnd.randbytes(size)
    else:
        out, n = [], 0
        while n < size:
            line = ' '.join(rnd.choice(words) for _ in range(12)) + '\n'
            out.append(line)
            n += len(line)
        data = ''.join(out).encode()[:size]
    with open(os.path.join(d, 'f%04d.bin' % i), 'wb') as f:
        f.write(data)
    done += size
    i += 1
os.rename(tmp, root)
PY
fi

# best RUNS: prints "seconds peak_kib user system" of the fastest run
best() {
    b=""
    i=0
    while [ "$i" -lt "$runs" ]; do
        i=$((i + 1))
        rm -rf "$work/x" && mkdir -p "$work/x"
        /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" ||
            { cat "$work/err.txt" >&2; echo "bench: failed: $*" >&2; exit 1; }
        line=$(tail -n 1 "$work/time.txt")
        if [ -z "$b" ] || awk -v a="${line%% *}" -v c="${b%% *}" 'BEGIN { exit !(a < c) }'; then
            b=$line
        fi
    done
    echo "$b"
}

cat "$tree"/*/*/* >/dev/null     # warm the cache
tc=$(best sh -c "tar -C '$tree' -czf '$work/t.tgz' . && sync '$work/t.tgz'")
vc=$(best "$esximg" vmtar c -o "$work/v.v00" -C "$tree" . -q)
tx=$(best sh -c "tar -xzf '$work/t.tgz' -C '$work/x' && sync -f '$work/x'")
vx=$(best sh -c "'$esximg' vmtar x '$work/v.v00' -C '$work/x' -q && sync -f '$work/x'")
tsize=$(stat -c %s "$work/t.tgz")
vsize=$(stat -c %s "$work/v.v00")

echo "tree: $tree ($mib MiB, half random); best of $runs"
printf '%-9s %8s %8s %8s %10s %10s\n' method seconds ratio "cpu s" "peak RSS" "out MiB"
row() {
    echo "$2" | awk -v m="$1" -v b="$3" -v sz="$4" '{
        printf "%-9s %8.2f %7.2fx %8.2f %6.1f MiB %10s\n", m, $1, (b > 0 ? $1 / b : 0),
            $3 + $4, $2 / 1024, (sz == "-" ? "-" : sprintf("%.1f", sz / 1048576)) }'
}
row "tar czf" "$tc" "${tc%% *}" "$tsize"
row "vmtar c" "$vc" "${tc%% *}" "$vsize"
row "tar xzf" "$tx" "${tx%% *}" -
row "vmtar x" "$vx" "${tx%% *}" -
met=yes
awk -v a="${vc%% *}" -v b="${tc%% *}" 'BEGIN { exit !(a <= 1.2 * b) }' || met=no
awk -v a="${vx%% *}" -v b="${tx%% *}" 'BEGIN { exit !(a <= 1.2 * b) }' || met=no
echo "goal (vmtar c and vmtar x <= 1.2x tar): $met"
