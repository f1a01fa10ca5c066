#!/bin/sh
# t6201: `esximg diff` says when a VIB of the same name comes from another vendor (a community
# rebuild in place of the vendor's own), in text and --json, alone or with a version change,
# and says nothing of vendors when they agree.
. "$(dirname "$0")/lib.sh"
need_tool python3
export SOURCE_DATE_EPOCH=1700000000

step "three VIBs of one name: two vendors, two versions"
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o realtek.vib --name net-r8168 --version 8.045a-1 \
    --vendor Realtek --payload net-r816=pl
expect_ok "$ESXIMG" vib create -o custom.vib --name net-r8168 --version 8.045a-1 \
    --vendor custom --payload net-r816=pl
expect_ok "$ESXIMG" vib create -o custom2.vib --name net-r8168 --version 8.045a-2 \
    --vendor custom --payload net-r816=pl
for v in realtek custom custom2; do
    expect_ok "$ESXIMG" depot create -o "$v.zip" "$v.vib"
done

step "same name and version, other vendor: one vendor line, exit 3"
expect_exit 3 "$ESXIMG" diff realtek.zip custom.zip
expect_lines 1 out
expect_grep '^~ vib net-r8168 vendor Realtek -> custom$' out

step "other vendor and a newer version: both lines, version first"
expect_exit 3 "$ESXIMG" diff realtek.zip custom2.zip
expect_lines 2 out
sed -n 1p out | grep -q '^~ vib net-r8168 version 8.045a-1 -> 8.045a-2 (upgrade)$' ||
    fail "first line: $(sed -n 1p out)"
sed -n 2p out | grep -q '^~ vib net-r8168 vendor Realtek -> custom$' ||
    fail "second line: $(sed -n 2p out)"

step "the same vendor: no vendor line"
expect_exit 3 "$ESXIMG" diff custom.zip custom2.zip
expect_lines 1 out
expect_no_grep 'vendor' out

step "--json: a vib_vendor item with both vendors and both vib ids"
expect_exit 3 "$ESXIMG" diff --json realtek.zip custom2.zip
python3 - out <<'PY' || fail "json check failed"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["identical"] is False, j
whats = [d["what"] for d in j["differences"]]
assert whats == ["vib_version", "vib_vendor"], whats
v = j["differences"][1]
assert v["name"] == "net-r8168", v
assert v["old"] == "Realtek" and v["new"] == "custom", v
assert v["old_vib_id"] == "Realtek_bootbank_net-r8168_8.045a-1", v
assert v["new_vib_id"] == "custom_bootbank_net-r8168_8.045a-2", v
assert v["change"] is None, v
PY

step "a bundle against itself: identical, exit 0"
expect_ok "$ESXIMG" diff custom.zip custom.zip
[ ! -s out ] || fail "printed: $(cat out)"
