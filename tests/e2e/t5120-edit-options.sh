#!/bin/sh
# t5120: the options of `esximg edit` on generated 7.0 (and 6.7) images: the same inputs give
# the same bytes whatever TZ or umask; --dry-run writes nothing; --remove of a driver VIB takes
# its module off the ISO and both BOOT.CFG; --kernelopt adds, replaces and removes options;
# --ks puts /KS.CFG and ks=cdrom:/KS.CFG; --strict refuses a community VIB; --acceptance;
# a newer version of a VIB already there replaces it; --select takes one VIB of a bundle; a
# folder adds every package in it; --profile-name; misuse exits 2.  Every written image is
# checked with tests/gen/check-edit.py and esximg info; the input never changes.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools

step "a generated 7.0 image"
gen_image 7.0 in.iso
in_sha=$(sha in.iso)
unpack_vib "$PKG_GHETTO" ghetto

step "determinism: the same edit twice, another TZ and umask, gives the same bytes"
expect_ok "$ESXIMG" edit in.iso -o a.iso --add "$PKG_GHETTO" --add "$PKG_NETCOMM"
(umask 077; TZ=Pacific/Kiritimati "$ESXIMG" edit in.iso -o b.iso --add "$PKG_GHETTO" \
    --add "$PKG_NETCOMM" >/dev/null 2>&1) || fail "second edit"
expect_same_file a.iso b.iso
sleep 1
(umask 022; TZ=America/Anchorage "$ESXIMG" edit in.iso -o c.iso --add "$PKG_GHETTO" \
    --add "$PKG_NETCOMM" -q >/dev/null 2>&1) || fail "third edit"
expect_same_file a.iso c.iso
vib=$(bundle_vib "$PKG_NETCOMM" netcomm.d)
unpack_vib "$vib" netcomm
check_edit in.iso a.iso --add ghetto --add netcomm --acceptance community
check_unchanged in.iso "$in_sha"

step "--dry-run: prints the plan, writes nothing"
expect_ok "$ESXIMG" edit in.iso -o dry.iso --add "$PKG_GHETTO" --dry-run
[ ! -e dry.iso ] || fail "--dry-run wrote dry.iso"
expect_grep 'ghettoVCB' out
ls -A >listing
expect_no_grep 'dry' listing
expect_ok "$ESXIMG" edit in.iso -o dry.iso --add "$PKG_R8125" -n --no-deps
[ ! -e dry.iso ] || fail "-n wrote dry.iso"
expect_grep 'vmklinux' err
# a dry run of a refused edit shows the problem and fails, and writes nothing either
expect_exit 1 "$ESXIMG" edit in.iso -o dry.iso --add "$PKG_R8125" -n
expect_grep 'com\.vmware\.driverAPI-9\.2\.2\.0' err
[ ! -e dry.iso ] || fail "-n wrote dry.iso"
check_unchanged in.iso "$in_sha"

step "--remove nvme: NVME.V00 leaves the ISO and both BOOT.CFG; 1b36:0010 loses its driver"
expect_ok "$ESXIMG" edit in.iso -o rm.iso --remove nvme
check_edit in.iso rm.iso --remove nvme
check_info rm.iso partner
expect_ok isoinfo -f -i rm.iso
expect_no_grep '^/NVME\.V00' out
iso_get rm.iso /BOOT.CFG rm.cfg
iso_get rm.iso /EFI/BOOT/BOOT.CFG rm-efi.cfg
expect_no_grep 'nvme' rm.cfg
expect_same_file rm.cfg rm-efi.cfg
expect_ok "$ESXIMG" ls rm.iso
expect_no_grep '^nvme ' out
expect_ok "$ESXIMG" hcl in.iso --pci 1b36:0010/010802
expect_exit 3 "$ESXIMG" hcl rm.iso --pci 1b36:0010/010802
iso_get rm.iso /IMGDB.TGZ rm.tgz
tar -tzf rm.tgz >rm.list
expect_no_grep 'vibs/nvme-' rm.list
expect_no_grep 'bulletins/nvme_' rm.list

step "--remove by vib-id, and of a VIB that is not there"
expect_ok "$ESXIMG" edit in.iso -o rm2.iso -r VMW_bootbank_atlantic_1.0.3.0-10vmw.702.0.0.17630552
check_edit in.iso rm2.iso --remove atlantic
expect_exit 1 "$ESXIMG" edit in.iso -o rm3.iso --remove no-such-vib
expect_grep 'no-such-vib' err
[ ! -e rm3.iso ] || fail "written although refused"

step "--kernelopt systemMediaSize=min -k -runweasel"
expect_ok "$ESXIMG" edit in.iso -o k.iso --kernelopt systemMediaSize=min -k -runweasel
check_edit in.iso k.iso --kernelopt 'cdromBoot systemMediaSize=min'
expect_ok "$ESXIMG" edit k.iso -o k2.iso -k systemMediaSize=max
check_edit k.iso k2.iso --kernelopt 'cdromBoot systemMediaSize=max'

