#!/bin/sh
# t7200: an image edited by the ISO writer (lib/isowrite.c: a new module, both BOOT.CFG replaced
# with a new title, a module removed) still boots under SeaBIOS (isolinux, whose boot info
# table must still match) and OVMF (GRUB from EFIBOOT.IMG), and both loaders read the EDITED
# BOOT.CFG; xorriso and isoinfo see the same El Torito entries and a plain ISO 9660 volume.
# The edited image comes from the unit test program test_isowrite (ESXIMG_KEEP_ISO).
. "$(dirname "$0")/lib.sh"

need_image_tools
need_tool isoinfo
need_tool qemu-system-x86_64
TOOL=${ESXIMG_ISOWRITE_TEST:-$(dirname "${ESXIMG_REAL:-$ESXIMG}")/tests/test_isowrite}
[ -x "$TOOL" ] || { echo "skipped: $TOOL is not built"; exit 77; }
TITLE="title=esximg isowrite edit"

step "the unit test program writes the edited 7.0 image"
ESXIMG_KEEP_ISO="$T/edited.iso" expect_ok "$TOOL"
[ -s edited.iso ] || fail "no edited image was kept"
grep -q 'SKIPPED' out && fail "the unit tests skipped: $(cat out)"

step "xorriso: the two El Torito entries are those of the generator, same blocks"
expect_ok xorriso -indev edited.iso -report_el_torito plain
cp out eltorito.txt
expect_grep '^El Torito boot img : +1 +BIOS +y +none +0x0000 +0x00 +4 +[0-9]+$' eltorito.txt
expect_grep '^El Torito boot img : +2 +UEFI +y +none +0x0000 +0x00 +[0-9]+ +[0-9]+$' eltorito.txt
expect_grep '^El Torito img path : +1 +/ISOLINUX.BIN$' eltorito.txt
expect_grep '^El Torito img path : +2 +/EFIBOOT.IMG$' eltorito.txt
expect_grep '^El Torito img opts : +1 +boot-info-table' eltorito.txt
expect_grep '^El Torito cat path : /BOOT.CAT$' eltorito.txt
[ "$(grep -c '^El Torito boot img' eltorito.txt)" -eq 2 ] || fail "not exactly two boot images"
# the boot image blocks are the input's: rebuild the input the same way and compare
SOURCE_DATE_EPOCH=1600000000 python3 "$GEN" --version 7.0 -o orig.iso \
    >/dev/null 2>&1 || fail "cannot build the original image"
expect_ok xorriso -indev orig.iso -report_el_torito plain
grep '^El Torito boot img' out >orig-boot.txt
grep '^El Torito boot img' eltorito.txt >edit-boot.txt
expect_same_file orig-boot.txt edit-boot.txt

step "isoinfo: plain ISO 9660, ids kept, upper-case 8.3 names with ;1"
expect_ok isoinfo -d -i edited.iso
expect_grep '^NO Joliet present' out
expect_grep '^NO Rock Ridge present' out
expect_grep '^Volume id: ESXI-7.0.2-17630552-STANDARD$' out
expect_grep '^Application id: ESXIMAGE$' out
expect_grep '^System id: $' out
expect_grep '^El Torito VD version 1 found' out
expect_grep 'Nsect 4$' out
expect_ok isoinfo -f -i edited.iso
expect_grep '^/NEW.V00;1$' out
expect_grep '^/BOOT.CFG;1$' out
expect_grep '^/EFI/BOOT/BOOT.CFG;1$' out
expect_no_grep '^/NVME.V00' out
expect_no_grep '[a-z]' out
xorriso -osirrox on -indev edited.iso -extract /BOOT.CFG root.cfg \
    -extract /EFI/BOOT/BOOT.CFG efi.cfg >/dev/null 2>&1 || fail "extract failed"
expect_grep "^$TITLE\$" root.cfg
expect_same_file root.cfg efi.cfg

step "BIOS: isolinux (boot info table unchanged) prints the edited /BOOT.CFG"
boot_check edited.iso "$TITLE" bios 1 bios.log
expect_grep '^ISOLINUX ' bios.log
expect_grep "^$TITLE\$" bios.log

step "UEFI: GRUB from EFIBOOT.IMG prints both edited BOOT.CFG"
need_ovmf
boot_check edited.iso "$TITLE" uefi 2 uefi.log
expect_grep '^esximg-test: root=cd0$' uefi.log
n=$(grep -c "^$TITLE\$" uefi.log)
[ "$n" -eq 2 ] || fail "the title appears $n times in the UEFI log, expected 2"
expect_no_grep '^title=Loading ESXi installer' uefi.log

done_testing
