#!/bin/sh
# t7401: an ISO that `esximg build --profile` makes from the test generator's full depot (7.0
# and 8.0: esx-base carries every loader payload, as a real one does) holds the VIBs of the
# depot's image profile and boots from the depot's own loaders: under SeaBIOS (the screen
# copied to the serial log by sercon) ISOLINUX.BIN runs ESXi's ISOLINUX.CFG as esximg wrote
# it, menu.c32 shows the profile's boot menu, and its default label runs mboot.c32 -c
# boot.cfg, which shows BOOT.CFG; under OVMF the El Torito UEFI entry's BOOTx64.EFI shows
# both BOOT.CFG copies.
. "$(dirname "$0")/lib.sh"

need_image_tools
need_tool qemu-system-x86_64
export SOURCE_DATE_EPOCH=1600000000
# menu.c32 waits out ISOLINUX.CFG's TIMEOUT 80 (8 s) before it runs the default label: about
# 10 s to BOOT.CFG on a 2-core machine under TCG; the timeouts only bound a failing run
SERCON_TIMEOUT=45
UEFI_TIMEOUT=40
ovmf=$(set +e; (need_ovmf) >/dev/null && echo yes)

# profile_vibs MANIFEST: the vib ids of the depot's image profile (the image's VIBs), sorted
profile_vibs() {
    python3 -c 'import json, sys
print("\n".join(sorted(v["vib_id"] for v in json.load(open(sys.argv[1]))["vibs"])))' "$1"
}

for v in 7.0 8.0; do
    step "$v: the generator's full depot and its manifest"
    expect_ok python3 "$GEN" --version "$v" --depot "d$v.zip" --manifest "m$v.json"
    profile=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["depot"]["profile"])' "m$v.json")
    title="esximg build depot boot $v $$"

    step "$v: esximg build --profile $profile: the profile's VIBs, no problem for info"
    expect_ok "$ESXIMG" build -o "b$v.iso" --depot "d$v.zip" --profile "$profile" \
        --title "$title"
    [ ! -s err ] || fail "warnings: $(cat err)"
    expect_ok "$ESXIMG" ls --json "b$v.iso"
    python3 -c 'import json
print("\n".join(sorted(v["vib_id"] for v in json.load(open("out"))["vibs"])))' >built.ids
    profile_vibs "m$v.json" >want.ids
    expect_same_file built.ids want.ids
    expect_ok "$ESXIMG" info "b$v.iso"
    expect_grep '^problems: +none$' out
    expect_grep '^boot: +bios uefi$' out

    step "$v: ISOLINUX.CFG and BOOT.CFG as the boot checks expect them"
    xorriso -osirrox on -indev "b$v.iso" -extract /ISOLINUX.CFG isolinux.cfg \
        -extract /BOOT.CFG boot.cfg >/dev/null 2>&1 || fail "cannot extract the boot files"
    expect_grep '^DEFAULT menu.c32$' isolinux.cfg
    expect_no_grep '^SERIAL' isolinux.cfg
    expect_grep "^title=$title\$" boot.cfg

    step "$v: SeaBIOS (sercon): the boot menu, then BOOT.CFG shown by mboot.c32"
    # wait for BOOT.CFG's last line: the modules line comes before it (waiting for the title
    # alone stopped QEMU before the modules line reached the serial port on a busy machine)
    BOOT_CHECK_TIMEOUT=$SERCON_TIMEOUT boot_check "b$v.iso" "$(tail -n 1 boot.cfg)" \
        sercon-bios 1 "sercon$v.log"
    expect_grep "$profile Boot Menu" "sercon$v.log"
    expect_grep "$profile Installer" "sercon$v.log"
    modules=$(grep '^modules=' boot.cfg)
    # the screen wraps at 80 columns: compare without line breaks and terminal sequences
    tr -d '\r\n' <"sercon$v.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' | grep -qF -- "$modules" ||
        fail "the modules line of BOOT.CFG is not in the sercon log"

    step "$v: OVMF: BOOTx64.EFI from EFIBOOT.IMG shows /EFI/BOOT/BOOT.CFG and /BOOT.CFG"
    [ -n "$ovmf" ] || { echo "no OVMF firmware: the UEFI boot is not checked"; continue; }
    BOOT_CHECK_TIMEOUT=$UEFI_TIMEOUT boot_check "b$v.iso" "title=$title" uefi 2 "uefi$v.log"
    expect_grep '^esximg-test: begin /EFI/BOOT/BOOT.CFG' "uefi$v.log"
    expect_grep '^esximg-test: begin /boot.cfg' "uefi$v.log"
done

done_testing
