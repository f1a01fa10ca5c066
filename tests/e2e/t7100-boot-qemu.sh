#!/bin/sh
# t7100: a generated 7.0 image boots in QEMU under SeaBIOS (isolinux) and OVMF (GRUB from the
# UEFI El Torito entry), and each loader reads BOOT.CFG from the ISO 9660 tree: the serial
# console shows its modules= line and its title.
. "$(dirname "$0")/lib.sh"

need_image_tools
need_tool qemu-system-x86_64
CHECK="$E2E_DIR/../gen/boot-check.sh"
export SOURCE_DATE_EPOCH=1600000000
TITLE="esximg boot test $$"

step "build a 7.0 image with a unique title"
expect_ok python3 "$GEN" --version 7.0 --title "$TITLE" -o esx.iso
xorriso -osirrox on -indev esx.iso -extract /BOOT.CFG boot.cfg >/dev/null 2>&1 ||
    fail "cannot extract BOOT.CFG"
modules=$(grep '^modules=' boot.cfg)
[ -n "$modules" ] || fail "BOOT.CFG has no modules line"

step "BIOS: isolinux prints /BOOT.CFG"
boot_check esx.iso "$modules" bios 1 bios.log
expect_grep "^title=$TITLE\$" bios.log
expect_grep '^ISOLINUX ' bios.log

step "UEFI: GRUB from EFIBOOT.IMG prints /EFI/BOOT/BOOT.CFG and /BOOT.CFG"
need_ovmf
boot_check esx.iso "$modules" uefi 2 uefi.log
expect_grep '^esximg-test: root=cd0$' uefi.log
expect_grep "^title=$TITLE\$" uefi.log
n=$(grep -c "^title=$TITLE\$" uefi.log)
[ "$n" -eq 2 ] || fail "the title appears $n times in the UEFI log, expected 2"

step "a text that is not in BOOT.CFG is not reported as seen"
set +e
BOOT_CHECK_TIMEOUT=8 sh "$CHECK" esx.iso "modules=/no-such-module.v00" bios >out 2>err
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "boot-check returned $rc for a missing text"

done_testing
