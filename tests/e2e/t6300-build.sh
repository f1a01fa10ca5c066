#!/bin/sh
# t6300: `esximg build` on depots made in the test: the generator's full 7.0 depot (without
# loader payloads) plus a bundle of a VIB holding every loader payload type (made here: the VIB
# authoring code writes vgz and tgz payloads only), taken as the base image and the loaders'
# component.  The ISO has both El Torito entries, the loader
# files in their places and BOOT.CFG in VMware's order; `esximg info` finds no problem; the
# same inputs give the same bytes; --format bundle and pxe; --kernelopt, --title, --ks,
# --add, --component, --addon; refusals write nothing.
. "$(dirname "$0")/lib.sh"

step "help names every option; misuse is exit 2"
expect_ok "$ESXIMG" build --help
expect_grep '^usage: esximg build -o OUT --depot ZIP' out
for o in --output --depot --profile --base-image --addon --component --add --kernelopt \
         --title --ks --hybrid --format --pxe-prefix --json --quiet --verbose --help; do
    grep -q -- "$o" out || fail "--help does not name $o"
done
expect_exit 2 "$ESXIMG" build
expect_exit 2 "$ESXIMG" build -o out.iso --profile P
expect_grep 'at least one --depot' err
expect_exit 2 "$ESXIMG" build -o out.iso --depot d.zip
expect_grep '--profile NAME or --base-image' err
expect_exit 2 "$ESXIMG" build -o out.iso --depot d.zip --profile P --base-image 7.0
expect_exit 2 "$ESXIMG" build -o out.iso --depot d.zip --profile P --format tar
expect_exit 2 "$ESXIMG" build -o out.zip --depot d.zip --profile P --format bundle --ks ks.cfg
expect_exit 2 "$ESXIMG" build -o out.iso --depot d.zip --profile P --frobnicate
step "a missing depot is exit 1 naming it, nothing written"
expect_exit 1 "$ESXIMG" build -o out.iso --depot nothere.zip --profile P
expect_grep 'nothere.zip' err
[ ! -e out.iso ] || fail "out.iso was written"

need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "depots: a generated 7.0 full depot, and a bundle of a VIB of loader payloads"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --no-loader-payloads \
    -o gen.iso --depot base.zip --workdir gen
mkdir loaders
cp gen/tree/ISOLINUX.BIN loaders/isolinux.bin
cp gen/tree/EFIBOOT.IMG loaders/efiboot.img
cp gen/tree/EFI/BOOT/BOOTX64.EFI loaders/BOOTx64.EFI
cp gen/tree/MBOOT.C32 loaders/mboot.c32
cp gen/tree/LDLINUX.C32 loaders/ldlinux.c32
printf 'menu\n' >loaders/menu.c32
printf 'boot sector\n' >loaders/fatBootSector
printf 'open source licenses\n' >loaders/osl.txt
printf '<upgrade/>\n' >loaders/metadata.xml
python3 - <<'PY' || fail "cannot make the loader VIB"
import hashlib, os
types = {'isolinux.bin': 'boot_iso_bios', 'efiboot.img': 'eltorito_image_efi',
         'BOOTx64.EFI': 'boot_loader_efi', 'mboot.c32': 'boot_com32_bios',
         'ldlinux.c32': 'boot_com32_bios', 'menu.c32': 'boot_com32_bios',
         'fatBootSector': 'boot_com32_bios', 'osl.txt': 'text',
         'metadata.xml': 'upgrade'}
members, payloads = [], ''
for name in sorted(types):
    data = open('loaders/' + name, 'rb').read()
    payloads += ('<payload name="%s" type="%s" size="%d"><checksum checksum-type="sha-256">'
                 '%s</checksum></payload>' % (name, types[name], len(data),
                                              hashlib.sha256(data).hexdigest()))
    members.append((name, data))
desc = ('<vib version="5.0"><type>bootbank</type><name>esx-loaders</name>'
        '<version>7.0.2-0.0.17630552</version><vendor>VMware</vendor><summary>loaders</summary>'
        '<release-date>2021-03-09T00:00:00</release-date><acceptance-level>certified'
        '</acceptance-level><payloads>%s</payloads></vib>' % payloads).encode()
