#!/bin/sh
# t5100: `esximg edit --add` with each kind of real package on a generated 6.7 image: a
# standalone VIB (ghettoVCB; net-r8125), a VMware-layout offline bundle (nvme-community), a
# V-Front bundle (net55-r8168) and a zip holding a bundle (the 6.5 USB NIC fling).  Each output
# is checked with esximg (info: no problem, acceptance and the secure boot line; ls --json: the
# VIB and its module; ls --drivers and hcl: the new driver claims its device) and independently
# (tests/gen/check-edit.py: both BOOT.CFG, new module right before imgdb.tgz, IMGDB.TGZ in GNU
# tar with the descriptor bytes and profile entry, module = payload, nothing else changed;
# xorriso/isoinfo: same El Torito entries and volume ids); the input never changes.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools

step "a generated 6.7 image"
gen_image 6.7 in.iso
in_sha=$(sha in.iso)
python3 "$GEN_DIR/mkesxiso.py" --print-host >host.txt
expect_exit 3 "$ESXIMG" hcl in.iso --lspci host.txt --json
cp out hcl.before

# --- standalone VIB: ghettoVCB (community, no relationships)
step "6.7 + ghettoVCB.vib: added, profile lowered to community with a warning"
unpack_vib "$PKG_GHETTO" ghetto
expect_ok "$ESXIMG" edit in.iso -o ghetto.iso --add "$PKG_GHETTO"
expect_grep 'community' err
expect_grep 'ghettoVCB' err
check_unchanged in.iso "$in_sha"
check_info ghetto.iso community
check_edit in.iso ghetto.iso --add ghetto --acceptance community --new-modules ghetto.mods
expect_lines 1 ghetto.mods
check_ls ghetto.iso ghettoVCB ghetto.mods
check_iso_shape in.iso ghetto.iso

step "6.7 + ghettoVCB: the new module is the VIB's payload byte for byte (cmp)"
mod=$(cat ghetto.mods)
iso_get ghetto.iso "$(echo "$mod" | tr '[:lower:]' '[:upper:]')" ghetto.mod
cmp ghetto.mod ghetto/payload1 || fail "module $mod is not the payload"
expect_grep '^/payload1\.v00$' ghetto.mods

# --- standalone VIB: net-r8125 (a vmklinux driver in a tgz payload)
step "6.7 + net-r8125.vib without --no-deps: refused, its vmklinux API is named, nothing written"
# A real 6.7 image provides com.vmware.driverAPI-9.2.2.0 through its shim-vmklinux-9-2-2-0
# VIB, which the generated image lacks (see tests/gen/README.md); vmkapi_2_3_0_0 is met.
expect_exit 1 "$ESXIMG" edit in.iso -o r8125.iso --add "$PKG_R8125"
expect_grep 'com\.vmware\.driverAPI-9\.2\.2\.0' err
expect_no_grep 'vmkapi_2_3_0_0' err
[ ! -e r8125.iso ] || fail "r8125.iso written although the edit failed"

step "6.7 + net-r8125.vib --no-deps: r8125 (vmklinux) claims 10ec:8125"
unpack_vib "$PKG_R8125" r8125
expect_ok "$ESXIMG" edit in.iso -o r8125.iso --add "$PKG_R8125" --no-deps
check_info r8125.iso community
check_edit in.iso r8125.iso --add r8125 --acceptance community --new-modules r8125.mods
check_ls r8125.iso net-r8125 r8125.mods
check_iso_shape in.iso r8125.iso
expect_ok "$ESXIMG" ls --drivers r8125.iso
expect_grep '^r8125 +vmklinux +10ec:8125 +NET_8125\.T00 ' out
expect_exit 3 "$ESXIMG" hcl in.iso --pci 10ec:8125/0200
expect_ok "$ESXIMG" hcl r8125.iso --pci 10ec:8125/0200 --json
python3 -c "
import json; d = json.load(open('out'))['devices'][0]
assert (d['verdict'], d['driver'], d['map_class']) == ('driven', 'r8125', 'vmklinux'), d" ||
    fail "r8125 does not drive 10ec:8125"

