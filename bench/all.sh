#!/bin/sh
# bench/all.sh [BUILD_DIR]: runs every bench (edit, inspect, hcl, isowrite, vmtar, build,
# bundle, rebase) at a small size and prints one summary table: each bench's own goal line,
# and its full output kept in BENCH_DIR/<name>.txt.  Sizes: EDIT_SIZES / ISO_SIZES (MiB of the
# padded images, default "100"), INSPECT_SIZES (default "100"), HCL_PAD_MIB (default 100),
# VMTAR_MIB (default 200), BUILD_SIZES, BUNDLE_SIZES and REBASE_SIZES (default "100").  Exit 1
# when a bench failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$(dirname "$here")/build}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/esximg-bench}
mkdir -p "$work"
export BENCH_DIR="$work"
status=0
printf '%-10s %-6s %8s  %s\n' bench status seconds "result (goal line, or last line)" \
    >"$work/summary.txt"
run() {
    name=$1
    shift
    t0=$(date +%s)
    if "$@" >"$work/$name.txt" 2>&1; then st=ok; else st=failed; status=1; fi
    t1=$(date +%s)
    res=$(grep -E '^goal' "$work/$name.txt" | tail -n 1)
    [ -n "$res" ] || res=$(tail -n 1 "$work/$name.txt")
    printf '%-10s %-6s %8s  %s\n' "$name" "$st" $((t1 - t0)) "$res" >>"$work/summary.txt"
}
run edit sh "$here/edit.sh" "$build" ${EDIT_SIZES:-100}
run inspect env ESXIMG="$build/esximg" SIZES="${INSPECT_SIZES:-100}" sh "$here/inspect.sh" \
    "$work/inspect"
run hcl env ESXIMG="$build/esximg" PAD_MIB="${HCL_PAD_MIB:-100}" sh "$here/hcl.sh" "$work/hcl"
run isowrite sh "$here/isowrite.sh" "$build" ${ISO_SIZES:-100}
run vmtar sh "$here/vmtar.sh" "$build" "${VMTAR_MIB:-200}"
run build sh "$here/build.sh" "$build" ${BUILD_SIZES:-100}
run bundle sh "$here/bundle.sh" "$build" ${BUNDLE_SIZES:-100}
run rebase sh "$here/rebase.sh" "$build" ${REBASE_SIZES:-100}
for f in edit inspect hcl isowrite vmtar; do
    echo "== $f"
    cat "$work/$f.txt"
done
echo "== summary"
cat "$work/summary.txt"
exit "$status"