out = bytearray(b'!<arch>\n')
for name, data in [('descriptor.xml', desc), ('sig.pkcs7', b'')] + members:
    out += ('%-16s%-12s%-6s%-6s%-8s%-10d`\n' % (name, 0, 0, 0, 0, len(data))).encode()
    out += data + (b'\n' if len(data) % 2 else b'')
open('loaders.vib', 'wb').write(out)
PY
expect_ok "$ESXIMG" vib verify loaders.vib
expect_ok "$ESXIMG" depot create -o loaders.zip loaders.vib
# the base image's six components and the loaders' component (named after its VIB)
V=7.0.2-0.0.17630552
P=ESXi-$V-custom
SEL="--base-image $V --component esx-loaders"

step "an ISO from both depots: both boot entries, no problem for esximg info"
expect_ok "$ESXIMG" build -o a.iso --depot base.zip --depot loaders.zip $SEL
expect_grep "^wrote a.iso: iso of $P, 7 VIBs$" out
[ ! -s err ] || fail "warnings: $(cat err)"
expect_ok "$ESXIMG" info --json a.iso
python3 - <<'PY' || fail "esximg info does not see the image built"
import json
i = json.load(open('out'))
assert i['problems'] == [], i['problems']
assert i['boot']['bios'] and i['boot']['uefi'], i['boot']
assert i['boot']['entries'][0]['boot_info_table'], i['boot']
assert i['volume_id'] == 'ESXI-7.0.2-0.0.17630552-CUSTOM', i['volume_id']
assert i['profile']['name'] == 'ESXi-7.0.2-0.0.17630552-custom', i['profile']
assert i['vib_count'] == 7, i['vib_count']
PY
expect_ok "$ESXIMG" ls --files a.iso
for f in /ISOLINUX.BIN /ISOLINUX.CFG /BOOT.CAT /EFIBOOT.IMG /EFI/BOOT/BOOTX64.EFI \
         /EFI/BOOT/BOOT.CFG /MBOOT.C32 /LDLINUX.C32 /MENU.C32 /OSL.TXT /IMGDB.TGZ \
         /IMGPAYLD.TGZ /B.B00 /S.V00 /UPGRADE/METADATA.XML; do
    grep -q " $f\$\|^$f\$\|^$f " out || fail "$f is not on the image: $(cat out)"
done
expect_no_grep 'FATBOOTS' out
xorriso -indev a.iso -report_el_torito plain >xo 2>&1 || fail "xorriso cannot read a.iso"
grep -q 'El Torito boot img :   1  BIOS' xo || fail "no BIOS entry: $(cat xo)"
grep -q 'El Torito boot img :   2  UEFI' xo || fail "no UEFI entry: $(cat xo)"

step "BOOT.CFG lists the boot modules in VMware's order, the database last"
xorriso -osirrox on -indev a.iso -extract /BOOT.CFG boot.cfg >/dev/null 2>&1 ||
    fail "cannot extract BOOT.CFG"
expect_grep '^kernel=/b.b00$' boot.cfg
expect_grep '^modules=/jumpstrt.gz --- /useropts.gz --- /k.b00 --- /sb.v00 --- /s.v00 ---' \
    boot.cfg
expect_grep ' --- /tools.t00 --- /imgdb.tgz --- /imgpayld.tgz$' boot.cfg
expect_grep '^kernelopt=cdromBoot runweasel$' boot.cfg
expect_grep '^build=7.0.2-0.0.17630552$' boot.cfg

step "the same inputs give the same bytes"
expect_ok "$ESXIMG" build -o b.iso --depot loaders.zip --depot base.zip $SEL -q
[ ! -s out ] || fail "-q printed: $(cat out)"
cmp a.iso b.iso || fail "two builds differ"

step "--json says what was built; --hybrid adds the MBR a USB stick boots from"
expect_ok "$ESXIMG" build -o h.iso --depot base.zip --depot loaders.zip $SEL \
    --hybrid --json