# --- VMware-layout offline bundle: nvme-community (certified; needs vmkapi_2_5_0_0)
step "6.7 + nvme-community offline bundle: relationships met, acceptance stays partner"
vib=$(bundle_vib "$PKG_NVME" nvme.d)
unpack_vib "$vib" nvme
expect_ok "$ESXIMG" edit in.iso -o nvme.iso --add "$PKG_NVME"
expect_no_grep 'community VIB|acceptance' err
check_info nvme.iso partner
check_edit in.iso nvme.iso --add nvme --new-modules nvme.mods
check_ls nvme.iso nvme-community nvme.mods
check_iso_shape in.iso nvme.iso
expect_ok "$ESXIMG" ls --drivers nvme.iso
expect_grep '^nvme_community +native +106b:2005 ' out
expect_exit 3 "$ESXIMG" hcl in.iso --pci 106b:2005
expect_ok "$ESXIMG" hcl nvme.iso --pci 106b:2005 --json
python3 -c "
import json; d = json.load(open('out'))['devices'][0]
assert (d['verdict'], d['driver']) == ('driven', 'nvme_community'), d" ||
    fail "nvme_community does not drive 106b:2005"

# --- V-Front bundle: net55-r8168 (community, vmklinux, tgz payload)
step "6.7 + net55-r8168 V-Front bundle --no-deps: the host's Realtek 10ec:8168 becomes driven"
# again com.vmware.driverAPI-9.2.2.0 comes from shim-vmklinux-9-2-2-0 on a real 6.7 image
vib=$(bundle_vib "$PKG_R8168" r8168.d)
unpack_vib "$vib" r8168
expect_exit 1 "$ESXIMG" edit in.iso -o r8168.iso --add "$PKG_R8168"
expect_grep 'com\.vmware\.driverAPI-9\.2\.2\.0' err
[ ! -e r8168.iso ] || fail "written although refused"
expect_ok "$ESXIMG" edit in.iso -o r8168.iso --add "$PKG_R8168" --no-deps
expect_grep 'community' err
check_info r8168.iso community
check_edit in.iso r8168.iso --add r8168 --acceptance community --new-modules r8168.mods
check_ls r8168.iso net55-r8168 r8168.mods
check_iso_shape in.iso r8168.iso
expect_ok "$ESXIMG" ls --drivers r8168.iso
expect_grep '^r8168 +vmklinux +10ec:8168 ' out
expect_ok "$ESXIMG" hcl r8168.iso --lspci host.txt --json
python3 - <<'PY' || fail "hcl verdicts"
import json
before = {d['slot']: d for d in json.load(open('hcl.before'))['devices']}
after = {d['slot']: d for d in json.load(open('out'))['devices']}
assert before['00:05.0']['verdict'] == 'no_driver', before['00:05.0']
a = after['00:05.0']
assert (a['verdict'], a['driver'], a['map_class']) == ('driven', 'r8168', 'vmklinux'), a
for slot in before:
    if slot != '00:05.0':
        assert before[slot]['verdict'] == after[slot]['verdict'], slot
PY

# --- a zip holding an offline bundle: the 6.5 USB NIC fling (accepted)
step "6.7 + the 6.5 USB NIC fling (zip in zip): refused for vmkapi_incompat_2_4_0_0"
# A real 6.7 esx-base provides vmkapi_incompat_2_5_0_0 only (the samples' descriptor), so a
# real 6.7 image refuses this 6.5 driver just the same: --no-deps is the user's override.
expect_exit 1 "$ESXIMG" edit in.iso -o fling.iso --add "$PKG_FLING"
expect_grep 'vmkapi_incompat_2_4_0_0' err
[ ! -e fling.iso ] || fail "written although refused"

step "6.7 + the fling --no-deps: vmkusb_nic_fling listed, acceptance stays partner"
mkdir fling.d
expect_ok "$ESXIMG" depot extract "$PKG_FLING" -C fling.d -q
set -- fling.d/*.vib
[ $# -eq 1 ] || fail "the fling zip holds $# VIBs"
unpack_vib "$1" fling
expect_ok "$ESXIMG" edit in.iso -o fling.iso --add "$PKG_FLING" --no-deps
check_info fling.iso partner
check_edit in.iso fling.iso --add fling --new-modules fling.mods
check_ls fling.iso vmkusb-nic-fling fling.mods
check_iso_shape in.iso fling.iso
expect_ok "$ESXIMG" ls --drivers fling.iso
expect_grep '^vmkusb_nic_fling +ihv ' out

step "the input never changed"
check_unchanged in.iso "$in_sha"

done_testing
