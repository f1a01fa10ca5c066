#!/bin/sh
# t7000: the test image generator (tests/gen/mkesxiso.py) builds 6.7, 7.0 and 8.0 images that
# independent tools (xorriso, isoinfo, Python's tarfile) see as ESXi installer ISOs, and builds
# them reproducibly.
. "$(dirname "$0")/lib.sh"

need_image_tools
need_tool isoinfo
export SOURCE_DATE_EPOCH=1600000000

# check_imgdb ISO: the image database against BOOT.CFG and the module files
check_imgdb() {
    python3 - "$1" <<'PY'
import gzip, hashlib, io, os, re, subprocess, sys, tarfile
iso = sys.argv[1]
def extract(path):
    subprocess.run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', path, 'x.tmp'],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open('x.tmp', 'rb') as f:
        data = f.read()
    os.chmod('x.tmp', 0o600)
    os.unlink('x.tmp')
    return data
def fail(msg):
    sys.exit('imgdb: ' + msg)
cfg = extract('/BOOT.CFG').decode()
mods = re.search(r'^modules=(.*)$', cfg, re.M).group(1).split(' --- ')
kernel = re.search(r'^kernel=(.*)$', cfg, re.M).group(1)
names = [kernel] + mods
tail = {'/imgdb.tgz', '/basemisc.tgz', '/resvibs.tgz', '/esxiodpt.tgz', '/imgpayld.tgz'}
want = [n.lstrip('/') for n in names if n not in tail]
raw = extract('/IMGDB.TGZ')
plain = gzip.decompress(raw)
if plain[257:265] != b'ustar  \0':
    fail('IMGDB.TGZ is not GNU tar')
tar = tarfile.open(fileobj=io.BytesIO(plain))
profiles = []
payloads = {}
for m in tar.getmembers():
    if m.uid != 0 or m.gid != 0 or m.uname != 'root':
        fail('%s not owned by root' % m.name)
    if not 'var/db/esximg/'.startswith(m.name + '/') and not m.name.startswith('var/db/esximg/'):
        fail('member %s outside var/db/esximg' % m.name)
    if m.name.startswith('var/db/esximg/profiles/') and m.isfile():
        profiles.append(tar.extractfile(m).read().decode())
    if m.name.startswith('var/db/esximg/vibs/') and m.isfile():
        xml = tar.extractfile(m).read().decode()
        for p in re.finditer(r'<payload name="([^"]+)" type="([^"]+)"[^>]*size="(\d+)">(.*?)'
                             r'</payload>', xml):
            vibid = '%s_%s_%s_%s' % tuple(re.search('<%s>([^<]*)</%s>' % (k, k), xml).group(1)
                                          for k in ('vendor', 'type', 'name', 'version'))
            payloads[(vibid, p.group(1))] = (int(p.group(3)), p.group(4))
if len(profiles) != 1:
    fail('%d profiles' % len(profiles))
prof = profiles[0]
mapped = {}
for vib in re.finditer(r'<vib><vib-id>([^<]+)</vib-id><payloads>(.*?)</payloads></vib>', prof):
    for p in re.finditer(r'<payload payload-name="([^"]+)">([^<]+)</payload>', vib.group(2)):
        mapped[p.group(2)] = (vib.group(1), p.group(1))
for n in want:
    if n not in mapped:
        fail('module %s of BOOT.CFG is not in the profile' % n)
    key = mapped[n]
    if key not in payloads:
        fail('module %s: no descriptor payload %s' % (n, key))
    size, sums = payloads[key]
    data = extract('/' + n.upper())
    if len(data) != size:
        fail('module %s: size %d, descriptor says %d' % (n, len(data), size))
    inner = gzip.decompress(data)
    got = {('sha-256', ''): hashlib.sha256(data).hexdigest(),
           ('sha-256', 'gunzip'): hashlib.sha256(inner).hexdigest(),
           ('sha-1', 'gunzip'): hashlib.sha1(inner).hexdigest()}
    for c in re.finditer(r'<checksum checksum-type="([^"]+)"(?: verify-process="([^"]+)")?>'
                         r'([0-9a-f]+)</checksum>', sums):
        if got[(c.group(1), c.group(2) or '')] != c.group(3):
            fail('module %s: %s %s mismatch' % (n, c.group(1), c.group(2)))
    if n.endswith('.v00') or n.endswith('.v01'):
        # vmtar: magic, signed checksum, content offsets inside the archive
        off = 0
        while off + 512 <= len(inner) and inner[off] != 0:
            h = inner[off:off + 512]
            if h[257:265] != b'visor  \0':
                fail('module %s: entry at %d has no visor magic' % (n, off))
            s = sum(b - 256 if b >= 128 else b for b in h[:148] + b' ' * 8 + h[156:])
            if int(h[148:154], 8) != s or h[154:156] != b'\0 ':
                fail('module %s: entry at %d: bad checksum field' % (n, off))
            size = int(h[124:135], 8)
            pos = int.from_bytes(h[496:500], 'little')
            if size and (pos % 4096 or pos + size > len(inner)):
                fail('module %s: entry at %d: content %d+%d' % (n, off, pos, size))
            off += 512
print('imgdb ok: %d modules checked' % len(want))
PY
}

