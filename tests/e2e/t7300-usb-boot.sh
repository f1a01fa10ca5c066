#!/bin/sh
# t7300: `esximg usb` and `esximg edit --hybrid` write images that boot from a CD and as a USB
# stick: the MBR (built-in code, or syslinux's isohdpfx.bin with --mbr-template) and GPT are
# checked with Python (and sfdisk, and against syslinux's own `isohybrid --uefi` when
# installed), the ISO part is unchanged from byte 32768 on, the output is deterministic, the
# input unchanged, an ISOLINUX.BIN older than 3.81 or without the hybrid signature is refused
# leaving nothing behind, and QEMU boots the result as a USB disk under SeaBIOS (built-in MBR
# -> ISOLINUX.BIN) and OVMF (the 0xEF partition), and still as a CD.  t7302 does the same
# with an ISOLINUX.BIN that names ESXi's 3.86.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/usb-lib.sh"

need_image_tools
[ -r /usr/lib/ISOLINUX/isolinux.bin ] && [ -r /usr/lib/ISOLINUX/isohdpfx.bin ] || {
    echo "skipped: isolinux (isolinux.bin and isohdpfx.bin) is not installed"; exit 77; }
export SOURCE_DATE_EPOCH=1600000000
TITLE="esximg usb test $$"

usb_helpers

step "build a 7.0 image (isolinux 6.04, EFIBOOT.IMG) with a unique title"
expect_ok python3 "$GEN" --version 7.0 --title "$TITLE" -o esx.iso
cp esx.iso esx.orig

step "esximg usb writes a hybrid copy with the built-in MBR"
expect_ok "$ESXIMG" usb esx.iso -o usb.img -v
expect_grep "^wrote usb.img: ISOLINUX 6\\.04 .*, built-in MBR, BIOS and UEFI, GPT\$" out
expect_grep "MBR code: esximg's own" err
expect_grep 'partition 2: sectors [0-9]+\+2048, type 0xef' err
expect_same_file esx.iso esx.orig
expect_ok python3 check-hybrid.py usb.img esx.iso builtin-mbr.bin
expect_grep '^ok ' out

step "--mbr-template: syslinux's isohdpfx.bin instead, all else the same"
expect_ok "$ESXIMG" usb esx.iso -o tpl.img --mbr-template "$TPL" -v
expect_grep "^wrote tpl.img: ISOLINUX 6\\.04 .*, MBR template $TPL, BIOS and UEFI, GPT\$" out
expect_grep "MBR code: the first 432 bytes of $TPL \\(beside ISOLINUX 6\\.04 " err
expect_ok python3 check-hybrid.py tpl.img esx.iso "$TPL"
cmp -s -i 432 usb.img tpl.img || fail "usb.img and tpl.img differ after the MBR code"

step "xorriso reads the same ISO and El Torito entries, and sees an isohybrid MBR with a GPT"
expect_ok xorriso -indev esx.iso -report_el_torito plain
grep '^El Torito' out >iso-et.txt
expect_ok xorriso -indev usb.img -report_el_torito plain -report_system_area plain
grep '^El Torito' out >usb-et.txt
expect_same_file iso-et.txt usb-et.txt
expect_grep '^System area summary: MBR cyl-align-on GPT' out
expect_grep '^MBR partition      :   2   0x00  0xef .*' out
# xorriso names the MBR "isohybrid" when it recognises syslinux's code
expect_ok xorriso -indev tpl.img -report_system_area plain
expect_grep '^System area summary: MBR isohybrid cyl-align-on GPT' out

if command -v sfdisk >/dev/null 2>&1; then
    step "sfdisk: partition 1 bootable type 0 from 0, partition 2 type ef"
    expect_ok sfdisk -d usb.img
    expect_grep '^usb\.img1 : start= +0, size= +[0-9]+, type=0, bootable$' out
    expect_grep '^usb\.img2 : start= +[0-9]+, size= +2048, type=ef$' out
fi

