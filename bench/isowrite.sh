#!/bin/sh
# bench/isowrite.sh [BUILD_DIR] [SIZES_MIB...]: time the ISO writer (lib/isowrite.c).
#
# On ESXi-like 7.0 images padded to 100, 400 and 800 MiB (tests/gen/mkesxiso.py --pad-mib N),
# one edit (a new 200 KiB module /NEW.V00, both BOOT.CFG replaced, IMGDB.TGZ replaced) is
# written four ways, each the best of 3 runs of /usr/bin/time -f '%e %M':
#   cp+sync   cp IN OUT && sync OUT: the floor, a plain copy that reaches the disk
#   grow      esximg_iso_write: input copied in the kernel, a new session appended (default)
#   full      esximg_iso_write with full_rewrite: every byte through libisofs
#   xorriso   xorriso -indev IN -outdev OUT -map ... -boot_image any replay, then sync OUT
# and printed as seconds, ratio to cp+sync, CPU seconds (user + system) and peak RSS.  The
# input stays in the page cache (each method reads it warm); all four fsync the output.  Not a
# pass/fail test.
# Environment: BENCH_DIR (work directory, default $TMPDIR/esximg-bench; images are reused).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_args "$@"
lib=$build/libesximg.a
[ -r "$lib" ] || { echo "bench: build libesximg first ($lib missing)" >&2; exit 2; }
command -v xorriso >/dev/null || { echo "bench: xorriso is missing" >&2; exit 2; }

# the driver: esximg_iso_write with the changes given on the command line
cat >"$work/drv.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esximg/isowrite.h"
/* drv IN OUT grow|full {add|replace ISO_PATH FILE | remove ISO_PATH}... */
int main(int argc, char **argv)
{
    struct esximg_iso_change ch[32];
    size_t n = 0;
    if (argc < 4)
        return 2;
    for (int i = 4; i < argc && n < 32; n++) {
        memset(&ch[n], 0, sizeof ch[n]);
        ch[n].kind = strcmp(argv[i], "add") == 0 ? ESXIMG_ISO_ADD :
                     strcmp(argv[i], "replace") == 0 ? ESXIMG_ISO_REPLACE : ESXIMG_ISO_REMOVE;
        ch[n].iso_path = argv[i + 1];
        if (ch[n].kind != ESXIMG_ISO_REMOVE)
            ch[n].src_path = argv[i + 2];
        i += ch[n].kind == ESXIMG_ISO_REMOVE ? 2 : 3;
    }
    struct esximg_iso_wopts o = {.mtime = 1600000000, .full_rewrite = !strcmp(argv[3], "full")};
    struct esximg_err e = {0};
    if (esximg_iso_write(argv[1], ch, n, &o, argv[2], &e)) {
        fprintf(stderr, "drv: %s: %s\n", e.file, e.msg);
        return 1;
    }
    return 0;
}
C
# shellcheck disable=SC2046
cc -O2 -I"$root/lib/include" "$work/drv.c" "$lib" \
    $(pkg-config --libs libisofs-1 libarchive libxml-2.0 libcrypto zlib) -lpthread -o "$work/drv"

printf '%-6s %-9s %8s %8s %8s %9s\n' "image" "method" "seconds" "ratio" "cpu s" "peak RSS"
for mib in $sizes; do
    iso=$work/p$mib.iso
    [ -s "$iso" ] || SOURCE_DATE_EPOCH=1600000000 python3 "$root/tests/gen/mkesxiso.py" \
        --version 7.0 --pad-mib "$mib" -o "$iso" >/dev/null
    rm -f "$work/orig.cfg" "$work/imgdb.tgz"
    xorriso -osirrox on -indev "$iso" -extract /BOOT.CFG "$work/orig.cfg" \
        -extract /IMGDB.TGZ "$work/imgdb.tgz" >/dev/null 2>&1
    chmod u+w "$work/orig.cfg" "$work/imgdb.tgz"
    sed 's/^title=.*/title=bench edit/' "$work/orig.cfg" >"$work/boot.cfg"
    printf 'x' >>"$work/imgdb.tgz"   # other content, other size
    head -c 204800 /dev/urandom >"$work/new.v00"
    changes="add /NEW.V00 $work/new.v00 replace /BOOT.CFG $work/boot.cfg
             replace /EFI/BOOT/BOOT.CFG $work/boot.cfg replace /IMGDB.TGZ $work/imgdb.tgz"
    out=$work/out.iso
    # shellcheck disable=SC2086
    {
        cp_r=$(best3 sh -c "cp '$iso' '$out' && sync '$out'")
        grow_r=$(best3 "$work/drv" "$iso" "$out" grow $changes)
        full_r=$(best3 "$work/drv" "$iso" "$out" full $changes)
        xo_r=$(best3 sh -c "xorriso -indev '$iso' -outdev '$out' -boot_image any replay \
            -map '$work/new.v00' /NEW.V00 -map '$work/boot.cfg' /BOOT.CFG \
            -map '$work/boot.cfg' /EFI/BOOT/BOOT.CFG -map '$work/imgdb.tgz' /IMGDB.TGZ \
            -commit && sync '$out'")
    }
    base=${cp_r%% *}
    for m in cp+sync grow full xorriso; do
        case $m in
        cp+sync) r=$cp_r ;; grow) r=$grow_r ;; full) r=$full_r ;; xorriso) r=$xo_r ;;
        esac
        echo "$r" | awk -v img="${mib}M" -v m="$m" -v b="$base" '{
            printf "%-6s %-9s %8.2f %7.2fx %8.2f %5.1f MiB\n", img, m, $1,
                (b > 0 ? $1 / b : 0), $3 + $4, $2 / 1024 }'
    done
done