for v in 6.7 7.0 8.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" -o "esx$v.iso"

    step "$v: El Torito has a BIOS and a UEFI no-emulation entry"
    expect_ok xorriso -indev "esx$v.iso" -report_el_torito plain
    expect_grep '^El Torito boot img : +1 +BIOS +y +none +0x0000 +0x00 +4 ' out
    expect_grep '^El Torito boot img : +2 +UEFI +y +none ' out
    expect_grep '^El Torito img path : +1 +/ISOLINUX.BIN$' out
    expect_grep '^El Torito img path : +2 +/EFIBOOT.IMG$' out
    expect_grep '^El Torito img opts : +1 +boot-info-table' out
    expect_grep '^El Torito cat path : /BOOT.CAT$' out
    [ "$(grep -c '^El Torito boot img' out)" -eq 2 ] || fail "not exactly two boot images"

    step "$v: plain ISO 9660 with ESXi's identifiers"
    expect_ok isoinfo -d -i "esx$v.iso"
    expect_grep '^NO Joliet present' out
    expect_grep '^NO Rock Ridge present' out
    expect_grep '^Application id: ESXIMAGE$' out
    expect_grep '^System id: $' out
    case $v in
    6.7) expect_grep '^Volume id: ESXI-6.7.0-8169922-STANDARD$' out ;;
    7.0) expect_grep '^Volume id: ESXI-7.0.2-17630552-STANDARD$' out ;;
    8.0) expect_grep '^Volume id: ESXI-8.0.0-20513097-STANDARD$' out ;;
    esac
    expect_ok isoinfo -f -i "esx$v.iso"
    expect_no_grep '[a-z]' out
    expect_no_grep '/[^/;]{9,}\.' out
    for f in /ISOLINUX.BIN /ISOLINUX.CFG /BOOT.CAT /BOOT.CFG /MBOOT.C32 /B.B00 /JUMPSTRT.GZ \
             /USEROPTS.GZ /K.B00 /S.V00 /SB.V00 /NE1000.V00 /VMW_AHCI.V00 /NVME.V00 \
             /TOOLS.T00 /IMGDB.TGZ /EFIBOOT.IMG \
             /EFI/BOOT/BOOTX64.EFI /EFI/BOOT/BOOT.CFG /UPGRADE/METADATA.XML \
             /MENU.C32 /LDLINUX.C32 /LIBCOM32.C32 /LIBUTIL.C32 /SAFEBOOT.C32 \
             /UPGRADE/PRECHECK.PY; do
        expect_grep "^$f;1\$" out
    done
    # a name without an extension keeps the separator dot in ISO 9660
    expect_grep '^/README\.;1$' out
    # the vmklinux drivers only on 6.7, as on real images (7.0 removed vmklinux)
    if [ "$v" = 6.7 ]; then
        expect_grep '^/NET_E100.V00;1$' out
        expect_grep '^/NET_E100.V01;1$' out
        expect_no_grep 'BASEMISC' out
    else
        expect_no_grep 'NET_E100' out
        expect_grep '^/BASEMISC.TGZ;1$' out
        expect_grep '^/RESVIBS.TGZ;1$' out
    fi

    step "$v: the two BOOT.CFG are identical and shaped for $v"
    xorriso -osirrox on -indev "esx$v.iso" -extract /BOOT.CFG "root$v.cfg" \
        -extract /EFI/BOOT/BOOT.CFG "efi$v.cfg" >/dev/null 2>&1 || fail "extract failed"
    expect_same_file "root$v.cfg" "efi$v.cfg"
    expect_grep '^kernel=/b.b00$' "root$v.cfg"
    expect_grep '^prefix=$' "root$v.cfg"
    expect_grep '^updated=0$' "root$v.cfg"
    expect_grep '^modules=/jumpstrt.gz --- /useropts.gz --- /k.b00 --- /sb.v00 --- /s.v00 --- ' \
        "root$v.cfg"
    if [ "$v" = 6.7 ]; then
        expect_grep ' --- /net_e100.v00 --- /net_e100.v01 --- ' "root$v.cfg"
    fi
    case $v in
    6.7) expect_grep '^kernelopt=runweasel$' "root$v.cfg"
         expect_grep ' --- /tools.t00 --- /imgdb.tgz --- /imgpayld.tgz$' "root$v.cfg"
         expect_grep '^build=$' "root$v.cfg" ;;
    7.0) expect_grep '^kernelopt=cdromBoot runweasel$' "root$v.cfg"
         expect_grep ' --- /imgdb.tgz --- /basemisc.tgz --- /resvibs.tgz --- /imgpayld.tgz$' \
             "root$v.cfg"
         expect_grep '^build=7.0.2-0.0.17630552$' "root$v.cfg" ;;
    8.0) expect_grep '^kernelopt=runweasel cdromBoot$' "root$v.cfg"
         expect_grep ' --- /resvibs.tgz --- /esxiodpt.tgz --- /imgpayld.tgz$' "root$v.cfg" ;;
    esac

    step "$v: IMGDB.TGZ maps every module, checksums match, vmtar modules are well formed"
    expect_ok check_imgdb "esx$v.iso"
    expect_grep '^imgdb ok' out
done

step "the same SOURCE_DATE_EPOCH gives the same bytes, whatever TZ and umask"
expect_ok sh -c "umask 077; TZ=Pacific/Kiritimati python3 '$GEN' --version 7.0 -o again.iso"
expect_same_file esx7.0.iso again.iso

step "--pad-mib adds PAD.V00, listed in BOOT.CFG and the profile with matching checksums"
expect_ok python3 "$GEN" --version 8.0 --pad-mib 3 -o pad.iso
expect_ok isoinfo -f -i pad.iso
expect_grep '^/PAD.V00;1$' out
expect_ok check_imgdb pad.iso
size=$(stat -c %s pad.iso)
[ "$size" -gt $((3 * 1048576)) ] || fail "pad.iso is only $size bytes"

step "--print-host names the four NIC cases and the NVMe class"
expect_ok python3 "$GEN" --print-host
expect_grep ' 0200: 8086:100e' out
expect_grep ' 0200: 8086:10d3' out
expect_grep ' 0200: 10ec:8168' out
expect_grep ' 0108: 1b36:0010 .*prog-if 02' out

step "misuse is refused"
expect_exit 2 python3 "$GEN" --version 5.5 -o x.iso
expect_exit 2 python3 "$GEN" --version 7.0

done_testing
