#!/bin/sh
# t7300: `esximg usb` and `esximg edit --hybrid` write images that boot from a CD and as a USB
# stick: the MBR and GPT are checked with Python (and sfdisk, and against syslinux's own
# `isohybrid --uefi` when installed), the output is deterministic, the input unchanged, a
# refused image leaves nothing behind, and QEMU boots the result as a USB disk under SeaBIOS
# (isohybrid MBR -> ISOLINUX.BIN) and OVMF (the 0xEF partition), and still as a CD.
. "$(dirname "$0")/lib.sh"

need_tool python3
need_tool xorriso
need_tool grub-mkimage
need_tool mformat
[ -r /usr/lib/ISOLINUX/isolinux.bin ] && [ -r /usr/lib/ISOLINUX/isohdpfx.bin ] || {
    echo "skipped: isolinux (isolinux.bin and isohdpfx.bin) is not installed"; exit 77; }
GEN="$E2E_DIR/../gen/mkesxiso.py"
CHECK="$E2E_DIR/../gen/boot-check.sh"
export SOURCE_DATE_EPOCH=1600000000
TITLE="esximg usb test $$"

# check-hybrid.py IMG ISO: the MBR and GPT of IMG, made from ISO, read with Python alone
cat >check-hybrid.py <<'EOF'
import struct, sys, zlib
img = open(sys.argv[1], 'rb').read()
iso = open(sys.argv[2], 'rb').read()
tpl = open('/usr/lib/ISOLINUX/isohdpfx.bin', 'rb').read()[:432]
def die(msg):
    sys.exit('check-hybrid: ' + msg)
def u32(b, o): return struct.unpack_from('<I', b, o)[0]
def u64(b, o): return struct.unpack_from('<Q', b, o)[0]
if len(img) < len(iso) + 17408 or img[len(iso):-17408] != bytes(len(img) - len(iso) - 17408):
    die('the padding is not zeros followed by the backup GPT')
if img[32768:len(iso)] != iso[32768:]:
    die('the ISO 9660 part differs from the input')
if len(img) % (1 << 20):
    die('size %d is not whole MiB' % len(img))
# El Torito, independently: boot record, catalog, default and UEFI entries
cat = u32(iso, 17 * 2048 + 71) * 2048
bios_lba = u32(iso, cat + 32 + 8)
efi = iso[cat + 64:cat + 128]
if efi[0] not in (0x90, 0x91) or efi[1] != 0xef:
    die('the generator made no UEFI section')
efi_lba, efi_count = u32(efi, 32 + 8), struct.unpack_from('<H', efi, 32 + 6)[0]
mbr = img[:512]
if mbr[:432] != tpl:
    die('MBR code is not isohdpfx.bin')
if u32(mbr, 432) != bios_lba * 4 or u32(mbr, 436) != 0 or mbr[444:446] != b'\0\0':
    die('bytes 432..445 do not point at ISOLINUX.BIN')
if u32(mbr, 440) == 0 or mbr[510:] != b'\x55\xaa':
    die('no disk signature or no 55 aa')
p1, p2 = mbr[446:462], mbr[462:478]
sectors = len(img) // 512
if p1[0] != 0x80 or p1[4] != 0x00 or u32(p1, 8) != 0 or u32(p1, 12) % 2048:
    die('partition 1 is not the bootable type 0 whole-image entry: %s' % p1.hex())
if u32(p1, 12) > sectors or u32(p1, 12) < len(iso) // 512:
    die('partition 1 has %d sectors for %d' % (u32(p1, 12), sectors))
if p2[0] != 0 or p2[4] != 0xef or u32(p2, 8) != efi_lba * 4 or u32(p2, 12) != efi_count:
    die('partition 2 is not the EFI image: %s' % p2.hex())
if mbr[478:510] != b'\0' * 32:
    die('partitions 3 and 4 are not empty')
