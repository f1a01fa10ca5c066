#!/bin/sh
# mkhybridmbr.sh [SOURCE.S [OUTPUT.c]]: assembles esximg's isohybrid MBR boot program
# (lib/hybridmbr.S) with GNU as and ld, linked at 0x0600 where it runs, and writes it as the C
# array that the build uses (lib/hybridmbr.c), padded with zeros to the 432 bytes of MBR code.
# Fails when the program does not fit in 432 bytes.  Run it after changing hybridmbr.S, and
# commit both files; tests/e2e/t7301-usb-mbr-source.sh checks that they agree.
set -eu
here=$(dirname "$0")
src=${1:-$here/hybridmbr.S}
out=${2:-$here/hybridmbr.c}
max=432
work=$(mktemp -d "${TMPDIR:-/tmp}/mkhybridmbr.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
as --32 -o "$work/mbr.o" "$src"
ld -m elf_i386 -Ttext 0x600 --oformat binary -e start -o "$work/mbr.bin" "$work/mbr.o"
used=$(wc -c <"$work/mbr.bin" | tr -d ' ')
if [ "$used" -gt "$max" ]; then
    echo "mkhybridmbr.sh: $src: the program is $used bytes, more than the $max of MBR code" >&2
    exit 1
fi
echo "mkhybridmbr.sh: $used of $max bytes" >&2
{
    echo "/* hybridmbr.c: esximg's isohybrid MBR boot program, assembled from lib/hybridmbr.S by"
    echo " * lib/mkhybridmbr.sh (GENERATED: edit the source and run the script, do not edit here)."
    echo " * SPDX-License-Identifier: BSD-2-Clause */"
    echo "#include \"hybridmbr.h\""
    echo ""
    echo "const size_t esx_hybrid_mbr_used = $used;"
    echo ""
    echo "const uint8_t esx_hybrid_mbr[ESX_HYBRID_MBR_BYTES] = {"
    od -An -v -tx1 "$work/mbr.bin" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//' | tr ' ' '\n' |
        awk '{ line = line sprintf("0x%s,", $1); if (NR % 12 == 0) { print "    " line; line = "" } else line = line " " }
             END { if (line != "") { sub(/ $/, "", line); print "    " line } }'
    echo "};"
} >"$work/out.c"
mv "$work/out.c" "$out"
