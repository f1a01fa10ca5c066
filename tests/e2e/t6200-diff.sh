#!/bin/sh
# t6200: `esximg diff` on generated 7.0 images and their bundles: an image against itself
# (exit 0, nothing printed), against an edited copy (added VIB, profile acceptance, kernel
# options, modules, title), a version upgrade and downgrade, an image against its own export
# (no VIB difference), --json read by Python, and inputs that are neither ISO nor zip.
. "$(dirname "$0")/lib.sh"

step "help names every option; misuse is exit 2"
expect_ok "$ESXIMG" diff --help
expect_grep '^usage: esximg diff A B' out
for o in --json --help; do
    grep -q -- "$o" out || fail "--help does not name $o"
done
expect_exit 2 "$ESXIMG" diff
expect_exit 2 "$ESXIMG" diff a.iso
expect_exit 2 "$ESXIMG" diff a.iso b.iso c.iso
expect_exit 2 "$ESXIMG" diff a.iso b.iso --frobnicate

step "inputs that are not there, not an ISO, or a broken zip are exit 1 naming them"
expect_exit 1 "$ESXIMG" diff nothere.iso nothere2.iso
expect_grep '^esximg: nothere.iso: ' err
printf 'hello, not an image' >junk.bin
expect_exit 1 "$ESXIMG" diff junk.bin junk.bin
expect_grep '^esximg: junk.bin: not an ISO image or an offline bundle' err
printf 'PK\003\004truncated' >bad.zip
expect_exit 1 "$ESXIMG" diff bad.zip bad.zip
expect_grep '^esximg: bad.zip: ' err
# "CD001" one byte off is not an ISO
python3 -c "import sys; sys.stdout.buffer.write(b'\0' * 32768 + b'CD001' + b'\0' * 100)" \
    >off.iso
expect_exit 1 "$ESXIMG" diff off.iso off.iso
expect_grep 'not an ISO image' err

need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "a generated image and two versions of a community VIB"
# esximg export rebuilds a VIB from the ISO files its profile entry names; esx-base's loader
# payloads (isolinux.bin, mboot.c32, BOOTx64.EFI, ...) are kept where esxi-formats.md 5.3
# puts them instead (ISOLINUX.BIN with its boot-info-table filled in), which export does not
# look up, so this image's esx-base is made without them
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    --no-loader-payloads -o in.iso
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o r1.vib --name net-r8168 --version 8.045a-1 \
    --vendor custom --payload net-r816=pl
expect_ok "$ESXIMG" vib create -o r2.vib --name net-r8168 --version 8.045a-10 \
    --vendor custom --payload net-r816=pl

step "an image against itself: exit 0, nothing printed"
expect_ok "$ESXIMG" diff in.iso in.iso
[ ! -s out ] || fail "printed: $(cat out)"
expect_ok "$ESXIMG" diff --json in.iso in.iso
python3 -c "
import json; j = json.load(open('out'))
assert j['identical'] is True and j['differences'] == [], j
assert j['a']['kind'] == 'image' and j['a']['vib_count'] >= 5, j
" || fail "--json of identical images"

step "against an edited copy: the added VIB, acceptance, kernel options, module, title"
expect_ok "$ESXIMG" edit in.iso -o e1.iso -a r1.vib -k allowLegacyCPU=true --title 'Custom ESXi'
expect_exit 3 "$ESXIMG" diff in.iso e1.iso
cp out e1.diff
expect_grep '^\+ vib net-r8168 8.045a-1$' e1.diff
expect_grep '^~ profile acceptance partner -> community$' e1.diff
expect_grep '^\+ kernelopt allowLegacyCPU=true$' e1.diff
expect_grep '^\+ module /net_r816.v00$' e1.diff
expect_grep "^~ title '.*' -> 'Custom ESXi'$" e1.diff
expect_lines 5 e1.diff
expect_exit 3 "$ESXIMG" diff e1.iso in.iso
expect_grep '^- vib net-r8168 8.045a-1$' out
expect_grep '^~ profile acceptance community -> partner$' out
expect_grep '^- kernelopt allowLegacyCPU=true$' out

step "--json says the same, and Python reads it"
expect_exit 3 "$ESXIMG" diff --json in.iso e1.iso
python3 - <<'PY' || fail "--json does not match"
import json
j = json.load(open('out'))
assert j['identical'] is False
w = {(d['what'], d['name']) for d in j['differences']}
assert ('vib_added', 'net-r8168') in w, w
assert ('profile_acceptance', None) in w, w
assert ('kernelopt_added', 'allowLegacyCPU=true') in w, w
assert ('module_added', '/net_r816.v00') in w, w
assert ('title', None) in w, w
assert len(j['differences']) == 5, j
added = [d for d in j['differences'] if d['what'] == 'vib_added'][0]
assert added['new'] == '8.045a-1' and added['old'] is None, added
assert added['new_vib_id'] == 'custom_bootbank_net-r8168_8.045a-1', added
PY

step "a version change says upgrade or downgrade by version order, not text"
expect_ok "$ESXIMG" edit in.iso -o e2.iso -a r2.vib
expect_exit 3 "$ESXIMG" diff e1.iso e2.iso
expect_grep '^~ vib net-r8168 version 8.045a-1 -> 8.045a-10 \(upgrade\)$' out
expect_exit 3 "$ESXIMG" diff e2.iso e1.iso
expect_grep '^~ vib net-r8168 version 8.045a-10 -> 8.045a-1 \(downgrade\)$' out
expect_exit 3 "$ESXIMG" diff --json e2.iso e1.iso
python3 -c "
import json; j = json.load(open('out'))
v = [d for d in j['differences'] if d['what'] == 'vib_version']
assert len(v) == 1 and v[0]['change'] == 'downgrade' and v[0]['old'] == '8.045a-10', v
" || fail "--json of a downgrade"

step "an image against its own export: no VIB difference, either way round"
expect_ok "$ESXIMG" export e1.iso -o e1.zip -q
expect_ok "$ESXIMG" diff e1.iso e1.zip
[ ! -s out ] || fail "printed: $(cat out)"
expect_ok "$ESXIMG" diff e1.zip e1.iso
expect_exit 3 "$ESXIMG" diff --json in.iso e1.zip
python3 -c "
import json; j = json.load(open('out'))
assert j['b']['kind'] == 'bundle', j['b']
# image against bundle: VIBs only
assert [d['what'] for d in j['differences']] == ['vib_added'], j
" || fail "--json of an image against a bundle"

step "a bundle against a bundle"
expect_ok "$ESXIMG" depot create -o one.zip r1.vib
expect_ok "$ESXIMG" depot create -o two.zip r2.vib
expect_exit 3 "$ESXIMG" diff one.zip two.zip
expect_grep '^~ vib net-r8168 version 8.045a-1 -> 8.045a-10 \(upgrade\)$' out
expect_lines 1 out

done_testing