if command -v isohybrid >/dev/null 2>&1; then
    step "the same bytes as syslinux's isohybrid --uefi, apart from its random GUIDs"
    id=$(disk_id usb.img)
    cp esx.iso ih.img
    expect_ok isohybrid --uefi --id "$id" ih.img
    expect_ok python3 same-but-guids.py tpl.img ih.img
    expect_ok python3 same-but-guids.py usb.img ih.img code
fi

step "deterministic: a second run under another TZ and umask gives the same bytes"
(umask 077 && TZ=Asia/Tokyo "$ESXIMG" usb esx.iso -o usb2.img -q) || fail "second run failed"
expect_same_file usb.img usb2.img

step "--no-gpt writes the MBR alone"
expect_ok "$ESXIMG" usb esx.iso -o nogpt.img --no-gpt -q
[ ! -s out ] || fail "-q printed: $(cat out)"
cmp -s -n 512 usb.img nogpt.img || fail "the MBR differs with --no-gpt"
python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
sys.exit(d[512:520] == b"EFI PART" or d[-512:-504] == b"EFI PART")' nogpt.img ||
    fail "--no-gpt wrote a GPT"

step "refusals: exit 1 or 2 with one line, nothing written, the input unchanged"
mkdir refuse && cd refuse
# ISOLINUX.BIN of 3.80, before today's hand-off, and one without the hybrid signature
python3 - ../esx.iso old.iso <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
cat = struct.unpack_from('<I', d, 17 * 2048 + 71)[0] * 2048
lba = struct.unpack_from('<I', d, cat + 40)[0] * 2048
at = d.index(b'ISOLINUX 6.04 ', lba)
d[at:at + 13] = b'ISOLINUX 3.80'
open(sys.argv[2], 'wb').write(d)
d[at:at + 13] = b'ISOLINUX 3.86'
d[lba + 0x40:lba + 0x44] = b'\0\0\0\0'
open('nosig.iso', 'wb').write(d)
EOF
expect_exit 1 "$ESXIMG" usb old.iso -o out.img
expect_grep "^esximg: old\\.iso: the image's ISOLINUX\\.BIN is 'ISOLINUX 3\\.80 20200816' \\(syslinux \
3\\.80\\): its isohybrid hand-off predates syslinux 3\\.81, the oldest a USB boot supports\$" err
expect_lines 1 err
expect_exit 1 "$ESXIMG" usb old.iso -o out.img --mbr-template "$TPL"
expect_grep "'ISOLINUX 3\\.80 20200816' \\(syslinux 3\\.80\\)" err
expect_exit 1 "$ESXIMG" edit old.iso -o out.img --hybrid
expect_grep "'ISOLINUX 3\\.80 20200816' \\(syslinux 3\\.80\\)" err
expect_exit 1 "$ESXIMG" usb nosig.iso -o out.img
expect_grep "^esximg: nosig\\.iso: the BIOS boot image at block [0-9]+ \\('ISOLINUX 3\\.86 20200816'\\) \
has no isolinux\\.bin hybrid signature at offset 0x40" err
expect_exit 1 "$ESXIMG" edit nosig.iso -o out.img --hybrid
expect_grep 'no isolinux\.bin hybrid signature at offset 0x40' err
head -c 100 /usr/lib/ISOLINUX/isohdpfx.bin >short.bin
expect_exit 1 "$ESXIMG" usb ../esx.iso -o out.img --mbr-template short.bin
expect_grep "^esximg: short\.bin: MBR template is 100 bytes" err
expect_exit 1 "$ESXIMG" usb ../check-hybrid.py -o out.img
expect_exit 1 "$ESXIMG" usb ../esx.iso -o ../esx.iso
expect_exit 2 "$ESXIMG" usb ../esx.iso
expect_exit 2 "$ESXIMG" usb ../esx.iso -o -
expect_exit 2 "$ESXIMG" edit ../esx.iso -o out.img --mbr-template short.bin
ls -A >../left.txt
cd ..
expect_lines 5 left.txt      # old.iso nosig.iso short.bin out err, no output, no temp file
expect_no_grep 'out\.img|^\.' left.txt
expect_same_file esx.iso esx.orig

