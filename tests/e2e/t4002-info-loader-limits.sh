#!/bin/sh
# t4002: `esximg info` reports, and exits 3 on, what ESXi's own boot loader (esx-boot) reads
# otherwise than libisofs: BOOT.CFG lines mboot stops on or misreads (in both copies), a last
# primary volume descriptor naming another tree than the first, a file of two extents, and a
# directory record beyond 4 GiB (made in a sparse file: a few blocks on disk); `esximg edit`
# refuses to write such an image.  The images are
# generated ones altered in place by a small Python script (tests/gen has no such breaks).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_edit_tools

# alter KIND IN OUT: OUT is IN with one loader-visible change made by hand
alter() {
    python3 - "$@" <<'PY'
import shutil, struct, sys
kind, src, dst = sys.argv[1:4]
B = 2048
shutil.copyfile(src, dst)
f = open(dst, 'r+b')

def block(n):
    f.seek(n * B)
    return bytearray(f.read(B))

def put(n, data):
    f.seek(n * B)
    f.write(bytes(data))

def records(blk):
    pos = 0
    while pos < B and blk[pos]:
        n = blk[pos]
        yield pos, n, bytes(blk[pos + 33:pos + 33 + blk[pos + 32]])
        pos += n

def set_extent(rec, at, lba):
    rec[at + 2:at + 6] = struct.pack('<I', lba)
    rec[at + 6:at + 10] = struct.pack('>I', lba)

pvd = block(16)
root_lba = struct.unpack('<I', pvd[158:162])[0]
root = block(root_lba)
if kind == 'bootcfg':
    # same-length changes to the text both BOOT.CFG copies hold
    data = open(dst, 'rb').read()
    for old, new in ((b'timeout=5\n', b'timeout=x\n'), (b'\nmodules=/', b'\nmod=    /'),
                     (b'cdromBoot runweasel', b'cdromBoot #unweasel')):
        if data.count(old) != 2:
            sys.exit('%r found %d times' % (old, data.count(old)))
        if len(old) != len(new):
            sys.exit('%r and %r differ in length' % (old, new))
        data = data.replace(old, new)
    open(dst, 'wb').write(data)
elif kind == 'pvd':
    # the terminator at block 18 becomes a second primary descriptor whose root is /UPGRADE;
    # block 19 (the root listing) does not start "CD", which ends ESXi's run too
    if block(18)[0] != 255:
        sys.exit('block 18 is not the terminator')
    up = [p for p, n, name in records(root) if name == b'UPGRADE']
    pvd[156 + 2:156 + 18] = root[up[0] + 2:up[0] + 18]
    put(18, pvd)
elif kind == 'extents':
    # S.V00 (over 8 KiB) split into two extents: 8192 bytes flagged "not final", then the rest
    p, n, name = [r for r in records(root) if r[2] == b'S.V00;1'][0]
    rec = bytearray(root[p:p + n])
    lba, size = struct.unpack('<I', rec[2:6])[0], struct.unpack('<I', rec[10:14])[0]
    first, second = bytearray(rec), bytearray(rec)
    first[10:18] = struct.pack('<I', 8192) + struct.pack('>I', 8192)
    first[25] |= 0x80
    set_extent(second, 0, lba + 4)
    second[10:18] = struct.pack('<I', size - 8192) + struct.pack('>I', size - 8192)
    used = sum(r[1] for r in records(root))
    if used + n > B:
        sys.exit('no room in the root listing')
    root[:used + n] = root[:p] + first + second + root[p + n:used]
    put(root_lba, root)
elif kind == 'far':
    # /EFI's listing moved to a block past 4 GiB; the file grows sparse
    p = [r for r in records(root) if r[2] == b'EFI'][0][0]
    efi_lba = struct.unpack('<I', root[p + 2:p + 6])[0]
    far = (1 << 32) // B + 8
    efi = block(efi_lba)
    set_extent(efi, 0, far)
    f.truncate((far + 16) * B)
    put(far, efi)
    set_extent(root, p, far)
    put(root_lba, root)
f.close()
PY
}

step "a generated 7.0 image reads without a problem"
gen_image 7.0 good.iso
expect_ok "$ESXIMG" info good.iso
expect_no_grep 'loader' out

step "BOOT.CFG: an integer key with a letter, a key written as a prefix, an inline '#'"
expect_ok alter bootcfg good.iso cfg.iso
expect_exit 3 "$ESXIMG" info cfg.iso
for f in /BOOT.CFG /EFI/BOOT/BOOT.CFG; do
    expect_grep "$f line 3: integer key 'timeout' has the value 'x', not -\?digits" out
    expect_grep "$f line 6: value of 'kernelopt' holds '#' after a blank, at character 11" out
    expect_grep "$f line 7: key 'mod' is not a full key name: mboot matches keys as prefixes and reads it as 'modules'" out
done
expect_exit 3 "$ESXIMG" info --json cfg.iso
expect_grep "line 7: key 'mod' is not a full key name" out

step "a second primary volume descriptor naming another root: ESXi mounts the last"
expect_ok alter pvd good.iso pvd.iso
expect_exit 3 "$ESXIMG" info pvd.iso
expect_grep "2 primary volume descriptors name different trees: ESXi's UEFI loader mounts the last \(block 18\), libisofs and esximg read the first \(block 16\)" out
# what libisofs reads is the whole image still
expect_ok "$ESXIMG" ls --files pvd.iso
expect_grep 'ATLANTIC' out

step "a file of two extents (ISO 9660 level 3)"
expect_ok alter extents good.iso ext.iso
iso_get good.iso /S.V00 good.s
size=$(wc -c <good.s | tr -d ' ')
expect_exit 3 "$ESXIMG" info ext.iso
expect_grep "file '/S.V00' has 2 extents \($size bytes\): ESXi's UEFI loader reads single-extent files only" out
iso_get ext.iso /S.V00 ext.s
expect_same_file ext.s good.s
# the writer keeps no such file: the edit is refused before anything is written
expect_exit 1 "$ESXIMG" edit ext.iso -o ext-out.iso -k debugLogToSerial=1
expect_grep "'/S.V00' of the input has 2 extents \($size bytes\): ESXi's UEFI loader reads single-extent files only" err
[ ! -e ext-out.iso ] || fail "a refused edit wrote ext-out.iso"

step "a directory record beyond 4 GiB, in a sparse file"
expect_ok alter far good.iso far.iso
used=$(du -k far.iso | cut -f1)
[ "$used" -lt 65536 ] || fail "far.iso takes $used KiB on disk"
expect_exit 3 "$ESXIMG" info far.iso
expect_grep "directory '/EFI' has a record at byte 42949[0-9]{5}, at or beyond 4 GiB" out
# growing it would put the new tree past 4 GiB: refused before the 4 GiB copy
far_stat=$(stat -c '%s %Y %b' far.iso)   # hashing 4 GiB of holes would take seconds
expect_exit 1 "$ESXIMG" edit far.iso -o far-out.iso -k debugLogToSerial=1
expect_grep "the new directory tree would start at byte [0-9]{10}, after the input, at or beyond byte 4294967296" err
ls -A >listing
expect_no_grep 'far-out' listing
[ "$(stat -c '%s %Y %b' far.iso)" = "$far_stat" ] || fail "far.iso changed"
rm -f far.iso

done_testing
