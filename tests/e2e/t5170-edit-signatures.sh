#!/bin/sh
# t5170: signed VIBs stay signed. `edit` keeps, beside each added VIB's vibs/<file>.xml, the
# descriptor as signed (.xml.orig) and its sig.pkcs7 (.xml.sig), as a host does; `export` gives
# the signed VIB back with the same descriptor and signature; `info` says whether the image boots
# with UEFI Secure Boot on and what prevents it; `info --verify` finds a signature that lost a
# file or does not sign its descriptor. Real signed packages: the USB NIC Fling for 8.0U3,
# nvme-community (6.7), Net-Community-Driver (7.0); unsigned: ghettoVCB and net-r8125 (community).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools
need_tool openssl
need_tool ar
PKG_FLING80="$ITI/8-updates/ESXi80U3-VMKUSB-NIC-FLING-75399077-component-24052746.zip"

# db_member ISO SUFFIX DEST: the one IMGDB.TGZ member under vibs/ named <VIB name>-*SUFFIX
db_member() {
    iso_get "$1" /IMGDB.TGZ db.tgz
    python3 - "$2" "$3" "$4" <<'PY' || fail "vibs/$2-*$3 of $1"
import sys, tarfile
name, suffix, dest = sys.argv[1:]
t = tarfile.open('db.tgz')
hits = [m for m in t.getmembers() if m.name.startswith('var/db/esximg/vibs/' + name + '-')
        and m.name.endswith(suffix) and m.name[len('var/db/esximg/vibs/' + name + '-'):]
        .lstrip('-').split('.')[0].isdigit()]
if len(hits) != 1:
    sys.exit('%d members vibs/%s-*%s' % (len(hits), name, suffix))
open(dest, 'wb').write(t.extractfile(hits[0]).read())
PY
}

# db_count ISO NAME SUFFIX: how many vibs/ members of IMGDB.TGZ start with NAME- and end in SUFFIX
db_count() {
    iso_get "$1" /IMGDB.TGZ db.tgz
    python3 -c '
import sys, tarfile
n = [m.name for m in tarfile.open("db.tgz").getmembers()
     if m.name.startswith("var/db/esximg/vibs/" + sys.argv[1] + "-") and m.name.endswith(sys.argv[2])]
print(len(n))' "$2" "$3"
}

gen_image 8.0 in8.iso
gen_image 7.0 in7.iso
gen_image 6.7 in6.iso
sha256sum in8.iso in7.iso in6.iso >in.sum

step "generated images are signed: info says Secure Boot can stay on"
for v in 8 7 6; do
    expect_ok "$ESXIMG" info "in$v.iso"
    expect_grep '^secure boot: +ready \(every VIB signed, none community-supported\)$' out
done
expect_ok "$ESXIMG" info --json in8.iso
cp out info8.json
expect_ok python3 -c '
import json, sys
j = json.load(open("info8.json"))
sys.exit(0 if j["secure_boot"] == {"ready": True, "blockers": []} else j["secure_boot"])'

step "8.0 + the USB NIC Fling (VMware-signed): .xml, .xml.orig and .xml.sig in IMGDB.TGZ"
fling=$(bundle_vib "$PKG_FLING80" fling.d)
unpack_vib "$fling" fling
expect_ok "$ESXIMG" edit in8.iso -o fling.iso --add "$PKG_FLING80" --no-deps --dry-run
expect_grep '^database: add vibs/vmkusb-nic-fling-[-0-9]*\.xml\.orig and vibs/vmkusb-nic-fling-[-0-9]*\.xml\.sig$' out
expect_ok "$ESXIMG" edit in8.iso -o fling.iso --add "$PKG_FLING80" --no-deps
expect_no_grep 'Secure Boot' err
db_member fling.iso vmkusb-nic-fling .xml xml
db_member fling.iso vmkusb-nic-fling .xml.orig orig
db_member fling.iso vmkusb-nic-fling .xml.sig sig
expect_same_file orig fling/descriptor.xml
expect_same_file xml fling/descriptor.xml
expect_same_file sig fling/sig.pkcs7
expect_ok openssl smime -verify -noverify -binary -inform PEM -in sig -content orig -out /dev/null
check_edit in8.iso fling.iso --add fling

step "the Fling image still boots with Secure Boot on; info --verify checks the signature"
expect_ok "$ESXIMG" info --verify fling.iso
expect_grep '^secure boot: +ready ' out
expect_grep '^problems: +none$' out

