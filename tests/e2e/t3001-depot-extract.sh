#!/bin/sh
# depot extract on real bundles, checked against unzip; --select, --force, existing outputs.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool unzip
need_tool sha256sum

ISO="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO"
R8168="$ISO/6-updates/net55-r8168-8.045a-napi-offline_bundle.zip"
NETCOMM="$ISO/7-updates/Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip"
FLING65="$ISO/6-updates/ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip"

sum() { sha256sum | cut -d' ' -f1; }

step "extract a V-Front bundle"
mkdir dest
expect_ok "$ESXIMG" depot extract "$R8168" -C dest
[ "$(ls dest)" = "Realtek_bootbank_net55-r8168_8.045a-napi.vib" ] ||
    fail "dest holds: $(ls dest)"
[ "$(sum <dest/Realtek_bootbank_net55-r8168_8.045a-napi.vib)" = \
  "$(unzip -p "$R8168" net55-r8168-8.045a-napi.x86_64.vib | sum)" ] ||
    fail "bytes differ from unzip"

step "extract a component by --select"
expect_ok "$ESXIMG" depot extract --select net-community -C dest "$NETCOMM"
ID=VMW_bootbank_net-community_1.2.7.0-1vmw.700.1.0.15843807
[ "$(sum <dest/$ID.vib)" = "$(unzip -p "$NETCOMM" "vib20/net-community/$ID.vib" | sum)" ] \
    || fail "bytes differ from unzip"
[ "$(ls dest | wc -l)" -eq 2 ] || fail "dest holds: $(ls dest)"

step "extract from a zip holding the bundle zip"
mkdir nested
expect_ok "$ESXIMG" depot extract "$FLING65" -C nested
ID=VMW_bootbank_vmkusb-nic-fling_2.1-6vmw.650.2.50.39176435
unzip -p "$FLING65" ESXi650-VMKUSB-NIC-FLING-39176435-offline_bundle-16775917.zip >inner.zip
[ "$(sum <nested/$ID.vib)" = "$(unzip -p inner.zip "vib20/vmkusb-nic-fling/$ID.vib" | sum)" ] \
    || fail "bytes differ from unzip"

step "an existing output is kept unless --force"
R=dest/Realtek_bootbank_net55-r8168_8.045a-napi.vib
echo keep >$R
cp "$R8168" copy.zip
expect_exit 1 "$ESXIMG" depot extract copy.zip -C dest
expect_grep 'output exists' err
expect_grep 'Realtek_bootbank_net55-r8168_8\.045a-napi\.vib' err
[ "$(cat $R)" = keep ] || fail "the existing file was changed"
expect_ok "$ESXIMG" depot extract copy.zip -C dest --force
[ "$(sum <$R)" = "$(unzip -p "$R8168" net55-r8168-8.045a-napi.x86_64.vib | sum)" ] \
    || fail "--force did not replace the file"
cmp -s copy.zip "$R8168" || fail "the input changed"
[ -z "$(ls -A dest | grep '^\.')" ] || fail "a temporary file was left: $(ls -A dest)"

step "--select of an absent VIB fails and writes nothing"
mkdir empty
expect_exit 1 "$ESXIMG" depot extract "$R8168" -C empty --select nosuchvib
expect_grep "no vib named 'nosuchvib'" err
[ -z "$(ls -A empty)" ] || fail "empty holds: $(ls -A empty)"

step "extract into a missing directory fails naming it"
expect_exit 1 "$ESXIMG" depot extract "$R8168" -C "$T/no/such/dir"
expect_grep 'no/such/dir' err
expect_exit 2 "$ESXIMG" depot extract --json "$R8168"

done_testing
