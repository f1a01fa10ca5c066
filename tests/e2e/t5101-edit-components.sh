#!/bin/sh
# t5101: `esximg edit --add` on 7.0 and 8.0 images: a component zip (Net-Community-Driver on
# 7.0, VMware-Re-Driver on 8.0; both certified, their vmkapi met by the generated esx-base),
# and an ESXi-Customizer OEM .tgz built here with GNU tar from the Re-Driver's module, map and
# ids files (8.0; becomes a community VIB).  Besides what t5100 checks, a bulletin in
# IMGDB.TGZ lists each added VIB, the component's own bulletin when the package has one.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools
python3 "$GEN_DIR/mkesxiso.py" --print-host >host.txt

# bulletin_for IMAGE VIB_ID COMPONENT: IMGDB.TGZ has bulletins/COMPONENT.xml listing VIB_ID,
# with the platform, kbUrl and contact of the component's own bulletin in the bundle (whose
# metadata.zip has bulletins/COMPONENT.xml too)
bulletin_for() {
    iso_get "$1" /IMGDB.TGZ db.tgz
    python3 - "$2" "$3" "$4" <<'PY' || fail "the bulletin $3 of $1"
import re, sys, tarfile, zipfile, io
vib, comp, bundle = sys.argv[1], sys.argv[2], sys.argv[3]
t = tarfile.open('db.tgz')
names = [m.name for m in t.getmembers() if m.name.startswith('var/db/esximg/bulletins/')]
hits = [n for n in names if n.endswith('/' + comp + '.xml')]
if not hits:
    sys.exit('no bulletins/%s.xml among %s' % (comp, names))
b = t.extractfile(hits[0]).read().decode()
if not re.search(r'<vibID>%s</vibID>' % re.escape(vib), b):
    sys.exit('bulletin %s does not list %s' % (comp, vib))
z = zipfile.ZipFile(bundle)
md = zipfile.ZipFile(io.BytesIO(z.read('metadata.zip')))
orig = md.read('bulletins/%s.xml' % comp).decode()
for tag in ('platforms', 'kbUrl', 'contact'):
    want = re.search(r'<%s>.*?</%s>' % (tag, tag), orig, re.S)
    # <kbUrl></kbUrl> and <kbUrl/> are the same element
    if want and not re.search(r'<%s[>/]' % tag, b):
        sys.exit('bulletin %s lost the component\'s <%s> (bundle: %s)\n%s'
                 % (comp, tag, want.group(0), b))
PY
}

step "a generated 7.0 image"
gen_image 7.0 in7.iso
in7_sha=$(sha in7.iso)

step "7.0 + Net-Community-Driver component: e1000-community (fallback) drives 8086:0d4c"
vib=$(bundle_vib "$PKG_NETCOMM" netcomm.d)
unpack_vib "$vib" netcomm
expect_ok "$ESXIMG" edit in7.iso -o netcomm.iso --add "$PKG_NETCOMM" \
    --title "esximg e2e net-community 7.0"
check_unchanged in7.iso "$in7_sha"
check_info netcomm.iso partner
check_edit in7.iso netcomm.iso --add netcomm --title "esximg e2e net-community 7.0" \
    --new-modules netcomm.mods
check_ls netcomm.iso net-community netcomm.mods
check_iso_shape in7.iso netcomm.iso
expect_grep '^/netcommu\.v00$' netcomm.mods
bulletin_for netcomm.iso VMW_bootbank_net-community_1.2.7.0-1vmw.700.1.0.15843807 \
    Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807 "$PKG_NETCOMM"
expect_ok "$ESXIMG" ls --drivers netcomm.iso
expect_grep '^e1000-community +fallback +8086:0d4c +NETCOMMU\.V00 ' out
expect_grep '^igc-community +fallback +8086:15f3 +NETCOMMU\.V00 ' out
expect_exit 3 "$ESXIMG" hcl in7.iso --pci 8086:0d4c/0200
expect_ok "$ESXIMG" hcl netcomm.iso --pci 8086:0d4c/0200 --pci 8086:15f3/0200 --json
python3 -c "
import json; d = json.load(open('out'))['devices']
assert [(x['verdict'], x['driver'], x['map_class']) for x in d] == [
    ('driven', 'e1000-community', 'fallback'), ('driven', 'igc-community', 'fallback')], d" ||
    fail "the community drivers do not drive their devices"