step "export gives the Fling back signed: descriptor, sig.pkcs7 and payload byte for byte"
expect_ok "$ESXIMG" export fling.iso -o fling.zip
mkdir back
expect_ok "$ESXIMG" depot extract fling.zip -C back -q
back=$(ls back/*vmkusb-nic-fling*.vib)
for m in descriptor.xml sig.pkcs7 vmkusb-n; do
    ar p "$back" "$m" >"back.$m"
    ar p "$fling" "$m" >"orig.$m"
    expect_same_file "back.$m" "orig.$m"
done
[ "$(wc -c <"$back")" -eq "$(wc -c <"$fling")" ] || fail "the exported VIB has another size"
expect_ok "$ESXIMG" vib verify "$back"

step "6.7 + nvme-community and 7.0 + Net-Community-Driver (VMware-signed): still ready"
expect_ok "$ESXIMG" edit in6.iso -o nvme.iso --add "$PKG_NVME"
expect_no_grep 'Secure Boot' err
expect_ok "$ESXIMG" info --verify nvme.iso
expect_grep '^secure boot: +ready ' out
[ "$(db_count nvme.iso nvme-community .xml.sig)" = 1 ] || fail "no .xml.sig for nvme-community"
expect_ok "$ESXIMG" edit in7.iso -o netcomm.iso --add "$PKG_NETCOMM"
expect_no_grep 'Secure Boot' err
expect_ok "$ESXIMG" info --verify netcomm.iso
expect_grep '^secure boot: +ready ' out
[ "$(db_count netcomm.iso net-community .xml.orig)" = 1 ] || fail "no .xml.orig"

step "adding an unsigned community VIB warns once and info names it"
expect_ok "$ESXIMG" edit nvme.iso -o ghetto.iso --add "$PKG_GHETTO"
[ "$(grep -c 'UEFI Secure Boot' err)" -eq 1 ] || fail "not one Secure Boot warning: $(cat err)"
expect_grep "warning: the image could boot with UEFI Secure Boot on; after this edit it cannot, Secure Boot must be off: 'virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0' is community-supported and not signed$" err
expect_exit 0 "$ESXIMG" info ghetto.iso
expect_grep '^secure boot: +not ready: UEFI Secure Boot must be off \(1 reason\)$' out
expect_grep "^  VIB 'virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0' is community-supported and not signed$" out
[ "$(db_count ghetto.iso ghettoVCB .xml.sig)" = 0 ] || fail "an unsigned VIB got a .xml.sig"
[ "$(db_count ghetto.iso nvme-community .xml.sig)" = 1 ] || fail "nvme-community lost its .xml.sig"
step "an image already not ready: no warning"
expect_ok "$ESXIMG" edit ghetto.iso -o ghetto2.iso --add "$PKG_R8125" --no-deps
expect_no_grep 'Secure Boot' err

step "removing the VIB removes its .orig and .sig; the kept ones keep theirs"
expect_ok "$ESXIMG" edit nvme.iso -o nonvme.iso --remove nvme-community
[ "$(db_count nonvme.iso nvme-community '')" = 0 ] || fail "files of nvme-community are left"
check_edit nvme.iso nonvme.iso --remove nvme-community
expect_ok "$ESXIMG" edit ghetto.iso -o back6.iso --remove ghettoVCB
expect_ok "$ESXIMG" info back6.iso
expect_grep '^secure boot: +ready ' out
check_edit ghetto.iso back6.iso --remove ghettoVCB --acceptance partner

step "a signature that lost its .orig, or does not sign it, is a problem (--verify for the second)"
gen_image 7.0 noorig.iso --break no-sig-orig
expect_exit 3 "$ESXIMG" info noorig.iso
expect_grep "^  VIB 'VMW_bootbank_atlantic_[^']*' is signed \(vibs/atlantic-[-0-9]*\.xml\.sig\) but vibs/atlantic-[-0-9]*\.xml\.orig, the descriptor as signed, is missing$" out
expect_grep "^  VIB 'VMW_bootbank_atlantic_[^']*' has a broken signature \(see the problems\)$" out
gen_image 7.0 otherbytes.iso --break sig-other-bytes
expect_ok "$ESXIMG" info otherbytes.iso
expect_exit 3 "$ESXIMG" info --verify otherbytes.iso
expect_grep "^  VIB 'VMW_bootbank_atlantic_[^']*': vibs/atlantic-[-0-9]*\.xml\.sig does not sign vibs/atlantic-[-0-9]*\.xml\.orig " out
expect_grep '^secure boot: +not ready' out
expect_exit 1 "$ESXIMG" export otherbytes.iso -o other.zip
expect_grep 'does not sign its descriptor' err
[ ! -e other.zip ] || fail "export wrote a VIB with a broken signature"

step "a module named like a reserved one (s, sb, esxcore, esxupdt) keeps Secure Boot off"
mkdir -p stage/etc
echo x >stage/etc/x.conf
expect_ok "$ESXIMG" vib create -o s.vib --name s-extra --version 1.0-1 --vendor VMware \
    --acceptance certified --payload s=stage
expect_exit 1 "$ESXIMG" edit in7.iso -o s.iso --add s.vib --no-deps
expect_grep "module '/s\.v01' is a second module named 's'" err
[ ! -e s.iso ] || fail "a refused edit wrote s.iso"
# both BOOT.CFG copies load /SB.V00 instead of /sb.v00: mboot would not check it
cp in7.iso upper.iso
expect_ok python3 - <<'PY'
data = bytearray(open('upper.iso', 'rb').read())
old = b' --- /sb.v00 --- '
n = data.count(old)
if n != 2:
    raise SystemExit('%d BOOT.CFG items /sb.v00' % n)
open('upper.iso', 'wb').write(data.replace(old, b' --- /SB.V00 --- '))
PY
expect_exit 3 "$ESXIMG" info upper.iso
expect_grep "^secure boot: +not ready" out
expect_grep "^  module '/SB\.V00' is named like the reserved 'sb' in another case: the loader would not check it$" out

step "nothing changed the inputs"
sha256sum -c in.sum >/dev/null || fail "an input changed"

done_testing