python3 - <<'PY' || fail "json: $(cat out)"
import json
j = json.load(open('out'))
assert j['format'] == 'iso' and j['output'] == 'h.iso', j
assert j['profile'] == 'ESXi-7.0.2-0.0.17630552-custom', j
assert j['version'] == '7.0.2-0.0.17630552', j
assert len(j['vibs']) == 7 and j['modules'][0] == '/b.b00', j
assert j['modules'][-2:] == ['/imgdb.tgz', '/imgpayld.tgz'], j['modules']
assert j['kernelopt'] == 'cdromBoot runweasel', j['kernelopt']
PY
[ "$(od -An -tx1 -j510 -N2 h.iso | tr -d ' ')" = 55aa ] || fail "h.iso has no MBR signature"
[ "$(od -An -tx1 -j510 -N2 a.iso | tr -d ' ')" != 55aa ] || fail "a.iso is hybrid"
expect_ok "$ESXIMG" info --json h.iso
python3 -c "import json,sys; i=json.load(open('out')); sys.exit(1 if i['problems'] else 0)" ||
    fail "problems: $(cat out)"

step "--component NAME takes the newest version of the depots, NAME:VERSION that one"
mkdir -p nic/payloads/ne1000/etc
printf 'newer\n' >nic/payloads/ne1000/etc/ne1000.conf
expect_ok "$ESXIMG" vib create -o ne1000.vib --payload ne1000=nic/payloads/ne1000 \
    --name ne1000 --version 9.9-1 --vendor VMW --acceptance partner
expect_ok "$ESXIMG" depot create -o nic.zip ne1000.vib
expect_ok "$ESXIMG" build -o nic.iso --depot base.zip --depot loaders.zip --depot nic.zip \
    $SEL
expect_ok "$ESXIMG" ls nic.iso
expect_grep '^ne1000 +0\.8\.3-4vmw' out
# nic.zip has no metadata naming its VIB: it only counts where a component is asked for
expect_ok "$ESXIMG" build -o new.iso --depot base.zip --depot loaders.zip --depot nic.zip \
    $SEL --component ne1000
expect_ok "$ESXIMG" ls new.iso
expect_grep '^ne1000 +9\.9-1 ' out
[ "$(grep -c '^ne1000 ' out)" -eq 1 ] || fail "two ne1000: $(cat out)"
expect_ok "$ESXIMG" build -o comp.iso --depot base.zip --depot loaders.zip --depot nic.zip \
    $SEL --component ne1000:0.8.3-4vmw.702.0.0.17630552
expect_ok "$ESXIMG" ls comp.iso
expect_grep '^ne1000 +0\.8\.3-4vmw' out
expect_exit 1 "$ESXIMG" build -o no.iso --depot base.zip --depot loaders.zip $SEL \
    --component ne1000:1.0
expect_grep "component 'ne1000' version '1\.0' .*is in no depot" err
expect_exit 2 "$ESXIMG" build -o no.iso --depot - $SEL

step "boot options and a kickstart"
printf 'vmaccepteula\ninstall --firstdisk --overwritevmfs\nrootpw Secret-123\nreboot\n' >ks.cfg
expect_ok "$ESXIMG" build -o k.iso --depot base.zip --depot loaders.zip $SEL \
    --kernelopt autoPartition=TRUE --kernelopt -cdromBoot --title "Custom installer" \
    --ks ks.cfg
expect_ok "$ESXIMG" info --json k.iso
python3 -c "import json,sys; i=json.load(open('out')); sys.exit(1 if i['problems'] else 0)" ||
    fail "problems: $(cat out)"
xorriso -osirrox on -indev k.iso -extract /EFI/BOOT/BOOT.CFG kboot.cfg >/dev/null 2>&1 ||
    fail "cannot extract EFI/BOOT/BOOT.CFG"
expect_grep '^kernelopt=runweasel autoPartition=TRUE ks=cdrom:/KS.CFG$' kboot.cfg
expect_grep '^title=Custom installer$' kboot.cfg

step "--add puts a package on the built image as edit does"
mkdir -p drv/payloads/drv/etc
printf 'x\n' >drv/payloads/drv/etc/drv.conf
expect_ok "$ESXIMG" vib create -o drv.vib --payload drv=drv/payloads/drv --name test-drv \
    --version 1.0-1 --vendor Test --acceptance community
