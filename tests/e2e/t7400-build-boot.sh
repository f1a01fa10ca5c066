#!/bin/sh
# t7400: an ISO that `esximg build` made from depots boots in QEMU with UEFI: GRUB (the test
# generator's EFIBOOT.IMG and BOOTX64.EFI, carried by a loader VIB made here) starts from the
# El Torito UEFI entry and prints both BOOT.CFG copies from the ISO 9660 tree.  The BIOS path
# is not booted: VMware's ISOLINUX.CFG, which esximg writes, has no SERIAL line, so isolinux
# shows nothing on the serial console the check reads.
. "$(dirname "$0")/lib.sh"

need_image_tools
need_tool qemu-system-x86_64
need_ovmf
SYSLINUX=/usr/lib/syslinux/modules/bios
for f in ldlinux.c32 menu.c32 cat.c32; do
    [ -r "$SYSLINUX/$f" ] || { echo "skipped: no $SYSLINUX/$f"; exit 77; }
done
export SOURCE_DATE_EPOCH=1600000000
TITLE="esximg build boot $$"

step "depots: a generated 7.0 image's VIBs and a VIB of boot loaders"
expect_ok python3 "$GEN" --version 7.0 --no-loader-payloads -o gen.iso --depot base.zip \
    --workdir gen
mkdir loaders
cp gen/tree/ISOLINUX.BIN loaders/isolinux.bin
cp gen/tree/EFIBOOT.IMG loaders/efiboot.img
cp gen/tree/EFI/BOOT/BOOTX64.EFI loaders/BOOTx64.EFI
for f in ldlinux.c32 menu.c32; do cp "$SYSLINUX/$f" loaders/; done
cp "$SYSLINUX/cat.c32" loaders/mboot.c32
python3 - <<'PY' || fail "cannot make the loader VIB"
import os
types = {'isolinux.bin': 'boot_iso_bios', 'efiboot.img': 'eltorito_image_efi',
         'BOOTx64.EFI': 'boot_loader_efi'}
members, payloads = [], ''
for name in sorted(os.listdir('loaders')):
    data = open('loaders/' + name, 'rb').read()
    payloads += '<payload name="%s" type="%s" size="%d"/>' % (
        name, types.get(name, 'boot_com32_bios'), len(data))
    members.append((name, data))
desc = ('<vib version="5.0"><type>bootbank</type><name>esx-loaders</name>'
        '<version>7.0.2-0.0.17630552</version><vendor>VMware</vendor><summary>loaders</summary>'
        '<acceptance-level>certified</acceptance-level><payloads>%s</payloads></vib>'
        % payloads).encode()
out = bytearray(b'!<arch>\n')
for name, data in [('descriptor.xml', desc), ('sig.pkcs7', b'')] + members:
    out += ('%-16s%-12s%-6s%-6s%-8s%-10d`\n' % (name, 0, 0, 0, 0, len(data))).encode()
    out += data + (b'\n' if len(data) % 2 else b'')
open('loaders.vib', 'wb').write(out)
PY
expect_ok "$ESXIMG" depot create -o loaders.zip loaders.vib
expect_ok "$ESXIMG" build -o built.iso --depot base.zip --depot loaders.zip \
    --base-image 7.0.2-0.0.17630552 --component esx-loaders --title "$TITLE"
xorriso -osirrox on -indev built.iso -extract /BOOT.CFG boot.cfg >/dev/null 2>&1 ||
    fail "cannot extract BOOT.CFG"
modules=$(grep '^modules=' boot.cfg)
[ -n "$modules" ] || fail "BOOT.CFG has no modules line"

step "UEFI: GRUB from EFIBOOT.IMG prints /EFI/BOOT/BOOT.CFG and /BOOT.CFG"
boot_check built.iso "$modules" uefi 2 uefi.log
expect_grep '^esximg-test: root=cd0$' uefi.log
[ "$(grep -c "^title=$TITLE\$" uefi.log)" -eq 2 ] || fail "GRUB did not print both copies"

done_testing
