#!/bin/sh
# t6101: `esximg export` of an esx-base whose descriptor lists isolinux.bin (boot_iso_bios), on
# images xorriso writes with -boot-info-table: for each known original form of bytes 8-63
# (isolinux.asm's, and checksumiso.pl's as Debian's isolinux.bin has it) the exported VIB
# holds the original byte for byte; an original in another form leaves esx-base out with a
# warning naming the file.  Python checks the table xorriso wrote, with its own checksum.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "a generated 7.0 image, kept as a tree"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --unsigned \
    --workdir work -o base.iso

step "images whose esx-base lists isolinux.bin in each form"
# forms/<form>/a.iso: the tree with ISOLINUX.BIN in that form, esx-base's descriptor listing
# it (size, sha-256), written again by xorriso as the generator does
python3 - <<'PY' || fail "the test images could not be made"
import hashlib, io, os, re, shutil, struct, subprocess, tarfile

def checksum(b):
    """32-bit sum of the LE words from byte 64, a last partial word padded with zeros."""
    body = b[64:] + b'\0' * (-(len(b) - 64) % 4)
    return sum(struct.unpack('<%dI' % (len(body) // 4), body)) & 0xffffffff

base = open('work/tree/ISOLINUX.BIN', 'rb').read()
assert len(base) > 2048, len(base)
body = base[64:]
def with_table(words):
    return base[:8] + struct.pack('<14I', *words) + body
n = len(base)
dead = 0xdeadbeef
forms = {
    'syslinux-asm': with_table([16, 0] + [dead] * 12),
    'syslinux-checksumiso': with_table([16, 0, n, checksum(base)] + [dead] * 10),
    'unknown': with_table([16, 0, n, checksum(base)] + [0] * 10),
}
for name, data in forms.items():
    d = 'forms/' + name
    shutil.copytree('work/tree', d + '/tree')
    open(d + '/tree/ISOLINUX.BIN', 'wb').write(data)
    open(d + '/original.bin', 'wb').write(data)
    payload = ('<payload name="isolinux.bin" type="boot_iso_bios" size="%d"><checksum '
               'checksum-type="sha-256">%s</checksum></payload>'
               % (len(data), hashlib.sha256(data).hexdigest())).encode()
    src = tarfile.open(d + '/tree/IMGDB.TGZ')
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w:gz', format=tarfile.GNU_FORMAT) as dst:
        for m in src.getmembers():
            f = src.extractfile(m) if m.isfile() else None
            content = f.read() if f else None
            if re.match(r'var/db/esximg/vibs/esx-base-.*\.xml$', m.name):
                assert b'</payloads>' in content
                # the generator's esx-base carries isolinux.bin already: this form replaces it
                content = re.sub(rb'<payload name="isolinux\.bin" type="boot_iso_bios".*?'
                                 rb'</payload>', b'', content, flags=re.S)
                content = content.replace(b'</payloads>', payload + b'</payloads>', 1)
                m.size = len(content)
            dst.addfile(m, io.BytesIO(content) if content is not None else None)
    open(d + '/tree/IMGDB.TGZ', 'wb').write(out.getvalue())
    subprocess.run(['xorriso', '-as', 'mkisofs', '--norock', '-iso-level', '1', '-quiet',
                    '-o', d + '/a.iso', '-V', 'ESXI-TEST', '-A', 'ESXIMAGE', '-b',
                    'ISOLINUX.BIN', '-c', 'BOOT.CAT', '-no-emul-boot', '-boot-load-size', '4',
                    '-boot-info-table', '-eltorito-alt-boot', '-e', 'EFIBOOT.IMG',
                    '-no-emul-boot', d + '/tree'], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(['xorriso', '-osirrox', 'on', '-indev', d + '/a.iso', '-extract',
                    '/ISOLINUX.BIN', d + '/on-iso.bin'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    iso = open(d + '/on-iso.bin', 'rb').read()
    pvd, lba, length, csum = struct.unpack('<4I', iso[8:24])
    assert (pvd, length, csum) == (16, n, checksum(data)), (name, pvd, length, csum)
    assert lba > 16 and iso[24:64] == bytes(40), (name, lba)
    assert iso != data and iso[64:] == data[64:], name
PY

for form in syslinux-asm syslinux-checksumiso; do
    step "$form: esx-base exported with the original isolinux.bin"
    expect_ok "$ESXIMG" export "forms/$form/a.iso" -o "$form.zip"
    expect_grep '^wrote .*: [0-9]+ VIBs, 0 left out$' out
    [ ! -s err ] || fail "warnings: $(cat err)"
    rm -rf vibs x
    expect_ok "$ESXIMG" depot extract "$form.zip" -C vibs -q
    vib=$(ls vibs/*esx-base*.vib)
    expect_ok "$ESXIMG" vib verify "$vib"
    expect_ok "$ESXIMG" vib extract "$vib" -C x
    expect_same_file "forms/$form/original.bin" x/isolinux.bin
    cmp -s "forms/$form/on-iso.bin" x/isolinux.bin && fail "the ISO's patched copy was kept"
done

step "an original in no known form: esx-base left out, naming the file and why"
expect_ok "$ESXIMG" export forms/unknown/a.iso -o unknown.zip
expect_grep "^wrote unknown.zip: [0-9]+ VIBs, 1 left out$" out
expect_grep "VIB 'VMware_bootbank_esx-base_[^']*': payload 'isolinux.bin' \(boot_iso_bios\) cannot be recovered from '/ISOLINUX.BIN': .*no known original form" err
expect_ok "$ESXIMG" depot ls unknown.zip
expect_no_grep 'esx-base' out

done_testing
