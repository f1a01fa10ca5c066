# usb-lib.sh: shared by the `esximg usb` end-to-end scripts (t73NN); source it after lib.sh.
# Writes the Python checkers into the test directory, extracts the built-in MBR code, and boots
# images in QEMU through boot_check (lib.sh).

CHECK="$E2E_DIR/../gen/boot-check.sh"
MBR_SOURCE_DIR="$E2E_DIR/../../lib"
TPL=/usr/lib/ISOLINUX/isohdpfx.bin

# usb_helpers: check-hybrid.py, same-but-guids.py and builtin-mbr.bin (the 432 bytes of
# lib/hybridmbr.c) in the current directory
usb_helpers() {
# check-hybrid.py IMG ISO CODE: the MBR and GPT of IMG, made from ISO with the MBR code in
# the file CODE (432 bytes), read with Python alone
cat >check-hybrid.py <<'EOF'
import struct, sys, zlib
img = open(sys.argv[1], 'rb').read()
iso = open(sys.argv[2], 'rb').read()
tpl = open(sys.argv[3], 'rb').read()[:432]
def die(msg):
    sys.exit('check-hybrid: ' + msg)
def u32(b, o): return struct.unpack_from('<I', b, o)[0]
def u64(b, o): return struct.unpack_from('<Q', b, o)[0]
if len(img) < len(iso) + 17408 or img[len(iso):-17408] != bytes(len(img) - len(iso) - 17408):
    die('the padding is not zeros followed by the backup GPT')
# UEFI boots through VMware's loader read the ISO from disk byte 0 (esxi-formats.md 8.2):
# nothing at or after byte 32768 of the ISO may change, nor the system area past the GPT
if img[32768:len(iso)] != iso[32768:] or img[32769:32774] != b'CD001':
    die('the ISO 9660 part (bytes 32768..%d) differs from the input' % len(iso))
if img[512 + 17408:32768] != iso[512 + 17408:32768]:
    die('the system area after the GPT differs from the input')
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
    die('MBR code is not that of %s' % sys.argv[3])
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

# same-but-guids.py A B [code]: equal apart from GPT GUIDs and CRCs (isohybrid's GUIDs are
# random) and, with "code", apart from the 432 bytes of MBR code
cat >same-but-guids.py <<'EOF'
import sys
a, b = (bytearray(open(p, 'rb').read()) for p in sys.argv[1:3])
if sys.argv[3:] == ['code']:
    a[:432] = b[:432] = bytes(432)
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

python3 - "$MBR_SOURCE_DIR/hybridmbr.c" builtin-mbr.bin <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
code = bytes(int(x, 16) for x in re.findall(r'0x([0-9a-f]{2}),', src[src.index('= {'):]))
if not 64 < len(code) <= 432:
    sys.exit('%s holds %d bytes, not up to 432' % (sys.argv[1], len(code)))
open(sys.argv[2], 'wb').write(code + bytes(432 - len(code)))
EOF
}

disk_id() {
    python3 -c 'import sys, struct
print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 440)[0])' "$1"
}

# boot IMG MODE COUNT: boot-check must see "title=$TITLE" COUNT times
boot() {
    boot_check "$1" "title=$TITLE" "$2" "$3" "$1.$2.log"
    echo "# $1 $2: $(cat bout)"
}

# hide_eltorito IN OUT: OVMF also reads El Torito from a disk, so the 0xEF partition is proved
# on a copy whose boot record firmware cannot see (one byte of its identifier changed)
hide_eltorito() {
    cp "$1" "$2"
    printf 'X' | dd of="$2" bs=1 seek=$((17 * 2048 + 7)) conv=notrunc 2>/dev/null
}

# banner_isolinux OUT BANNER: Debian's isolinux.bin with its version banner replaced by BANNER
# (as long as the old banner, its NUL and the space that starts the copyright line), so
# that the image behaves as 6.04 and names another release
banner_isolinux() {
    python3 - /usr/lib/ISOLINUX/isolinux.bin "$1" "$2" <<'EOF'
import re, sys
d = bytearray(open(sys.argv[1], 'rb').read())
m = re.search(rb'ISOLINUX [0-9][^\0\r\n]*\0 ', d)
if not m:
    sys.exit('no banner in ' + sys.argv[1])
new = sys.argv[3].encode()
room = m.end() - m.start() - 1
if len(new) > room:
    sys.exit('%r does not fit in %d bytes' % (new, room))
d[m.start():m.end()] = new + b'\0' * (room + 1 - len(new))
open(sys.argv[2], 'wb').write(d)
EOF
}
