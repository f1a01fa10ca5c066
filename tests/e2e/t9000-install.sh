#!/bin/sh
# cmake --install: the command, libesximg (static, shared with its soname, headers, esximg.pc),
# the man pages and the completions land where they should; a program builds against the
# installed library with pkg-config and runs; the installed command runs; its man page renders.
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$ESXIMG")" && pwd)
[ -f "$BUILD/CMakeCache.txt" ] || { echo "skipped: $BUILD is not a CMake build folder"; exit 77; }
need_tool cmake
need_tool pkg-config
SRC=$E2E_DIR/../..
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
CC=$(cache CMAKE_C_COMPILER)
ccflags=""
[ "$(cache ESXIMG_SANITIZE)" = ON ] && ccflags="-fsanitize=address,undefined"
commands=$("$ESXIMG" --help | sed -n 's/^  \([a-z][a-z-]*\)  *[a-z].*/\1/p')

step "cmake --install into an empty prefix"
P=$T/prefix
expect_ok cmake --install "$BUILD" --prefix "$P"
(cd "$P" && find . ! -type d | sed 's|^\./||' | sort) >files
cat files >&2
expect_grep '^bin/esximg$' files
expect_grep '^share/doc/esximg/copyright$' files
cmp -s "$P/share/doc/esximg/copyright" "$SRC/LICENSE" || fail "the installed licence differs"
docs=$(cache ESXIMG_DOCS)
if [ "$docs" != OFF ]; then
    for f in share/bash-completion/completions/esximg share/zsh/vendor-completions/_esximg \
        share/man/man1/esximg.1; do
        expect_grep "^$f\$" files
    done
    for c in $commands; do
        expect_grep "^share/man/man1/esximg-$c\.1\$" files
    done
fi
expect_grep '^lib[^/]*(/[^/]*)?/libesximg\.a$' files
expect_grep '^lib[^/]*(/[^/]*)?/pkgconfig/esximg\.pc$' files
LIBDIR=$P/$(sed -n 's|/libesximg\.a$||p' files)
# every public header and nothing else under include/
(cd "$SRC/lib/include" && find esximg -name '*.h' | sed 's|^|include/|' | sort) >want-h
grep '^include/' files >got-h
cmp -s want-h got-h || { diff want-h got-h >&2; fail "include/ differs from lib/include"; }
expect_no_grep 'esx_private|esx_limits|\.c$|test' files

step "each installed header compiles on its own (C11, no warnings)"
for h in "$P"/include/esximg/*.h; do
    printf '#include "esximg/%s"\nint main(void) { return 0; }\n' "$(basename "$h")" >h.c
    expect_ok "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$P/include" -c h.c -o h.o
done

cat >prog.c <<'C'
/* builds a vmtar in memory, reads it back, and parses a PCI id: libesximg and its
 * dependencies (zlib for the gzip member) linked from the installed files */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <esximg/esximg.h>

int main(void)
{
    struct esximg_err err = {0};
    struct esximg_vmtar *v = NULL, *back = NULL;
    struct esximg_vmtar_attrs a = {.mode = 0644};
    struct esximg_vmtar_wopts o = {.gzip = true};
    struct esximg_pci_device dev;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (esximg_vmtar_new(&v, &err) || esximg_vmtar_add_file(v, "etc/hello", &a, "hi\n", 3, &err)
        || esximg_vmtar_write(v, &o, &bytes, &len, &err)
        || esximg_vmtar_read(bytes, len, &back, &err)
        || esximg_pci_device_parse("10ec:8168/0200", &dev, &err)) {
        fprintf(stderr, "prog: %s\n", err.msg);
        return 1;
    }
    const struct esximg_vmtar_entry *e = esximg_vmtar_find(back, "etc/hello");
    printf("entries %zu gzipped %d size %llu\n", back->entry_count, back->gzipped,
           e ? (unsigned long long)e->size : 0ULL);
    if (esximg_pci_device_parse("10ec:81", &dev, &err) != ESXIMG_EINVAL)
        return 1;
    printf("refused: %s\n", esximg_strerror(err.code));
    free(bytes);
    esximg_vmtar_free(v);
    esximg_vmtar_free(back);
    return 0;
}
C

