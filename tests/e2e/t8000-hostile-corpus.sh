#!/bin/sh
# t8000: every esximg reader on the hostile corpus of tests/hostile/gen.py (archives whose
# names, links, sizes or offsets are lies; bombs; entity expansion; files cut at every structure
# boundary; a directory loop; a 1 MiB BOOT.CFG line).  Each case of its MANIFEST.tsv
# runs in a fresh working folder `S/a` with an empty target `S/a/target` (so `../../x` from the
# target lands in S, the sentinel) and TMPDIR=S/tmp, and must:
# - exit with the manifest's status (1 refused, 3 a check failed, 0 for the few inputs that are
#   used with a warning, e.g. a bundle's index.xml with a DTD is ignored), never 124 (the
#   timeout) or 128+ (a signal);
# - exit 1: stderr holds exactly one error line, `esximg: FILE: reason`, matching the case's
#   regex (which names the input); "esximg: warning: " lines may come before it (a bundle
#   member that is skipped is a warning first, then the error that stops extraction); stdout
#   is empty.  Exit 3: the regex matches a stdout line (the report), stderr is empty.  Exit 0
#   ("warn"): stderr is exactly one warning line matching the regex;
# - create nothing outside the target (a listing of S and the corpus before and after), leave
#   the target empty when it fails (no output, no partial extraction, no temporary file), and
#   not change its input (sha-256 of the whole corpus and the base image before and after);
# - stay under a peak RSS of 64 MiB (/usr/bin/time %M) although the bombs claim 2 GiB each.
#   Under AddressSanitizer (shadow memory, quarantine) the bound is 512 MiB; under
#   ESXIMG_WRAPPER (valgrind) it is not measured.
# Cases that need a good ESXi-like image (edit --add) run when tests/gen/mkesxiso.py can build
# one (xorriso, mtools, grub, isolinux); otherwise they are left out, saying so.
# HOSTILE_ONLY=REGEX runs only the matching cases.
. "$(dirname "$0")/lib.sh"
need_tool python3
[ -x /usr/bin/time ] || { echo "skipped: /usr/bin/time is missing"; exit 77; }

GEN="$E2E_DIR/../hostile/gen.py"
MKISO="$E2E_DIR/../gen/mkesxiso.py"
export SOURCE_DATE_EPOCH=1600000000

step "generate the corpus"
C=$T/corpus
base=""
if python3 "$MKISO" --version 7.0 -o "$T/base.iso" >/dev/null 2>&1; then
    base=$T/base.iso
else
    echo "note: no base image (mkesxiso.py failed), the edit --add cases are left out"
fi
python3 "$GEN" "$C" ${base:+--base-iso "$base"} || fail "gen.py failed"
find "$C" -type f -exec sha256sum {} + | sort >corpus.sum
[ -z "$base" ] || sha256sum "$base" >base.sum

RSS_MAX=65536
real=$ESXIMG
[ -z "${ESXIMG_REAL:-}" ] || real=$ESXIMG_REAL
if nm "$real" 2>/dev/null | grep -q __asan_init ||
    ldd "$real" 2>/dev/null | grep -q libasan; then
    RSS_MAX=524288
fi
[ -z "${ESXIMG_WRAPPER:-}" ] || RSS_MAX=0

snapshot() {
    # everything but the target folder
    (find "$1" -path "$1/a/target" -prune -o -print | sort
     find "$C" | sort) >"$2"
}

n=0
failed=0
tab=$(printf '\t')
while IFS="$tab" read -r name code stream regex input cmd; do
    if [ -n "${HOSTILE_ONLY:-}" ] && ! echo "$name" | grep -Eq -- "$HOSTILE_ONLY"; then
        continue
    fi
    n=$((n + 1))
    step "$name: esximg $cmd"
    S=$T/s
    rm -rf "$S"
    mkdir -p "$S/a/target" "$S/tmp"
    snapshot "$S" before.lst
    args=$(echo "$cmd" | sed -e "s|@IN@|$C/$input|g" -e "s|@DST@|$S/a/target|g" \
        -e "s|@OUT@|$S/a/target/out|g" -e "s|@DIR@|$C|g" -e "s|@BASE@|$base|g")
    set +e
    # shellcheck disable=SC2086 # the manifest's words
    (cd "$S/a" && TMPDIR=$S/tmp exec /usr/bin/time -f '%M' -o "$T/rss" \
        timeout 120 "$ESXIMG" $args) \
        >"$T/out" 2>"$T/err"
    got=$?
    set -e
    why=""
    rss=$(tail -n 1 "$T/rss" 2>/dev/null || echo 0)
    case $rss in *[!0-9]*|'') rss=0 ;; esac
    if [ "$got" -ne "$code" ]; then
        why="exit $got, expected $code"
    elif [ "$stream" = err ]; then
        grep -v '^esximg: warning: ' "$T/err" >"$T/err1" || true
        if [ "$(wc -l <"$T/err1")" -ne 1 ]; then
            why="stderr has $(wc -l <"$T/err1") error lines"
        elif ! grep -Eq -- "^esximg: .*$regex" "$T/err1"; then
            why="stderr does not match '$regex'"
        elif [ -s "$T/out" ]; then
            why="stdout not empty"
        fi
    elif [ "$stream" = warn ]; then
        if [ "$(wc -l <"$T/err")" -ne 1 ]; then
            why="stderr has $(wc -l <"$T/err") lines"
        elif ! grep -Eq -- "^esximg: warning: .*$regex" "$T/err"; then
            why="stderr does not match '$regex'"
        fi
    else
        if [ -s "$T/err" ]; then
            why="stderr not empty"
        elif ! grep -Eq -- "$regex" "$T/out"; then
            why="stdout does not match '$regex'"
        fi
    fi
    snapshot "$S" after.lst
    if [ -z "$why" ] && ! cmp -s before.lst after.lst; then
        why="created outside the target: $(diff before.lst after.lst | grep '^>' | head -3 |
            tr '\n' ' ')"
    fi
    if [ -z "$why" ] && [ "$code" -ne 0 ] && [ -n "$(ls -A "$S/a/target")" ]; then
        why="left in the target: $(ls -A "$S/a/target" | head -3 | tr '\n' ' ')"
    fi
    if [ -z "$why" ] && [ "$RSS_MAX" -gt 0 ] && [ "$rss" -gt "$RSS_MAX" ]; then
        why="peak RSS $rss KiB > $RSS_MAX KiB"
    fi
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        echo "FAIL: $name: $why: esximg $cmd" >&2
        sed 's/^/    err: /' "$T/err" | head -5 >&2
        head -3 "$T/out" | sed 's/^/    out: /' >&2
    else
        echo "ok: $name ($rss KiB): $(cat "$T/err" "$T/out" | grep -E -m1 -- "$regex" |
            cut -c1-160)"
    fi
done <"$C/MANIFEST.tsv"

step "the corpus and the base image are unchanged"
find "$C" -type f -exec sha256sum {} + | sort >corpus.after
cmp -s corpus.sum corpus.after || fail "an input changed: $(diff corpus.sum corpus.after | head -3)"
[ -z "$base" ] || sha256sum -c --quiet base.sum || fail "the base image changed"
[ -e /tmp/esximg-hostile-evil ] && fail "/tmp/esximg-hostile-evil was written"

[ "$n" -gt 0 ] || fail "no case ran"
[ "$failed" -eq 0 ] || fail "$failed of $n cases failed"
done_testing