def gpt(hdr_lba, want_entries_lba, want_backup):
    h = img[hdr_lba * 512:hdr_lba * 512 + 512]
    if h[:8] != b'EFI PART' or u32(h, 12) != 92:
        die('no GPT header at sector %d' % hdr_lba)
    crc = u32(h, 16)
    if zlib.crc32(h[:16] + b'\0\0\0\0' + h[20:92]) != crc:
        die('GPT header CRC at sector %d' % hdr_lba)
    if u64(h, 24) != hdr_lba or u64(h, 32) != want_backup or u64(h, 72) != want_entries_lba:
        die('GPT header at sector %d points elsewhere' % hdr_lba)
    if u64(h, 40) != 34 or u64(h, 48) != sectors - 34:
        die('GPT usable range')
    ents = img[want_entries_lba * 512:want_entries_lba * 512 + 128 * 128]
    if zlib.crc32(ents) != u32(h, 88) or u32(h, 80) != 128 or u32(h, 84) != 128:
        die('GPT entries CRC at sector %d' % want_entries_lba)
    vol = u32(iso, 16 * 2048 + 80) * 2048 // 512
    e1, e2 = ents[:128], ents[128:256]
    basic = bytes.fromhex('a2a0d0ebe5b9334487c068b6b72699c7')
    if e1[:16] != basic or u64(e1, 32) != 0 or u64(e1, 40) != vol - 1:
        die('GPT entry 1 is not the ISO volume')
    if e2[:16] != basic or u64(e2, 32) != efi_lba * 4 or u64(e2, 40) != efi_lba * 4 + efi_count - 1:
        die('GPT entry 2 is not the EFI image')
    if e1[56:56 + 26].decode('utf-16le') != 'ISOHybrid ISO' or ents[256:] != b'\0' * (126 * 128):
        die('GPT names or spare entries')
    return h[56:72], ents
d1, t1 = gpt(1, 2, sectors - 1)
d2, t2 = gpt(sectors - 1, sectors - 33, 1)
if d1 != d2 or t1 != t2:
    die('primary and backup GPT differ')
print('ok %d sectors, ISOLINUX.BIN at %d, EFI %d+%d' % (sectors, bios_lba * 4, efi_lba * 4,
                                                        efi_count))
EOF

# same-but-guids.py A B: equal apart from GPT GUIDs and CRCs (isohybrid's GUIDs are random)
cat >same-but-guids.py <<'EOF'
import sys
a, b = (bytearray(open(p, 'rb').read()) for p in sys.argv[1:3])
if len(a) != len(b):
    sys.exit('sizes differ: %d %d' % (len(a), len(b)))
for d in (a, b):
    n = len(d) // 512
    for hdr, ent in ((1, 2), (n - 1, n - 33)):
        h = hdr * 512
        d[h + 16:h + 20] = bytes(4); d[h + 56:h + 72] = bytes(16); d[h + 88:h + 92] = bytes(4)
        for i in range(128):
            d[ent * 512 + i * 128 + 16:ent * 512 + i * 128 + 32] = bytes(16)
if a != b:
    sys.exit('differ first at byte %d' % next(i for i in range(len(a)) if a[i] != b[i]))
EOF

disk_id() {
    python3 -c 'import sys, struct
print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 440)[0])' "$1"
}

step "build a 7.0 image (isolinux 6.04, EFIBOOT.IMG) with a unique title"
expect_ok python3 "$GEN" --version 7.0 --title "$TITLE" -o esx.iso
cp esx.iso esx.orig

step "esximg usb writes a hybrid copy"
expect_ok "$ESXIMG" usb esx.iso -o usb.img -v
TPL=/usr/lib/ISOLINUX/isohdpfx.bin
expect_grep "^wrote usb.img: ISOLINUX 6\\.04 .*MBR template $TPL, BIOS and UEFI, GPT\$" out
expect_grep 'partition 2: sectors [0-9]+\+2048, type 0xef' err
expect_same_file esx.iso esx.orig
expect_ok python3 check-hybrid.py usb.img esx.iso
expect_grep '^ok ' out

