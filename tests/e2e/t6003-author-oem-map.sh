#!/bin/sh
# vib from-oem (an ESXi-Customizer OEM .tgz) and vib map-only: the VIBs read back, carry the
# expected descriptor and files, and the map lines have the exact native syntax.
. "$(dirname "$0")/lib.sh"
need_tool python3

step "an OEM .tgz with module, map and ids"
mkdir -p oem/usr/lib/vmware/vmkmod oem/etc/vmware/driver.map.d \
    oem/usr/share/hwdata/driver.pciids.d
printf '\177ELF fake module\n' >oem/usr/lib/vmware/vmkmod/r8168
printf 'regtype=linux,bus=pci,id=10ec:8168 0000:0000,driver=r8168,class=network\n' \
    >oem/etc/vmware/driver.map.d/r8168.map
printf '10ec  Realtek\n\t8168  RTL8111/8168\n' >oem/usr/share/hwdata/driver.pciids.d/r8168.ids
(cd oem && tar -czf ../r8168.tgz ./usr ./etc) || fail "tar"

step "from-oem with the defaults"
expect_ok "$ESXIMG" vib from-oem r8168.tgz -o r8168.vib --mtime 0
expect_ok "$ESXIMG" vib verify r8168.vib
expect_ok "$ESXIMG" vib info --json r8168.vib
python3 - <<'PY' || fail "from-oem descriptor"
import json
j = json.load(open("out"))
assert (j["name"], j["version"], j["vendor"]) == ("r8168", "1.0-1", "custom"), j
assert j["acceptance_level"] == "community" and j["tags"] == ["driver", "module"]
assert j["maintenance_mode"] and not j["live_install_allowed"]
assert j["files"] == ["etc/vmware/driver.map.d/r8168.map",
                      "usr/lib/vmware/vmkmod/r8168",
                      "usr/share/hwdata/driver.pciids.d/r8168.ids"], j["files"]
assert [(p["name"], p["type"]) for p in j["payloads"]] == [("r8168", "vgz")]
assert all(r == [] for r in j["relationships"].values())
PY

step "from-oem with options"
expect_ok "$ESXIMG" vib from-oem r8168.tgz -o net.vib --name net55-r8168 --version 8.045a-1 \
    --vendor Realtek --depends vmkapi_2_2_0_0 --acceptance partner
expect_ok "$ESXIMG" vib info net.vib
expect_grep '^vib-id: +Realtek_bootbank_net55-r8168_8.045a-1$' out
expect_grep '^acceptance-level: +partner$' out
expect_grep '^depends +vmkapi_2_2_0_0$' out
expect_grep '^payload: +net55-r8 type vgz ' out

step "the module's bytes are in the payload"
mkdir x && expect_ok "$ESXIMG" vib extract r8168.vib -C x
expect_ok "$ESXIMG" vmtar x x/r8168 -C tree
cmp -s tree/usr/lib/vmware/vmkmod/r8168 oem/usr/lib/vmware/vmkmod/r8168 || fail "module"

step "map-only with names"
expect_ok "$ESXIMG" vib map-only --driver vmw_ahci --pci 8086:A102 \
    --pci 1b4b:9215:1028:00fe --name "8086:a102=Intel SATA AHCI" --name "1b4b=Marvell" \
    --depends vmw-ahci -o ahci.vib --mtime 0
expect_ok "$ESXIMG" vib verify ahci.vib
expect_ok "$ESXIMG" vib info -v ahci.vib
expect_grep '^name: +vmw_ahci-map$' out
expect_grep '^depends +vmw-ahci$' out
expect_grep '^  etc/vmware/default.map.d/vmw_ahci-map.map$' out
expect_grep '^  usr/share/hwdata/default.pciids.d/vmw_ahci-map.ids$' out
expect_grep '^payload: +vmw_ahci type vgz ' out

step "the map and ids files, exactly"
mkdir y && expect_ok "$ESXIMG" vib extract ahci.vib -C y
expect_ok "$ESXIMG" vmtar x y/vmw_ahci -C mt
printf 'regtype=native,bus=pci,id=8086a102..............,driver=vmw_ahci\nregtype=native,bus=pci,id=1b4b9215102800fe......,driver=vmw_ahci\n' >want.map
expect_same_file mt/etc/vmware/default.map.d/vmw_ahci-map.map want.map
grep -Evq '^regtype=native,bus=pci,id=[0-9a-f]{8}([0-9a-f]{8}|\.{8})\.{6},driver=[0-9A-Za-z_.-]+$' \
    want.map && fail "map syntax"
grep -v '^#' mt/usr/share/hwdata/default.pciids.d/vmw_ahci-map.ids | grep -v '^$' >ids
printf '1b4b  Marvell\n8086  Vendor 8086\n\ta102  Intel SATA AHCI\n' >want.ids
expect_same_file ids want.ids

step "from-oem and map-only are deterministic"
(umask 027; TZ=Pacific/Auckland "$ESXIMG" vib map-only --driver vmw_ahci --pci 8086:A102 \
    --pci 1b4b:9215:1028:00fe --name "8086:a102=Intel SATA AHCI" --name "1b4b=Marvell" \
    --depends vmw-ahci -o ahci2.vib --mtime 0) || fail "second map-only"
expect_same_file ahci.vib ahci2.vib
expect_ok "$ESXIMG" vib from-oem r8168.tgz -o r8168b.vib --mtime 0
expect_same_file r8168.vib r8168b.vib

step "a map-only VIB added to an image makes its inbox driver claim a new NIC"
need_image_tools
expect_ok python3 "$GEN" --version 7.0 -o in.iso
# an Intel I225-V NIC: ne1000 of the image does not claim it
expect_exit 3 "$ESXIMG" hcl in.iso --pci 8086:15f3/0200
expect_grep 'NO DRIVER' out
expect_ok "$ESXIMG" vib map-only --driver ne1000 --pci 8086:15f3 \
    --name "8086:15f3=Ethernet Controller I225-V" -o i225.vib
expect_ok "$ESXIMG" edit in.iso -o mapped.iso --add i225.vib -q
expect_ok "$ESXIMG" ls mapped.iso
expect_grep 'ne1000-map' out
expect_ok "$ESXIMG" hcl mapped.iso --pci 8086:15f3/0200
expect_grep '8086:15f3/0200 +network +ne1000 \(native\) +ok' out

done_testing