step "a generated 8.0 image"
gen_image 8.0 in8.iso
in8_sha=$(sha in8.iso)
expect_exit 3 "$ESXIMG" hcl in8.iso --lspci host.txt --json
cp out hcl8.before

step "8.0 + VMware-Re-Driver component: the host's Realtek 10ec:8168 is claimed by if_re"
vib=$(bundle_vib "$PKG_REDRV" redrv.d)
unpack_vib "$vib" redrv
expect_ok "$ESXIMG" edit in8.iso -o redrv.iso --add "$PKG_REDRV"
check_info redrv.iso partner
check_edit in8.iso redrv.iso --add redrv --new-modules redrv.mods
check_ls redrv.iso if-re redrv.mods
check_iso_shape in8.iso redrv.iso
expect_grep '^/ifre\.v00$' redrv.mods
bulletin_for redrv.iso vmw_bootbank_if-re_1.101.01-5vmw.800.1.0.20613240 \
    VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240 "$PKG_REDRV"
expect_ok "$ESXIMG" ls --drivers redrv.iso
expect_grep '^if_re +native +10ec:8168 +IFRE\.V00 ' out
expect_exit 3 "$ESXIMG" hcl redrv.iso --lspci host.txt --json   # 00:02.0 (vmklinux) stays
python3 - <<'PY' || fail "hcl verdicts after the Re-Driver"
import json
before = {d['slot']: d for d in json.load(open('hcl8.before'))['devices']}
after = {d['slot']: d for d in json.load(open('out'))['devices']}
assert before['00:05.0']['verdict'] == 'no_driver', before['00:05.0']
a = after['00:05.0']
assert (a['verdict'], a['driver'], a['map_class']) == ('driven', 'if_re', 'native'), a
for slot in before:
    if slot != '00:05.0':
        assert before[slot]['verdict'] == after[slot]['verdict'], slot
PY

step "an OEM .tgz (GNU tar) of the Re-Driver's module, map and ids"
mkdir oemsrc
expect_ok "$ESXIMG" vmtar x redrv/ifre -C oemsrc -q
expect_ok sh "$GEN_DIR/mkoemtgz.sh" re-oem.tgz oemsrc
expect_ok tar -tzvf re-oem.tgz
expect_lines 3 out
expect_grep ' usr/lib/vmware/vmkmod/if_re$' out
expect_grep ' etc/vmware/default.map.d/if_re.map$' out
expect_grep ' usr/share/hwdata/default.pciids.d/if_re.ids$' out
python3 -c "
import gzip; d = gzip.open('re-oem.tgz').read(); assert d[257:265] == b'ustar  \0'" ||
    fail "not GNU tar"

step "8.0 + the OEM .tgz: a community VIB if_re whose module holds exactly the three files"
expect_ok "$ESXIMG" edit in8.iso -o oem.iso --add re-oem.tgz --title "esximg e2e oem 8.0"
expect_grep 'community' err
check_info oem.iso community
check_edit in8.iso oem.iso --add-files if_re=oemsrc --acceptance community \
    --title "esximg e2e oem 8.0" --new-modules oem.mods
check_ls oem.iso if_re oem.mods
check_iso_shape in8.iso oem.iso
expect_ok "$ESXIMG" ls --json oem.iso
python3 -c "
import json; v = [v for v in json.load(open('out'))['vibs'] if v['name'] == 'if_re'][0]
assert (v['version'], v['vendor'], v['acceptance']) == ('1.0-1', 'custom', 'community'), v" ||
    fail "the OEM VIB's identity"
expect_ok "$ESXIMG" ls --drivers oem.iso
expect_grep '^if_re +native +10ec:8168 ' out
expect_ok "$ESXIMG" hcl oem.iso --pci 10ec:8168/0200
expect_grep 'if_re' out

step "the inputs never changed"
check_unchanged in7.iso "$in7_sha"
check_unchanged in8.iso "$in8_sha"

done_testing
