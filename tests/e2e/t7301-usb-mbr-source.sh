#!/bin/sh
# t7301: the built-in MBR code (lib/hybridmbr.c) is exactly what lib/hybridmbr.S assembles to
# with GNU as and ld (lib/mkhybridmbr.sh), and the program fits the 432 bytes of MBR code;
# the generator refuses a program that does not fit.
. "$(dirname "$0")/lib.sh"

need_tool as
need_tool ld
need_tool od
LIBDIR="$E2E_DIR/../../lib"

step "mkhybridmbr.sh re-assembles hybridmbr.S into the checked-in hybridmbr.c"
expect_ok sh "$LIBDIR/mkhybridmbr.sh" "$LIBDIR/hybridmbr.S" hybridmbr.c
expect_same_file hybridmbr.c "$LIBDIR/hybridmbr.c"
expect_grep '^mkhybridmbr\.sh: [0-9]+ of 432 bytes$' err
used=$(sed -n 's/^mkhybridmbr\.sh: \([0-9]*\) of 432 bytes$/\1/p' err)
[ "$used" -gt 64 ] && [ "$used" -le 432 ] || fail "the program is $used bytes"
grep -q "^const size_t esx_hybrid_mbr_used = $used;\$" hybridmbr.c ||
    fail "hybridmbr.c does not record $used bytes"

step "the assembled program: 16-bit code that checks the signature and enters 0000:7C44"
as --32 -o mbr.o "$LIBDIR/hybridmbr.S" || fail "as failed"
ld -m elf_i386 -Ttext 0x600 --oformat binary -e start -o mbr.bin mbr.o || fail "ld failed"
[ "$(wc -c <mbr.bin | tr -d ' ')" -eq "$used" ] || fail "mbr.bin is not $used bytes"
od -An -v -tx1 mbr.bin | tr -d ' \n' >mbr.hex
grep -q 'fbc07870' mbr.hex || fail "no hybrid signature compare in the program"
grep -q 'ea447c0000' mbr.hex || fail "no far jump to 0000:7c44 in the program"

step "a program longer than 432 bytes is refused and nothing is written"
{ cat "$LIBDIR/hybridmbr.S"; printf '    .fill 64, 1, 0x90\n'; } >long.S
expect_exit 1 sh "$LIBDIR/mkhybridmbr.sh" long.S long.c
expect_grep 'long\.S: the program is [0-9]+ bytes, more than the 432 of MBR code' err
[ ! -e long.c ] || fail "long.c was written"

done_testing
