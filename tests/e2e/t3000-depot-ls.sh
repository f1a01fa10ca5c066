#!/bin/sh
# depot ls on real bundles: text lines, -v, --json, a nested bundle, determinism.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool python3

ISO="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO"
R8168="$ISO/6-updates/net55-r8168-8.045a-napi-offline_bundle.zip"
NETCOMM="$ISO/7-updates/Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip"
FLING65="$ISO/6-updates/ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip"
# versions and paths, dots escaped for the regular expressions
R8168_VIB='net55-r8168-8\.045a-napi\.x86_64\.vib'
NC_VER='1\.2\.7\.0-1vmw\.700\.1\.0\.15843807'
FL_VER='2\.1-6vmw\.650\.2\.50\.39176435'
FL_ZIP='ESXi650-VMKUSB-NIC-FLING-39176435-offline_bundle-16775917\.zip'
R8168_SUM=b50ce94b24dc1760d231a72a6f4a0d2fbcfbeb4e6c8bf5cd35767b9a937c57a7

step "ls a V-Front bundle"
expect_ok "$ESXIMG" depot ls "$R8168"
expect_lines 1 out
expect_grep "^net55-r8168 8\\.045a-napi Realtek community - $R8168_VIB\$" out
[ ! -s err ] || fail "unexpected stderr: $(cat err)"

step "ls a 7.0 component names its component"
expect_ok "$ESXIMG" depot ls "$NETCOMM"
expect_lines 1 out
expect_grep "^net-community $NC_VER VMW certified Net-Community-Driver_$NC_VER \
vib20/net-community/VMW_bootbank_net-community_$NC_VER\\.vib\$" out

step "ls -v adds size, sha-256 and the metadata check"
expect_ok "$ESXIMG" depot ls -v "$R8168"
expect_grep "^net55-r8168 8\\.045a-napi Realtek community - 1142562 $R8168_SUM ok $R8168_VIB\$" out
expect_grep 'vfront bundle, 1 vib' err

step "ls a zip holding the bundle zip"
expect_ok "$ESXIMG" depot ls "$FLING65"
expect_grep "^vmkusb-nic-fling $FL_VER VMW accepted - \
$FL_ZIP/vib20/vmkusb-nic-fling/VMW_bootbank_vmkusb-nic-fling_$FL_VER\\.vib\$" out

step "ls --json parses and has the fields"
expect_ok "$ESXIMG" depot ls --json "$NETCOMM"
python3 - out <<'PY' || fail "json check failed"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "vmware", d["kind"]
assert d["vendor_code"] == "VMX", d
assert d["metadata_urls"][0]["url"] == "metadata.zip"
assert len(d["vibs"]) == 1
v = d["vibs"][0]
assert v["vib_id"] == "VMW_bootbank_net-community_1.2.7.0-1vmw.700.1.0.15843807"
assert v["name"] == "net-community" and v["vendor"] == "VMW"
assert v["acceptance"] == "certified" and v["signed"] is True
assert v["size"] == 229174 and isinstance(v["size"], int)
assert v["metadata"]["check"] == "ok"
assert v["metadata"]["packed_size"] == v["size"]
assert v["metadata"]["sha256"] == v["sha256"]
assert v["components"] == ["Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807"]
c = d["components"][0]
assert c["name"] == "Net-Community-Driver"
assert c["version"] == "1.2.7.0-1vmw.700.1.0.15843807"
assert c["name_ui"] == "Community Network Devices Driver"
assert c["vib_ids"] == [v["vib_id"]]
assert d["warnings"] == []
PY
"$ESXIMG" depot ls --json "$FLING65" >nested.json
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "nested" and d["vibs"][0]["container"].endswith(".zip")' nested.json \
    || fail "nested json"

step "output is deterministic"
"$ESXIMG" depot ls --json "$FLING65" >a.json
TZ=Asia/Tokyo "$ESXIMG" depot ls --json "$FLING65" >b.json
expect_same_file a.json b.json

step "usage errors"
expect_exit 2 "$ESXIMG" depot ls
expect_exit 2 "$ESXIMG" depot ls "$R8168" extra
expect_exit 2 "$ESXIMG" depot ls --select x "$R8168"
expect_exit 2 "$ESXIMG" depot frobnicate "$R8168"
expect_ok "$ESXIMG" depot --help
for opt in --directory --select --force --json --verbose --quiet --help; do
    expect_grep "$opt" out
done
expect_exit 1 "$ESXIMG" depot ls "$T/missing.zip"
expect_grep "missing\.zip" err

done_testing