step "esximg edit --hybrid: the edited image is hybrid, deterministic, as isohybrid makes it"
expect_ok "$ESXIMG" edit esx.iso -o edit.img --hybrid -k esximgusb=1 -v
expect_grep '^esximg: USB boot: ISOLINUX 6\.04 20200816, MBR code built in$' err
expect_ok "$ESXIMG" edit esx.iso -o plain-edit.iso -k esximgusb=1 -q
expect_ok python3 check-hybrid.py edit.img plain-edit.iso builtin-mbr.bin
TZ=UTC "$ESXIMG" edit esx.iso -o edit2.img --hybrid -k esximgusb=1 -q || fail "second edit failed"
expect_same_file edit.img edit2.img
if command -v isohybrid >/dev/null 2>&1; then
    id=$(disk_id edit.img)
    expect_ok isohybrid --uefi --id "$id" plain-edit.iso
    expect_ok python3 same-but-guids.py edit.img plain-edit.iso code
fi
expect_same_file esx.iso esx.orig

need_tool qemu-system-x86_64
need_ovmf

step "SeaBIOS boots usb.img as a USB disk: built-in MBR -> ISOLINUX.BIN"
boot usb.img usb-bios 1
expect_grep '^ISOLINUX 6\.04 ' usb.img.usb-bios.log

step "the CHS branch of the built-in MBR: EBIOS answer ignored, SeaBIOS boots an IDE disk"
# SeaBIOS offers the INT 13h extensions on every disk, so the CHS reads (and ISOLINUX's,
# told EBIOS flag 0) are reached by patching "mov si, cx" after the AH=41h test to
# "xor si, si"; SeaBIOS reports no usable geometry for a small USB disk, an IDE disk has one
python3 - usb.img chs.img <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
at = d[:432].find(bytes.fromhex('83e10189ce'))     # and cx, 1; mov si, cx
if at < 0 or d[:432].count(bytes.fromhex('83e10189ce')) != 1:
    sys.exit('the EBIOS test of the built-in MBR is not where this test expects it')
d[at + 3:at + 5] = bytes.fromhex('31f6')
open(sys.argv[2], 'wb').write(d)
EOF
boot chs.img disk-bios 1
expect_grep '^ISOLINUX 6\.04 ' chs.img.disk-bios.log

step "OVMF boots usb.img as a USB disk, also with El Torito hidden (from the 0xEF partition)"
boot usb.img usb-uefi 2
hide_eltorito usb.img noet.img
boot noet.img usb-uefi 2
expect_grep '^esximg-test: root=hd0' noet.img.usb-uefi.log

step "usb.img still boots as a CD (SeaBIOS and OVMF)"
boot usb.img bios 1
boot usb.img uefi 2

step "the edit --hybrid image boots as a USB disk (SeaBIOS, OVMF without El Torito)"
boot edit.img usb-bios 1
hide_eltorito edit.img noet-edit.img
boot noet-edit.img usb-uefi 2
expect_grep '^esximg-test: root=hd0' noet-edit.img.usb-uefi.log

step "controls: the plain ISO does not boot as a USB disk (SeaBIOS; OVMF without El Torito)"
set +e
BOOT_CHECK_TIMEOUT=8 sh "$CHECK" esx.iso "title=$TITLE" usb-bios >bout 2>berr
rc1=$?
hide_eltorito esx.iso noet.iso
BOOT_CHECK_TIMEOUT=25 sh "$CHECK" noet.iso "title=$TITLE" usb-uefi >bout 2>berr
rc2=$?
set -e
[ "$rc1" -eq 1 ] || fail "the plain ISO booted from USB under SeaBIOS ($rc1)"
[ "$rc2" -eq 1 ] || fail "the plain ISO without El Torito booted from USB under OVMF ($rc2)"

done_testing
