#!/usr/bin/env bash
# tests/run.sh: the whole test suite, as the README and CI run it.
#   1. build with gcc, -Wall -Wextra -Werror, and run every CTest test (unit, samples, e2e,
#      fuzz-replay);
#   2. build again with clang under AddressSanitizer + UBSan and run the same suite;
#   3. when clang's libFuzzer is there, run each fuzz target for ESXIMG_FUZZ_SECONDS (20), as
#      many at a time as there are cores.
# Set ESXIMG_SAMPLES to the real samples folder (default: ../shared/samples beside the checkout
# when present); without it the sample tests say they are skipped.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${ESXIMG_FUZZ_SECONDS:-20}
# An input that runs longer than this is a hang: reported as a crash, and the run stays short
# (libFuzzer's own default waits 20 minutes).
fuzz_timeout=${ESXIMG_FUZZ_TIMEOUT:-25}

# The generator of a build folder cannot change once configured: keep the one a folder was made
# with (the README's first command makes build/ with CMake's default), else prefer Ninja.
generator_for() {
    local cache=$1/CMakeCache.txt
    if [ -f "$cache" ]; then
        generator=(-G "$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")")
    elif command -v ninja >/dev/null 2>&1; then
        generator=(-G Ninja)
    else
        generator=()
    fi
}

run_suite() {
    local dir=$1
    shift
    generator_for "$dir"
    echo "== configure $dir: $*"
    cmake -S . -B "$dir" "${generator[@]}" -DESXIMG_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
        { cat "$dir.configure.log"; exit 1; }
    echo "== build $dir"
    cmake --build "$dir" -j "$jobs"
    echo "== test $dir"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

# fuzz_one PARSER: its libFuzzer target for $fuzz_seconds on a copy of its corpus; what it says
# goes to build-asan/fuzz-PARSER.log, a crash to build-asan/fuzz-PARSER-crash-*.
fuzz_one() {
    local parser=$1 work
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$parser/." "$work/"
    local dict=()
    [ -f "fuzz/dict/$parser.dict" ] && dict=(-dict="fuzz/dict/$parser.dict")
    LSAN_OPTIONS=suppressions=$top/fuzz/lsan.supp "build-asan/fuzz/fuzz_${parser}_libfuzzer" \
        -max_total_time="$fuzz_seconds" -timeout="$fuzz_timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="build-asan/fuzz-$parser-" "$work" >"build-asan/fuzz-$parser.log" 2>&1 ||
        true
    rm -rf "$work"
}

# fuzz_all: every target, $jobs at a time (each is one process: the cores run them side by
# side), then each one's summary in name order; a crash fails the run.
fuzz_all() {
    local parsers=() bin parser running=0 crashed=0
    for bin in build-asan/fuzz/fuzz_*_libfuzzer; do
        [ -x "$bin" ] || continue
        parser=$(basename "$bin" _libfuzzer)
        parsers+=("${parser#fuzz_}")
    done
    echo "== fuzz ${#parsers[@]} targets for ${fuzz_seconds}s each, $jobs at a time"
    for parser in "${parsers[@]}"; do
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
        fuzz_one "$parser" &
        running=$((running + 1))
    done
    wait
    for parser in "${parsers[@]}"; do
        echo "== fuzz $parser"
        grep -E '^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' \
            "build-asan/fuzz-$parser.log" || true
        if ls build-asan/fuzz-"$parser"-* >/dev/null 2>&1; then
            echo "fuzz $parser found a crash: build-asan/fuzz-$parser-*"
            # where it crashed or hung, for a log that is all one gets of a CI run
            grep -E '^ *#[0-9]+ 0x|ERROR|SUMMARY|^artifact_prefix|Test unit written' \
                "build-asan/fuzz-$parser.log" | head -60 || true
            crashed=1
        fi
    done
    [ "$crashed" -eq 0 ] || exit 1
}

mkdir -p build
run_suite build -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo

if command -v clang >/dev/null 2>&1; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DESXIMG_SANITIZE=ON -DESXIMG_FUZZ=ON
    if [ "$fuzz_seconds" -gt 0 ]; then
        fuzz_all
    fi
else
    echo "== clang not found: the sanitizer and fuzz passes were not run" >&2
    exit 1
fi
echo "== all tests passed"
