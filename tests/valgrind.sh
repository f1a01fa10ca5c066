#!/usr/bin/env bash
# tests/valgrind.sh [CTEST_ARGS...]: the whole CTest suite under valgrind's memcheck.
#   A plain gcc -O1 -g tree (build-valgrind, no sanitizers) where every unit, sample and
#   fuzz-replay program runs under valgrind (CMAKE_CROSSCOMPILING_EMULATOR, which CTest puts
#   in front of every test whose command is a built target), and every esximg run of the e2e
#   scripts too (ESXIMG_WRAPPER, honoured by tests/e2e/lib.sh).  Valgrind's reports go to
#   build-valgrind/vg/<pid>.log, not to the programs' stderr the tests look at; a memory error
#   or a definite/indirect leak makes the program exit 99, which fails its test.  At the end
#   the logs with errors are listed.  Exit: CTest's status, or 1 when a log has an error.
#   Extra arguments go to ctest (e.g. -R e2e/t1000 or -L unit).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 77; }
dir=build-valgrind
vg=$top/$dir/vg
opts="--tool=memcheck --error-exitcode=99 --leak-check=full"
opts="$opts --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
opts="$opts --track-origins=no --num-callers=30 --log-file=$vg/%p.log"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
start=$(date +%s)
mkdir -p "$dir"
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DESXIMG_WERROR=ON \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=valgrind;${opts// /;}" >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j "${JOBS:-2}"
rm -rf "$vg"
mkdir -p "$vg"
chmod 1777 "$vg"        # t8100 runs esximg as nobody too
export ESXIMG_WRAPPER="valgrind $opts"
status=0
# valgrind is ~20-50x slower: give each test more time than CTest's default
ctest --test-dir "$dir" --output-on-failure -j "${JOBS:-2}" --timeout 3600 "$@" || status=$?
bad=$(grep -lE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$vg"/*.log \
      2>/dev/null || true)
nbad=$(echo "$bad" | grep -c . || true)
echo "valgrind: $(ls "$vg" | wc -l) runs logged in $vg, $nbad with errors"
for f in $bad; do
    echo "== $f"
    grep -m1 -E '^==[0-9]+== Command:' "$f" || true
    grep -A12 -m3 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|[0-9,]+ .*lost)' \
        "$f" | head -40
done
echo "valgrind: wall time $(( $(date +%s) - start )) s"
[ -z "$bad" ] || status=1
exit "$status"
