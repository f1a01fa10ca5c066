#!/bin/sh
# t7302: an image whose ISOLINUX.BIN names ESXi's release, 3.86 (Debian's 6.04 with its
# banner replaced by "ISOLINUX 3.86 2010-04-01"), is made hybrid by `esximg usb` with the
# built-in MBR and with Debian's isohdpfx.bin (--mbr-template), the ISO part left unchanged
# from byte 32768 on, and boots as a USB disk under SeaBIOS (through the MBR code and the
# hand-off) and OVMF (from the 0xEF partition, El Torito hidden).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/usb-lib.sh"

need_image_tools
[ -r /usr/lib/ISOLINUX/isolinux.bin ] && [ -r "$TPL" ] || {
    echo "skipped: isolinux (isolinux.bin and isohdpfx.bin) is not installed"; exit 77; }
export SOURCE_DATE_EPOCH=1600000000
TITLE="esximg usb 3.86 test $$"
BANNER="ISOLINUX 3.86 2010-04-01"
usb_helpers

step "build a 7.0 image whose ISOLINUX.BIN says '$BANNER'"
banner_isolinux isolinux-386.bin "$BANNER"
ISOLINUX_BIN=$T/isolinux-386.bin expect_ok python3 "$GEN" --version 7.0 --title "$TITLE" -o esx.iso
cp esx.iso esx.orig
strings -n 8 esx.iso | grep -q "^$BANNER\$" || fail "the image does not carry '$BANNER'"

step "esximg usb: built-in MBR, the 3.86 banner accepted"
expect_ok "$ESXIMG" usb esx.iso -o usb.img -v
expect_grep "^wrote usb\\.img: $BANNER, built-in MBR, BIOS and UEFI, GPT\$" out
expect_ok python3 check-hybrid.py usb.img esx.iso builtin-mbr.bin
expect_same_file esx.iso esx.orig

step "esximg usb --mbr-template: Debian's 6.04 isohdpfx.bin serves the 3.86 banner too"
expect_ok "$ESXIMG" usb esx.iso -o tpl.img --mbr-template "$TPL"
expect_grep "^wrote tpl\\.img: $BANNER, MBR template $TPL, BIOS and UEFI, GPT\$" out
expect_ok python3 check-hybrid.py tpl.img esx.iso "$TPL"
cmp -s -i 432 usb.img tpl.img || fail "usb.img and tpl.img differ after the MBR code"

step "esximg edit --hybrid accepts it as well"
expect_ok "$ESXIMG" edit esx.iso -o edit.img --hybrid -k esximgusb=1 -v
expect_grep "^esximg: USB boot: $BANNER, MBR code built in\$" err
expect_same_file esx.iso esx.orig

need_tool qemu-system-x86_64
need_ovmf

step "SeaBIOS boots usb.img as a USB disk: built-in MBR -> ISOLINUX.BIN '3.86'"
boot usb.img usb-bios 1
expect_grep "^$BANNER" usb.img.usb-bios.log

step "SeaBIOS boots tpl.img as a USB disk: Debian's isohdpfx.bin -> ISOLINUX.BIN '3.86'"
boot tpl.img usb-bios 1

step "OVMF boots usb.img as a USB disk from the 0xEF partition (El Torito hidden)"
hide_eltorito usb.img noet.img
boot noet.img usb-uefi 2
expect_grep '^esximg-test: root=hd0' noet.img.usb-uefi.log

done_testing
