#!/bin/sh
# t6100: `esximg export` on a generated 7.0 image: help and misuse, a bundle that lists every
# VIB of the image (same ids), that unzip and Python read, whose VIBs all verify, the same
# bytes twice; the bundle added back to an image (the same VIBs replace themselves) and a
# community VIB added by `esximg edit` exported byte-identical to the original .vib.
. "$(dirname "$0")/lib.sh"

step "help names every option; misuse is exit 2"
expect_ok "$ESXIMG" export --help
expect_grep '^usage: esximg export ISO -o OUT.zip' out
for o in --output --vendor-name --vendor-code --quiet --verbose --help; do
    grep -q -- "$o" out || fail "--help does not name $o"
done
expect_exit 2 "$ESXIMG" export
expect_exit 2 "$ESXIMG" export in.iso
expect_grep 'OUT.zip is required' err
expect_exit 2 "$ESXIMG" export a.iso b.iso -o out.zip
expect_exit 2 "$ESXIMG" export in.iso -o out.zip --frobnicate
step "a missing or non-ISO input is exit 1 naming it, nothing written"
expect_exit 1 "$ESXIMG" export nothere.iso -o out.zip
expect_grep '^esximg: nothere.iso: ' err
printf 'not an iso' >junk.iso
expect_exit 1 "$ESXIMG" export junk.iso -o out.zip
expect_grep '^esximg: junk.iso: ' err
[ ! -e out.zip ] || fail "out.zip was written"

need_tool python3
need_tool unzip
need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "a generated 7.0 image exported"
# esximg export rebuilds a VIB from the ISO files its profile entry names; esx-base's loader
# payloads (isolinux.bin, mboot.c32, BOOTx64.EFI, ...) are kept where esxi-formats.md 5.3
# puts them instead (ISOLINUX.BIN with its boot-info-table filled in), which export does not
# look up, so this image's esx-base is made without them
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    --no-loader-payloads -o in.iso
sha256sum in.iso >in.sum
expect_ok "$ESXIMG" export in.iso -o out.zip --vendor-name "Test Vendor" --vendor-code TV
expect_grep '^wrote out.zip: [0-9]+ VIBs, 0 left out$' out
[ ! -s err ] || fail "warnings: $(cat err)"
sha256sum -c in.sum >/dev/null || fail "the input changed"

step "depot ls lists every VIB of the image, with the same ids"
expect_ok "$ESXIMG" ls --json in.iso
mv out ls.json
expect_ok "$ESXIMG" depot ls --json out.zip
mv out depot.json
python3 - <<'PY' || fail "the bundle does not hold the image's VIBs"
import json
img = sorted(v['vib_id'] for v in json.load(open('ls.json'))['vibs'])
d = json.load(open('depot.json'))
bun = sorted(v['vib_id'] for v in d['vibs'])
assert img == bun and len(img) >= 5, (img, bun)
assert d['kind'] == 'vmware', d['kind']
assert d['vendor_name'] == 'Test Vendor' and d['vendor_code'] == 'TV', d
assert all(v['metadata'] is not None for v in d['vibs']), d['vibs']
PY

step "unzip and Python's zipfile read it"
expect_ok unzip -l out.zip
expect_grep ' index.xml$' out
expect_grep ' metadata.zip$' out
expect_grep ' vib20/esx-base/VMware_bootbank_esx-base_.*\.vib$' out
expect_ok unzip -tq out.zip
python3 - <<'PY' || fail "zipfile cannot read the bundle"
import io, zipfile
z = zipfile.ZipFile('out.zip')
assert z.testzip() is None
names = z.namelist()
assert names == sorted(names), names
m = zipfile.ZipFile(io.BytesIO(z.read('metadata.zip')))
assert 'vmware.xml' in m.namelist(), m.namelist()
assert any(n.startswith('vibs/') for n in m.namelist())
for i in z.infolist():
    assert i.date_time[:3] == (2023, 11, 14), i.date_time
PY