step "--ks FILE: /KS.CFG on the ISO, ks=cdrom:/KS.CFG in both BOOT.CFG"
printf 'vmaccepteula\ninstall --firstdisk --overwritevmfs\nrootpw esximg-Test1\nreboot\n' >ks.cfg
expect_ok "$ESXIMG" edit in.iso -o ks.iso --ks ks.cfg
check_edit in.iso ks.iso --ks ks.cfg --kernelopt 'cdromBoot runweasel ks=cdrom:/KS.CFG'
iso_get ks.iso /KS.CFG ks.got
expect_same_file ks.cfg ks.got
check_info ks.iso partner

step "--strict refuses a community VIB: exit 1, nothing written"
expect_exit 1 "$ESXIMG" edit in.iso -o strict.iso --add "$PKG_GHETTO" --strict
expect_grep 'community' err
[ ! -e strict.iso ] || fail "--strict wrote strict.iso"
# a certified one passes under --strict
expect_ok "$ESXIMG" edit in.iso -o strict.iso --add "$PKG_NETCOMM" --strict
check_info strict.iso partner

step "--acceptance: a level below a VIB's is set, one above a VIB's is refused"
expect_ok "$ESXIMG" edit in.iso -o acc.iso --add "$PKG_NETCOMM" --acceptance community
check_edit in.iso acc.iso --add netcomm --acceptance community
expect_exit 1 "$ESXIMG" edit in.iso -o acc2.iso --add "$PKG_GHETTO" --acceptance partner
[ ! -e acc2.iso ] || fail "written although refused"
expect_exit 2 "$ESXIMG" edit in.iso -o acc3.iso --acceptance best

step "a newer atlantic replaces the image's: old module, descriptor and profile entry go"
mkdir -p atl/tree
iso_get in.iso /ATLANTIC.V00 atl.v00
expect_ok "$ESXIMG" vmtar x atl.v00 -C atl/tree -q
expect_ok "$ESXIMG" vib create -o atl.vib --payload atlantic=atl/tree --name atlantic \
    --version 1.0.4.0-1vmw.702.0.0.17630552 --vendor VMW --acceptance certified \
    --depends vmkapi_2_8_0_0 --tag driver --tag module --mtime 1600000000
unpack_vib atl.vib atlnew
expect_ok "$ESXIMG" edit in.iso -o atl.iso --add atl.vib
check_edit in.iso atl.iso --add atlnew --new-modules atl.mods
expect_no_grep '^/atlantic\.v00$' atl.mods
expect_ok "$ESXIMG" ls atl.iso
expect_grep '^atlantic +1\.0\.4\.0-1vmw\.702\.0\.0\.17630552 ' out
[ "$(grep -c '^atlantic ' out)" -eq 1 ] || fail "two atlantic VIBs"
check_info atl.iso partner

step "--select takes one VIB of a bundle; a folder adds its packages in bytewise name order"
expect_ok "$ESXIMG" depot create -o two.zip "$PKG_GHETTO" "$(bundle_vib "$PKG_NETCOMM" sel.d)" \
    --mtime 1600000000
expect_ok "$ESXIMG" edit in.iso -o sel.iso --add two.zip --select net-community
check_edit in.iso sel.iso --add netcomm
mkdir pkgs
cp "$PKG_GHETTO" "$PKG_NETCOMM" pkgs/
expect_ok "$ESXIMG" edit in.iso -o dir.iso --add pkgs
check_edit in.iso dir.iso --add ghetto --add netcomm --acceptance community
# "Net-Community-Driver_..." sorts before "vghetto-..."
expect_ok "$ESXIMG" edit in.iso -o ord.iso --add "$PKG_NETCOMM" --add "$PKG_GHETTO"
expect_same_file ord.iso dir.iso

step "--profile-name and --title"
expect_ok "$ESXIMG" edit in.iso -o prof.iso --profile-name ESXi-7.0.2-custom --title "custom 7"
check_edit in.iso prof.iso --profile-name ESXi-7.0.2-custom --title "custom 7"
expect_ok "$ESXIMG" info prof.iso
expect_grep '^image profile: +ESXi-7.0.2-custom$' out

step "6.7: no bulletins are added, the descriptor file follows the 6.x naming rule"
gen_image 6.7 in67.iso
expect_ok "$ESXIMG" edit in67.iso -o g67.iso --add "$PKG_GHETTO"
check_edit in67.iso g67.iso --add ghetto --acceptance community
iso_get g67.iso /IMGDB.TGZ g67.tgz
tar -tzf g67.tgz >g67.list
expect_no_grep 'bulletins' g67.list
expect_grep '^var/db/esximg/vibs/ghettoVCB--?[0-9]+\.xml$' g67.list

step "misuse exits 2 with the usage"
expect_exit 2 "$ESXIMG" edit in.iso
expect_grep '^usage: esximg edit|-o/--output' err
expect_exit 2 "$ESXIMG" edit -o x.iso
expect_exit 2 "$ESXIMG" edit in.iso -o x.iso --no-such-option
expect_grep '^usage: esximg edit' err
expect_exit 2 "$ESXIMG" edit in.iso in.iso -o x.iso
expect_ok "$ESXIMG" edit --help
expect_grep '^usage: esximg edit' out
for o in --output --add --select --remove --no-deps --acceptance --strict --kernelopt --ks \
         --title --profile-name --dry-run; do
    grep -q -- "$o" out || fail "--help does not name $o"
done
[ ! -e x.iso ] || fail "misuse wrote x.iso"

step "the input never changed"
check_unchanged in.iso "$in_sha"

done_testing