step "xorriso reads the same ISO and El Torito entries, and sees an isohybrid MBR with a GPT"
expect_ok xorriso -indev esx.iso -report_el_torito plain
grep '^El Torito' out >iso-et.txt
expect_ok xorriso -indev usb.img -report_el_torito plain -report_system_area plain
grep '^El Torito' out >usb-et.txt
expect_same_file iso-et.txt usb-et.txt
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
    expect_ok python3 same-but-guids.py usb.img ih.img
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
# ISOLINUX.BIN of another release: the installed template must not be used
python3 - ../esx.iso old.iso <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
cat = struct.unpack_from('<I', d, 17 * 2048 + 71)[0] * 2048
lba = struct.unpack_from('<I', d, cat + 40)[0] * 2048
at = d.index(b'ISOLINUX 6.04 ', lba)
d[at:at + 13] = b'ISOLINUX 3.86'
open(sys.argv[2], 'wb').write(d)
d[lba + 0x40:lba + 0x44] = b'\0\0\0\0'
open('nosig.iso', 'wb').write(d)
EOF
expect_exit 1 "$ESXIMG" usb old.iso -o out.img
expect_grep "^esximg: old\\.iso: the image has 'ISOLINUX 3\\.86 20200816' but the MBR template \
'$TPL' belongs to 'ISOLINUX 6\\.04 20200816': give the isohdpfx\\.bin of syslinux 3\\.86 as \
the MBR template\$" err
expect_lines 1 err
expect_exit 1 "$ESXIMG" edit old.iso -o out.img --hybrid
expect_grep "give the isohdpfx\.bin of syslinux 3\.86" err
expect_exit 1 "$ESXIMG" usb nosig.iso -o out.img --mbr-template "$TPL"
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
# an explicit template is trusted whatever the release banner says
expect_ok "$ESXIMG" usb refuse/old.iso -o trusted.img --mbr-template "$TPL" -q

step "esximg edit --hybrid: the edited image is hybrid, deterministic, as isohybrid makes it"
expect_ok "$ESXIMG" edit esx.iso -o edit.img --hybrid -k esximgusb=1
expect_ok "$ESXIMG" edit esx.iso -o plain-edit.iso -k esximgusb=1 -q
expect_ok python3 check-hybrid.py edit.img plain-edit.iso
TZ=UTC "$ESXIMG" edit esx.iso -o edit2.img --hybrid -k esximgusb=1 -q || fail "second edit failed"
expect_same_file edit.img edit2.img
if command -v isohybrid >/dev/null 2>&1; then
    id=$(disk_id edit.img)
    expect_ok isohybrid --uefi --id "$id" plain-edit.iso
    expect_ok python3 same-but-guids.py edit.img plain-edit.iso
fi
expect_same_file esx.iso esx.orig

need_tool qemu-system-x86_64
have_ovmf=""
for f in ${OVMF_FD:-} /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd /usr/share/OVMF/OVMF.fd; do
    [ -n "$f" ] && [ -r "$f" ] && have_ovmf=1
done
[ -n "$have_ovmf" ] || { echo "skipped: no OVMF firmware"; exit 77; }

# boot IMG MODE COUNT: boot-check must see the title COUNT times
boot() {
    set +e
    BOOT_CHECK_COUNT=$3 sh "$CHECK" "$1" "title=$TITLE" "$2" "$1.$2.log" >bout 2>berr
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || { cat bout berr >&2; fail "$1 did not boot in mode $2"; }
    echo "# $1 $2: $(cat bout)"
}

# OVMF also reads El Torito from a disk, so the 0xEF partition is proved on a copy whose
# boot record firmware cannot see (one byte of its identifier changed)
hide_eltorito() {
    cp "$1" "$2"
    printf 'X' | dd of="$2" bs=1 seek=$((17 * 2048 + 7)) conv=notrunc 2>/dev/null
}

step "SeaBIOS boots usb.img as a USB disk: isohybrid MBR -> ISOLINUX.BIN"
boot usb.img usb-bios 1
expect_grep '^ISOLINUX 6\.04 ' usb.img.usb-bios.log

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