step "every exported VIB verifies"
mkdir vibs
expect_ok "$ESXIMG" depot extract out.zip -C vibs -q
n=0
for f in vibs/*.vib; do
    expect_ok "$ESXIMG" vib verify "$f"
    n=$((n + 1))
done
[ "$n" -eq "$(python3 -c "import json; print(len(json.load(open('ls.json'))['vibs']))")" ] ||
    fail "$n VIBs extracted"

step "the same image gives the same bundle"
expect_ok "$ESXIMG" export in.iso -o out2.zip -q --vendor-name "Test Vendor" --vendor-code TV
[ ! -s out ] || fail "--quiet printed: $(cat out)"
expect_same_file out.zip out2.zip

step "an edit from the exported bundle replaces the VIB by itself"
expect_ok "$ESXIMG" edit in.iso -o same.iso --add out.zip --select ne1000
expect_grep 'is already in the image: the copy from .out.zip. replaces it' err
expect_ok "$ESXIMG" info same.iso
expect_grep '^problems: +none$' out
# the module gets a new name (edit never reuses one); the VIBs are the same
expect_exit 3 "$ESXIMG" diff in.iso same.iso
expect_no_grep ' vib ' out
expect_grep '^\+ module /ne1000.v01$' out

step "the bundle's platform is the image's update line, or --platform"
unzip -p out.zip vendor-index.xml >vendor-index.xml
expect_grep '<version>7\.0\.\*</version>' vendor-index.xml
unzip -p out.zip metadata.zip >meta.zip
expect_ok "$ESXIMG" export in.iso -o plat.zip --platform 7.0.2 -q
unzip -p plat.zip vendor-index.xml >vendor-index.xml
expect_grep '<version>7\.0\.2</version>' vendor-index.xml

step "the image's components are the bundle's, byte for byte; so is its profile"
xorriso -osirrox on -indev in.iso -extract /IMGDB.TGZ imgdb.tgz >/dev/null 2>&1 ||
    fail "cannot extract IMGDB.TGZ"
python3 - <<'PY' || fail "components or profile differ"
import tarfile, zipfile
db = tarfile.open('imgdb.tgz')
meta = zipfile.ZipFile('meta.zip')
def members(names, prefix):
    return {n[len(prefix):] for n in names if n.startswith(prefix) and n != prefix}
want = members(db.getnames(), 'var/db/esximg/bulletins/')
got = members(meta.namelist(), 'bulletins/')
assert want and got == want, (got, want)
for n in want:
    assert meta.read('bulletins/' + n) == db.extractfile('var/db/esximg/bulletins/' + n).read(), n
profiles = members(db.getnames(), 'var/db/esximg/profiles/')
assert members(meta.namelist(), 'profiles/') == profiles and len(profiles) == 1, meta.namelist()
PY
# the listing keeps each component's own platform
unzip -p meta.zip vmware.xml >vmware.xml
expect_grep 'softwarePlatform .*version="7\.0\.2"' vmware.xml
expect_no_grep '5\.\*' vmware.xml

step "the export added to an image with an empty profile gives the same VIB set"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    --empty-profile -o empty.iso
expect_ok "$ESXIMG" ls --json empty.iso
expect_grep '"vibs": \[\]' out
sha256sum empty.iso >empty.sum
# --no-deps: with the real 6.7 descriptors of the samples the vmklinux VIBs depend on a shim
# the test image does not have; the full image carries that failure already
expect_ok "$ESXIMG" edit empty.iso -o back.iso --add out.zip --no-deps -v
# the boot payloads are on the empty image already: taken as they are, not added twice
expect_grep '^keep module /b\.b00 \(payload .b. of esx-base' err
expect_grep '^keep module /k\.b00 ' err
expect_grep '^add module /S\.V00 \(payload .s. of esx-base' err
sha256sum -c empty.sum >/dev/null || fail "the empty image changed"
expect_ok "$ESXIMG" info back.iso
expect_grep '^problems: +none$' out
expect_ok "$ESXIMG" ls --json back.iso
mv out back.json
python3 - <<'PY' || fail "the VIB set differs"
import json
a = json.load(open('ls.json'))['vibs']
b = json.load(open('back.json'))['vibs']
key = lambda v: (v['vib_id'], v['acceptance'])
assert sorted(map(key, a)) == sorted(map(key, b)), (a, b)
PY
expect_ok "$ESXIMG" diff in.iso back.iso
[ ! -s out ] || fail "diff: $(cat out)"
# the same files with the same sizes (blocks differ; IMGDB.TGZ differs: the bundle's
# components are one made per VIB, not the image's own bulletins)
expect_ok "$ESXIMG" ls --files back.iso
awk '$3 != "/IMGDB.TGZ" { print $1, $3 }' out >back.files
expect_ok "$ESXIMG" ls --files in.iso
awk '$3 != "/IMGDB.TGZ" { print $1, $3 }' out >in.files
expect_same_file in.files back.files

step "a boot payload that is not on the image is refused, naming it"
python3 - <<'PY' || fail "could not write boot.vib"
import gzip, hashlib
data = gzip.compress(b'a kernel module that no image holds\n', mtime=0)
desc = ('<vib version="5.0"><type>bootbank</type><name>bootthing</name><version>1.0-1'
        '</version><vendor>test</vendor><summary>s</summary><description>d</description>'
        '<release-date>2020-01-01T00:00:00</release-date><acceptance-level>community'
        '</acceptance-level><payloads><payload name="kx" type="boot" size="%d"><checksum '
        'checksum-type="sha-256">%s</checksum></payload></payloads></vib>'
        % (len(data), hashlib.sha256(data).hexdigest())).encode()
def member(name, body):
    head = b'%-16s%-12d%-6d%-6d%-8s%-10d`\n' % (name.encode(), 0, 0, 0, b'100644', len(body))
    return head + body + (b'\n' if len(body) % 2 else b'')
with open('boot.vib', 'wb') as f:
    f.write(b'!<arch>\n' + member('descriptor.xml', desc) + member('sig.pkcs7', b'')
            + member('kx', data))
PY
expect_ok "$ESXIMG" vib verify boot.vib
expect_exit 1 "$ESXIMG" edit in.iso -o twice.iso --add boot.vib
expect_grep "^esximg: boot.vib: payload 'kx' of 'test_bootbank_bootthing_1.0-1' has type 'boot': only vgz, tgz and installer_vgz payloads can be added" err
[ ! -e twice.iso ] || fail "twice.iso was written"

step "a community VIB added by edit comes out byte-identical"
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o r8168.vib --name net-r8168 --version 8.045a-1 \
    --vendor custom --payload net-r816=pl
expect_ok "$ESXIMG" edit in.iso -o comm.iso -a r8168.vib
expect_ok "$ESXIMG" export comm.iso -o comm.zip
mkdir cvibs
expect_ok "$ESXIMG" depot extract comm.zip -C cvibs -q
expect_same_file r8168.vib cvibs/custom_bootbank_net-r8168_8.045a-1.vib
expect_ok "$ESXIMG" depot ls --json comm.zip
expect_grep '"acceptance": "community"' out

step "a failed write leaves nothing"
mkdir ro
chmod 0555 ro
if [ ! -w ro ]; then
    expect_exit 1 "$ESXIMG" export in.iso -o ro/out.zip
    [ -z "$(ls -A ro)" ] || fail "ro holds $(ls -A ro)"
fi
chmod 0755 ro

done_testing
