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
need_tool xorriso
need_tool grub-mkimage
need_tool mformat
[ -r /usr/lib/ISOLINUX/isolinux.bin ] || [ -r /usr/share/syslinux/isolinux.bin ] ||
    [ -n "${ISOLINUX_BIN:-}" ] || { echo "skipped: isolinux is not installed"; exit 77; }
export SOURCE_DATE_EPOCH=1700000000

step "a generated 7.0 image exported"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$E2E_DIR/../gen/mkesxiso.py" --version 7.0 \
    -o in.iso
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
