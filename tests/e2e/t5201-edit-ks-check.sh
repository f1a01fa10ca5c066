#!/bin/sh
# t5201: `esximg edit --ks FILE` checks the kickstart as `esximg ks --check` does, against the
# image as edited: a file with problems is refused (exit 1, nothing written) and each problem
# named with its line; --force-ks writes it with warnings; a --device=vusb0 passes once the USB
# NIC Fling is added in the same edit; a file written by `esximg ks` lands on the image byte
# for byte with ks=cdrom:/KS.CFG in both BOOT.CFG copies.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools
HASH='$6$abcdefghijklmnop$hrs847kHGtkH6iIVAZJYNy64ZLyEAOyl/0/JoW6ZZLgFlhE21K2FYhWTpB/HtGmCKa54U550aRlGs1vFMW1T6.'

step "a generated 8.0 image and a kickstart for a USB NIC that disables a missing module"
gen_image 8.0 in.iso
in_sha=$(sha in.iso)
printf '%s\n' vmaccepteula 'install --firstdisk --overwritevmfs' 'rootpw VMware1!' \
    'network --bootproto=dhcp --device=vusb0' '%firstboot --interpreter=busybox' \
    'esxcli system module set --enabled=false -m i40en' >usb.ks

step "refused: each problem with its line, the way out, nothing written"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --ks usb.ks
expect_grep '^esximg: in\.iso: kickstart usb\.ks:4: .network.: --device=vusb0 is a USB NIC, but the image has no USB NIC driver' err
expect_grep "^esximg: in\\.iso: kickstart usb\\.ks:6: %firstboot configures module 'i40en', which the image does not have" err
expect_grep '^esximg: in\.iso: kickstart usb\.ks has problems: fix them \(esximg ks --check\) or give --force-ks$' err
expect_grep '^esximg: in\.iso: the edit is refused, nothing written$' err
[ ! -e out.iso ] || fail "out.iso written"
expect_exit 1 "$ESXIMG" edit in.iso --dry-run --ks usb.ks
expect_grep 'kickstart usb\.ks:4: ' err

step "the Fling added in the same edit drives vusb0: only the missing module is left"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --ks usb.ks --add "$PKG_FLING" --no-deps
expect_no_grep 'vusb0' err
expect_grep "kickstart usb\\.ks:6: %firstboot configures module 'i40en'" err
sed -i 's/i40en/ne1000/' usb.ks
expect_ok "$ESXIMG" edit in.iso -o fling.iso --ks usb.ks --add "$PKG_FLING" --no-deps
iso_get fling.iso /KS.CFG got.ks
expect_same_file usb.ks got.ks

step "--force-ks: written, each problem a warning"
expect_ok "$ESXIMG" edit in.iso -o forced.iso --ks usb.ks --force-ks
expect_grep '^esximg: warning: kickstart usb\.ks:4: .network.: --device=vusb0 is a USB NIC' err
iso_get forced.iso /KS.CFG got.ks
expect_same_file usb.ks got.ks
expect_exit 2 "$ESXIMG" edit in.iso -o x.iso --force-ks
expect_grep 'force-ks needs --ks' err

step "a file written by esximg ks: on the image byte for byte, booting with ks=cdrom:/KS.CFG"
expect_ok "$ESXIMG" ks -o gen.ks --rootpw-hash "$HASH" --nic vmnic0 --disable-module vmw_ahci \
    --image in.iso
expect_ok "$ESXIMG" edit in.iso -o ks.iso --ks gen.ks
expect_no_grep 'kickstart' err
iso_get ks.iso /KS.CFG got.ks
expect_same_file gen.ks got.ks
check_edit in.iso ks.iso --ks gen.ks --kernelopt 'runweasel cdromBoot ks=cdrom:/KS.CFG'

step "the input never changed"
check_unchanged in.iso "$in_sha"

done_testing
