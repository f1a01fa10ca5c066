#!/bin/sh
# t5140: `esximg edit` refuses a VIB whose kernel module is built for another machine: an
# ESXi-Arm driver (an AArch64 module, a descriptor like the real rp1gem one: it depends on
# vmkapi_3_0_0_0) on an x86 image, with and without --no-deps, naming the VIB, the file and
# both machines, and writing nothing; the same VIB with an x86-64 module goes in.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_edit_tools

# mkvib MACHINE OUT: the rp1gem driver VIB with a module (a bare ELF64 header) for MACHINE
mkvib() {
    rm -rf "pl$1"
    mkdir -p "pl$1/usr/lib/vmware/vmkmod" "pl$1/etc/vmware/default.map.d"
    python3 - "$1" "pl$1/usr/lib/vmware/vmkmod/rp1gem_mmio" <<'PY'
import struct, sys
head = b'\x7fELF\x02\x01\x01' + bytes(9)
head += struct.pack('<HHIQQQIHHHHHH', 1, int(sys.argv[1]), 1, 0, 0, 0, 0, 64, 0, 0, 64, 0, 0)
open(sys.argv[2], 'wb').write(head + bytes(4096))
PY
    echo 'regtype=native,bus=pci,id=10ec8168..............,driver=rp1gem' \
        >"pl$1/etc/vmware/default.map.d/rp1gem.map"
    expect_ok "$ESXIMG" vib create -o "$2" --name rp1gem --version 0.0.214-1 --vendor RP1GEM \
        --summary "Native RP1 Cadence GEM driver for Raspberry Pi 5" --tag driver --tag module \
        --depends vmkapi_3_0_0_0 --release-date 2020-09-13T12:26:40 --payload "rp1gem=pl$1"
}

step "a 7.0 image and the rp1gem VIB built for AArch64 (183) and for x86-64 (62)"
gen_image 7.0 in.iso
in_sha=$(sha in.iso)
mkvib 183 arm.vib
mkvib 62 x86.vib
expect_ok "$ESXIMG" vib info arm.vib
expect_grep 'vmkapi_3_0_0_0' out

why="'RP1GEM_bootbank_rp1gem_0\\.0\\.214-1' holds 'usr/lib/vmware/vmkmod/rp1gem_mmio', built for AArch64: the image runs x86-64 \\(assumed: its kernel is no ELF\\), where it cannot load"

step "edit --add arm.vib: refused for its machine (and its dependency), nothing written"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --add arm.vib
expect_grep "$why" err
expect_grep "vmkapi_3_0_0_0" err
expect_grep 'the edit is refused, nothing written' err
[ ! -e out.iso ] || fail "out.iso was written"

step "edit --add arm.vib --no-deps: still refused, for its machine alone"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --add arm.vib --no-deps
expect_grep "$why" err
expect_no_grep "vmkapi_3_0_0_0" err
[ ! -e out.iso ] || fail "out.iso was written"
expect_exit 1 "$ESXIMG" edit in.iso --dry-run --add arm.vib --no-deps
expect_grep "$why" err

step "the same VIB with an x86-64 module goes in with --no-deps, and hcl counts it"
expect_ok "$ESXIMG" edit in.iso -o x86.iso --add x86.vib --no-deps
expect_no_grep 'built for' err
expect_ok "$ESXIMG" hcl x86.iso --pci 10ec:8168/0200
expect_grep '^- +10ec:8168/0200 +network +rp1gem \(native\) +ok ' out
check_unchanged in.iso "$in_sha"