expect_ok "$ESXIMG" build -o add.iso --depot base.zip --depot loaders.zip $SEL \
    --add drv.vib
expect_ok "$ESXIMG" ls add.iso
expect_grep '^test-drv ' out
ls add.iso.build-* >/dev/null 2>&1 && fail "a temporary image was left behind"

step "--base-image alone, --addon, and what is not in the depots"
expect_ok "$ESXIMG" build -o base.iso --depot base.zip --depot loaders.zip --base-image "$V"
expect_grep "^wrote base.iso: iso of $P, 6 VIBs$" out
expect_ok "$ESXIMG" build -o addon.iso --depot base.zip --depot loaders.zip $SEL \
    --addon ESXIMGTEST-addon
expect_grep '^wrote addon.iso: iso of ESXIMGTEST-addon_7.0.2-1, 6 VIBs$' out
expect_exit 1 "$ESXIMG" build -o no.iso --depot base.zip --base-image 8.0.0-1.0.1
expect_grep "base image '8.0.0-1.0.1' is in no depot" err
expect_exit 1 "$ESXIMG" build -o no.iso --depot base.zip --base-image "$V" --addon HPE
expect_grep "add-on 'HPE' is in no depot" err
expect_exit 1 "$ESXIMG" build -o no.iso --depot base.zip --base-image "$V" --component nothere
expect_grep "component 'nothere'" err
expect_exit 2 "$ESXIMG" build -o no.iso --depot base.zip --profile P --component ne1000
expect_grep 'an image profile is taken whole' err
[ ! -e no.iso ] || fail "no.iso was written"
ls no.iso.build-* >/dev/null 2>&1 && fail "a work folder was left behind"

step "without loader payloads: a warning, still an image info accepts"
expect_ok "$ESXIMG" build -o plain.iso --depot base.zip --base-image "$V"
expect_grep 'no El Torito entry' err

step "--format bundle: the selected VIBs as an offline bundle"
expect_ok "$ESXIMG" build -o sel.zip --format bundle --depot base.zip --depot loaders.zip \
    $SEL --json
python3 -c "import json; j=json.load(open('out')); assert j['format']=='bundle' and \
len(j['vibs'])==7, j" || fail "json: $(cat out)"
expect_ok "$ESXIMG" depot ls sel.zip
# the VIBs, then the image profile and the base image of the result (t6305 builds from one)
[ "$(grep -vc -e '^profile ' -e '^base-image ' -e '^addon ' out)" -eq 7 ] ||
    fail "the bundle does not hold 7 VIBs: $(cat out)"
expect_grep '^profile ' out
expect_grep '^base-image ' out

step "--format pxe: a folder with mboot.efi, the modules and boot.cfg with its prefix"
expect_ok "$ESXIMG" build -o pxe --format pxe --depot base.zip --depot loaders.zip \
    $SEL --pxe-prefix esxi70
for f in mboot.efi bootx64.efi mboot.c32 b.b00 s.v00 imgdb.tgz imgpayld.tgz boot.cfg; do
    [ -f "pxe/$f" ] || fail "pxe/$f is missing: $(ls pxe)"
done
[ ! -e pxe/isolinux.bin ] || fail "pxe holds isolinux.bin"
expect_grep '^prefix=esxi70$' pxe/boot.cfg
expect_grep '^kernel=b.b00$' pxe/boot.cfg
expect_grep '^modules=jumpstrt.gz --- useropts.gz --- k.b00' pxe/boot.cfg
expect_exit 1 "$ESXIMG" build -o pxe --format pxe --depot base.zip --depot loaders.zip \
    $SEL
expect_grep 'exists already' err
expect_ok "$ESXIMG" build -o pxe2 --format pxe --depot loaders.zip --depot base.zip \
    $SEL --pxe-prefix esxi70
diff -r pxe pxe2 >/dev/null || fail "two PXE folders differ"
(cd pxe && find . -printf '%P %T@ %s\n' | sort) >pxe.lst
(cd pxe2 && find . -printf '%P %T@ %s\n' | sort) >pxe2.lst
expect_same_file pxe.lst pxe2.lst
expect_grep '^boot.cfg 1700000000(\.0+)? ' pxe.lst

done_testing
