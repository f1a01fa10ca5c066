#!/bin/sh
# t5110: images edited by `esximg edit` boot: a 6.7 image with the net55-r8168 V-Front bundle,
# a 7.0 image with the Net-Community-Driver component and an 8.0 image with the Re-Driver
# component, each with a unique --title, are booted headless in QEMU under SeaBIOS (isolinux,
# whose boot info table must still match) and OVMF (GRUB from EFIBOOT.IMG), and the loaders
# print the EDITED BOOT.CFG: the new title, and the modules= line with the new module right
# before imgdb.tgz (under UEFI both copies, /EFI/BOOT/BOOT.CFG and /BOOT.CFG).  The 8.0 image
# also carries a kickstart written by `esximg ks` (--ks, checked against the edited image),
# and the loaders print ks=cdrom:/KS.CFG among its kernel options.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools
need_tool qemu-system-x86_64
CHECK="$GEN_DIR/boot-check.sh"

# boot_both ISO TITLE NEWMOD: bios and uefi show the edited BOOT.CFG
boot_both() {
    iso_get "$1" /BOOT.CFG "$1.cfg"
    mods=$(grep '^modules=' "$1.cfg") || fail "no modules= in $1"
    case $mods in
    *" --- $3 --- /imgdb.tgz"*) ;;
    *) fail "$3 is not right before imgdb.tgz" ;;
    esac
    # wait for the modules= line: it comes after title=, so once it is on the console the
    # lines before it are too (waiting for the title raced with the rest of the file)
    set +e
    sh "$CHECK" "$1" "$mods" bios "$1.bios.log" >boot.out 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 77 ] && { cat boot.out; exit 77; }
    [ "$rc" -eq 0 ] ||
        { cat boot.out >&2; fail "BIOS boot of $1 did not show the edited BOOT.CFG"; }
    grep -q '^ISOLINUX ' "$1.bios.log" || fail "$1: not booted by isolinux"
    grep -qF -- "title=$2" "$1.bios.log" || fail "$1: BIOS boot did not print the new title"
    echo "--- $1 bios:" >>boot-excerpts.txt
    grep -E '^(ISOLINUX|title=|kernelopt=)' "$1.bios.log" >>boot-excerpts.txt || true
    set +e
    BOOT_CHECK_COUNT=2 sh "$CHECK" "$1" "$mods" uefi "$1.uefi.log" >boot.out 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 77 ] && { cat boot.out; exit 77; }
    [ "$rc" -eq 0 ] ||
        { cat boot.out >&2; fail "UEFI boot of $1 did not show both edited BOOT.CFG"; }
    n=$(grep -cF -- "title=$2" "$1.uefi.log")
    [ "$n" -eq 2 ] || fail "$1: UEFI printed the new title $n times, expected 2"
    grep -q '^title=Loading ESXi installer' "$1.uefi.log" && fail "$1: the old title was printed"
    echo "--- $1 uefi:" >>boot-excerpts.txt
    grep -E '^(esximg-test:|title=|kernelopt=)' "$1.uefi.log" >>boot-excerpts.txt || true
}

step "6.7 + net55-r8168 (--no-deps: the shim-vmklinux VIB of a real image is absent)"
gen_image 6.7 in67.iso
expect_ok "$ESXIMG" edit in67.iso -o r8168.iso --add "$PKG_R8168" --no-deps \
    --title "esximg e2e boot 6.7 r8168"
boot_both r8168.iso "esximg e2e boot 6.7 r8168" /net55_r8.t00

step "7.0 + Net-Community-Driver"
gen_image 7.0 in70.iso
expect_ok "$ESXIMG" edit in70.iso -o netcomm.iso --add "$PKG_NETCOMM" \
    --title "esximg e2e boot 7.0 net-community"
boot_both netcomm.iso "esximg e2e boot 7.0 net-community" /netcommu.v00

step "8.0 + VMware-Re-Driver, kernel options changed too, a kickstart written by esximg ks"
gen_image 8.0 in80.iso
printf 'esximg-Test1\n' >root.pw
expect_ok "$ESXIMG" ks -o ks.cfg --rootpw-file root.pw --nic vmnic0 --systemmedia min \
    --disable-module vmw_ahci --image in80.iso
expect_ok "$ESXIMG" edit in80.iso -o redrv.iso --add "$PKG_REDRV" \
    --title "esximg e2e boot 8.0 if-re" -k systemMediaSize=min --ks ks.cfg
iso_get redrv.iso /KS.CFG ks.got
expect_same_file ks.cfg ks.got
boot_both redrv.iso "esximg e2e boot 8.0 if-re" /ifre.v00
for fw in bios uefi; do
    grep -q '^kernelopt=runweasel cdromBoot systemMediaSize=min ks=cdrom:/KS.CFG$' \
        "redrv.iso.$fw.log" || fail "$fw: the edited kernelopt was not printed"
done

[ -n "${ESXIMG_E2E_KEEP:-}" ] && cp boot-excerpts.txt "$ESXIMG_E2E_KEEP"
done_testing
