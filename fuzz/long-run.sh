#!/usr/bin/env bash
# fuzz/long-run.sh: run every libFuzzer target for a long time, seeded from the checked-in corpus
# and from real files in the samples folder, and print one line per target with its exec count.
#
#   fuzz/long-run.sh [SECONDS [TARGET...]]       (default 600 s, every target)
#
# Needs clang with libFuzzer (Debian: clang libclang-rt-14-dev). Builds build-fuzz/ with ASan +
# UBSan (ESXIMG_FUZZ_BUILD names another folder). Crashers land in build-fuzz/crash-<target>-*;
# new inputs stay in build-fuzz/corpus-<target>
# (the checked-in corpus is not modified). Exit status 1 when any target found a crash, a leak or
# a sanitizer report.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${1:-600}
shift || true
samples=${ESXIMG_SAMPLES:-$top/../shared/samples}
build=${ESXIMG_FUZZ_BUILD:-build-fuzz}

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DESXIMG_SANITIZE=ON -DESXIMG_FUZZ=ON >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null || exit 1

# Real files that suit each parser, by name; big files are left out so that libFuzzer's input
# size stays small enough to mutate quickly.
sample_seeds() {
    local target=$1 pattern
    case $target in
    bootcfg) pattern='-iname boot.cfg -o -iname boot.cfg.orig' ;;
    descriptor) pattern='-name descriptor.xml' ;;
    drivermap) pattern='-name *.map' ;;
    pciids) pattern='-name *.ids' ;;
    profile) pattern='-path */profiles/*' ;;
    vibrel) pattern='-path */vibs/*.xml' ;;
    vib) pattern='-name *.vib' ;;
    depot) pattern='-name *.zip' ;;
    vmtar) pattern='-name B.B00' ;;
    *) return 0 ;;
    esac
    [ -d "$samples" ] || return 0
    # shellcheck disable=SC2086
    find "$samples" -type f \( $pattern \) -size -600k 2>/dev/null | sort | head -n 40
}

status=0
printf '%-12s %10s %8s %s\n' target execs seconds result
for bin in "$build"/fuzz/fuzz_*_libfuzzer; do
    target=$(basename "$bin" _libfuzzer)
    target=${target#fuzz_}
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$target"; then
        continue
    fi
    corpus=$build/corpus-$target
    mkdir -p "$corpus"
    cp -rn "fuzz/corpus/$target/." "$corpus/"
    sample_seeds "$target" | while read -r f; do
        cp -n "$f" "$corpus/sample-$(sha256sum "$f" | cut -c1-16)"
    done
    dict=()
    [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
    log=$build/fuzz-$target.log
    LSAN_OPTIONS=suppressions=$top/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$build/crash-$target-" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    result=ok
    if [ $rc -ne 0 ] || grep -qE '==[0-9]+==ERROR|runtime error:' "$log"; then
        result="FAILED (see $log)"
        status=1
    fi
    printf '%-12s %10s %8s %s\n' "$target" "${execs:-?}" "${took:-?}" "$result"
done
exit $status