step "pkg-config finds the installed library; a program links the shared one and runs"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
expect_ok pkg-config --modversion esximg
expect_grep "^$("$ESXIMG" --version | cut -d' ' -f2)\$" out
cflags=$(pkg-config --cflags esximg)
libs=$(pkg-config --libs esximg)
# a fuzz build (ESXIMG_FUZZ) makes no shared library: -lesximg is then the static one, which
# needs its dependencies named
shared=1
if [ ! -e "$LIBDIR/libesximg.so" ]; then
    shared=""
    libs="$libs $(pkg-config --libs $(pkg-config --print-requires-private esximg | cut -d' ' -f1))"
fi
case $cflags in *include*) ;; *) fail "pkg-config --cflags names no include folder: $cflags" ;; esac
# shellcheck disable=SC2086
expect_ok "$CC" $ccflags -std=c11 -Wall -Wextra -Werror $cflags prog.c -o prog-shared $libs
if [ -n "$shared" ] && command -v readelf >/dev/null 2>&1; then
    expect_ok readelf -d prog-shared
    expect_grep 'NEEDED.*\[libesximg\.so\.0\]' out
    expect_ok readelf -d "$LIBDIR/libesximg.so.0"
    expect_grep 'SONAME.*\[libesximg\.so\.0\]' out
    # only the public names are exported
    nm -D --defined-only "$LIBDIR/libesximg.so.0" |
        awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' >syms
    expect_grep '^esximg_vmtar_read$' syms
    expect_no_grep '^esx_' syms
fi
LD_LIBRARY_PATH=$LIBDIR expect_ok ./prog-shared
expect_grep '^entries 1 gzipped 1 size 3$' out
expect_grep '^refused: ' out

step "the static library, its dependencies (Requires.private) linked as shared libraries"
# `pkg-config --static` would also want the static libraries of libarchive's own dependencies
slibs=$(pkg-config --libs $(pkg-config --print-requires-private esximg | cut -d' ' -f1))
# shellcheck disable=SC2086
expect_ok "$CC" $ccflags -std=c11 $cflags prog.c -o prog-static "$LIBDIR/libesximg.a" $slibs
expect_ok ./prog-static
expect_grep '^entries 1 gzipped 1 size 3$' out
if command -v readelf >/dev/null 2>&1; then
    expect_ok readelf -d prog-static
    expect_no_grep 'libesximg' out
fi

step "the installed command runs: --version, help, info on a generated image"
expect_ok "$P/bin/esximg" --version
cp out v1
expect_ok "$ESXIMG" --version
expect_same_file v1 out
expect_ok "$P/bin/esximg" help edit
expect_grep '^usage: esximg edit' out
if command -v python3 >/dev/null 2>&1; then
    expect_ok python3 "$SRC/tests/gen/mkesxiso.py" --version 7.0 -o img.iso
    expect_ok "$P/bin/esximg" info img.iso
    expect_grep '^esxi version: +7\.0' out
fi

step "the installed man pages render (man -l, and by name through MANPATH)"
if [ "$docs" != OFF ] && command -v man >/dev/null 2>&1; then
    LC_ALL=C.UTF-8 MANWIDTH=80 expect_ok man -l "$P/share/man/man1/esximg.1"
    expect_grep '^COMMANDS' out
    MANPATH=$P/share/man LC_ALL=C.UTF-8 MANWIDTH=80 expect_ok man esximg-edit
    expect_grep '^ +esximg edit IN\.iso -o OUT\.iso' out
fi

step "the installed bash completion completes the commands"
if [ "$docs" != OFF ] && command -v bash >/dev/null 2>&1; then
    expect_ok bash -c ". '$P/share/bash-completion/completions/esximg' && complete -p esximg &&
        COMP_WORDS=(esximg ed) COMP_CWORD=1 && _esximg && printf '%s\n' \"\${COMPREPLY[@]}\""
    expect_grep '^complete .*-F _esximg esximg$' out
    expect_grep '^edit$' out
fi

step "DESTDIR staging keeps the configured prefix out of the way"
DESTDIR=$T/stage expect_ok cmake --install "$BUILD" --prefix /opt/esximg
[ -x "$T/stage/opt/esximg/bin/esximg" ] || fail "no stage/opt/esximg/bin/esximg"
expect_grep '^prefix=\$\{pcfiledir\}/' "$(find "$T/stage" -name esximg.pc)"

done_testing
