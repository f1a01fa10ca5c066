#!/bin/sh
# t5300: `esximg edit IN.iso --base DEPOT.zip`: a 7.0 image with an added community VIB, a
# custom title and kernel option, moved to the generator's `--patch 1` depot: esx-base and
# the VMware VIBs at the patch's versions, the community VIB kept with its module bytes, the
# title and option kept, BOOT.CFG build= updated, `esximg info` without problems; a downgrade
# refused and then allowed; a kept VIB pinned to the old esx-base refused in edit's words;
# options --base does not take refused; nothing left behind on failure; the rebased image
# boots under OVMF and (screen through SeaBIOS's sercon) under SeaBIOS when QEMU is there.
. "$(dirname "$0")/lib.sh"

step "help names --base and --allow-downgrade; misuse is exit 2"
expect_ok "$ESXIMG" edit --help
grep -q -- '--base DEPOT' out || fail 'help does not name --base'
grep -q -- '--allow-downgrade' out || fail 'help does not name --allow-downgrade'
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --allow-downgrade
expect_grep 'needs --base' err
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --base d.zip -a x.vib
expect_grep 'base takes only' err
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --base -

need_image_tools
export SOURCE_DATE_EPOCH=1700000000
TITLE="esximg rebase check $$"

step "a 7.0 image with a community VIB, a title and a kernel option; the patch 1 depot"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 -o gen.iso --depot p0.zip
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --patch 1 --depot p1.zip
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o r8168.vib --name net-r8168 --version 8.045a-1 \
    --vendor custom --payload net-r816=pl
expect_ok "$ESXIMG" edit gen.iso -o in.iso -a r8168.vib --title "$TITLE" \
    -k allowLegacyCPU=true
sha256sum in.iso p1.zip >in.sum

step "a dry run lists every VIB's fate and writes nothing"
mkdir dry && cd dry
expect_ok "$ESXIMG" edit ../in.iso --base ../p1.zip -o out.iso -n
expect_grep '^update +esx-base 7.0.2-0.0.17630552 -> 7.0.2-0.5.17631552$' out
expect_grep '^update +ne1000 0.8.3-4vmw.702.0.0.17630552 -> 0.8.3-4vmw.702.0.5.17631552$' out
expect_grep '^same +tools-light ' out
expect_grep '^keep +net-r8168 8.045a-1$' out
expect_grep '^depot set: profile ESXi-7.0.2-17631552-standard$' out
[ -z "$(ls -A . | grep -v -x -e out -e err)" ] || fail "the dry run wrote $(ls -A .)"
cd ..

step "the move: VMware VIBs at the patch, the community VIB kept byte for byte"
expect_ok "$ESXIMG" edit in.iso --base p1.zip -o out.iso
expect_grep '^wrote out.iso: esx-base 7.0.2-0.0.17630552 -> 7.0.2-0.5.17631552, 5 VIBs updated, 0 added, 1 kept$' out
sha256sum -c --quiet in.sum || fail "an input was modified"
expect_ok "$ESXIMG" ls --vibs out.iso
expect_grep '^esx-base +7.0.2-0.5.17631552 ' out
for v in atlantic ne1000 nvme vmw-ahci; do
    grep -Eq "^$v +[^ ]*vmw\.702\.0\.5\.17631552 " out || fail "$v is not at the patch's version"
done
expect_grep '^tools-light +11.0.0.7548558-8169922 ' out
expect_grep '^net-r8168 +8.045a-1 +custom +community .*NET_R816.V00$' out
expect_ok "$ESXIMG" info out.iso
expect_grep '^problems: +none$' out
# the patch's base image is the image's record now (the generator's ISO had none)
expect_grep '^base image: +ESXi_7.0.2-0.5.17631552$' out
for f in NET_R816.V00 BOOT.CFG; do
    xorriso -osirrox on -indev in.iso -extract "/$f" "in-$f" >/dev/null 2>&1 ||
        fail "cannot extract $f from in.iso"
    xorriso -osirrox on -indev out.iso -extract "/$f" "out-$f" >/dev/null 2>&1 ||
        fail "cannot extract $f from out.iso"
done
cmp -s in-NET_R816.V00 out-NET_R816.V00 || fail "the community module changed"
expect_grep '^build=7.0.2-0.5.17631552$' out-BOOT.CFG
expect_grep "^title=$TITLE\$" out-BOOT.CFG
expect_grep '^kernelopt=cdromBoot runweasel allowLegacyCPU=true$' out-BOOT.CFG
expect_grep '/net_r816.v00 --- /imgdb.tgz' out-BOOT.CFG

step "the same inputs give the same bytes"
expect_ok "$ESXIMG" edit in.iso --base p1.zip -o again.iso -q
cmp -s out.iso again.iso || fail "two runs gave different images"

step "a kickstart stays, with its boot option; --profile-name names the image"
printf '%s\n' vmaccepteula 'install --firstdisk --overwritevmfs' 'rootpw VMware1!' \
    'network --bootproto=dhcp' >plain.ks
expect_ok "$ESXIMG" edit in.iso -o ks-in.iso --ks plain.ks
expect_ok "$ESXIMG" edit ks-in.iso --base p1.zip -o ks-out.iso --profile-name ESXi-7.0.2-p1-ks
xorriso -osirrox on -indev ks-out.iso -extract /KS.CFG ks-out.cfg >/dev/null 2>&1 ||
    fail "the rebased image has no /KS.CFG"
cmp -s plain.ks ks-out.cfg || fail "the kickstart changed"
xorriso -osirrox on -indev ks-out.iso -extract /BOOT.CFG ks-boot.cfg >/dev/null 2>&1 ||
    fail "cannot extract BOOT.CFG"
expect_grep '^kernelopt=cdromBoot runweasel allowLegacyCPU=true ks=cdrom:/KS.CFG$' ks-boot.cfg
[ "$(grep -c 'ks=' ks-boot.cfg)" -eq 1 ] || fail "ks= is given twice"
expect_ok "$ESXIMG" info ks-out.iso
expect_grep '^image profile: +ESXi-7.0.2-p1-ks$' out
expect_grep '^problems: +none$' out

step "a depot without image profiles: its newest base image is the set"
python3 - <<'PY' || fail "cannot make the depot without profiles"
import io, zipfile
src = zipfile.ZipFile('p1.zip')
out = zipfile.ZipFile('p1-noprof.zip', 'w', zipfile.ZIP_DEFLATED)
for member in src.infolist():
    data = src.read(member.filename)
    if member.filename == 'metadata.zip':
        meta, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
        inner = zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED)
        for m in meta.infolist():
            if not m.filename.startswith('profiles/'):
                inner.writestr(m, meta.read(m.filename))
        # metadata esximg does not understand: a warning, as build gives it
        inner.writestr('solutions/x.json', '{}')
        inner.close()
        data = buf.getvalue()
    out.writestr(member, data)
out.close()
PY
expect_ok "$ESXIMG" edit in.iso --base p1-noprof.zip -o noprof.iso -n
expect_grep '^depot set: base image ESXi_7.0.2-0.5.17631552$' out
expect_grep "warning: p1-noprof.zip: .*solutions/x.json" err
expect_grep '^keep +net-r8168 8.045a-1$' out
expect_ok "$ESXIMG" edit in.iso --base p1-noprof.zip -o noprof.iso
expect_ok "$ESXIMG" ls --vibs noprof.iso
expect_grep '^esx-base +7.0.2-0.5.17631552 ' out
expect_grep '^net-r8168 +8.045a-1 ' out
expect_ok "$ESXIMG" info noprof.iso
expect_grep '^base image: +ESXi_7.0.2-0.5.17631552$' out

step "back to the older depot: a downgrade, refused naming the VIB, then allowed"
expect_exit 1 "$ESXIMG" edit out.iso --base p0.zip -o down.iso
expect_grep "'esx-base': the image has 7.0.2-0.5.17631552, the depot 7.0.2-0.0.17630552: taking it is a downgrade" err
expect_grep 'the move to the new base is refused, nothing written' err
[ ! -e down.iso ] || fail "a refused downgrade wrote down.iso"
[ -z "$(ls -A . | grep -e '^\.down' -e 'down.iso')" ] || fail "temporary files left: $(ls -A .)"
expect_ok "$ESXIMG" edit out.iso --base p0.zip -o down.iso --allow-downgrade
expect_ok "$ESXIMG" ls --vibs down.iso
expect_grep '^esx-base +7.0.2-0.0.17630552 ' out
expect_ok "$ESXIMG" info down.iso
expect_grep '^base image: +ESXi_7.0.2-0.0.17630552$' out

step "a kept VIB pinned to the old esx-base is refused in edit's words"
expect_ok "$ESXIMG" vib create -o fling.vib --name vmkusb-nic-fling --version 1.0-1 \
    --vendor VMW --payload vmkusb=pl --depends "esx-base << 7.0.2-0.1"
expect_ok "$ESXIMG" edit gen.iso -o fling-in.iso -a fling.vib
expect_exit 1 "$ESXIMG" edit fling-in.iso --base p1.zip -o fling-out.iso
expect_grep "^esximg: fling-in.iso: 'vmkusb-nic-fling 1.0-1' depends on 'esx-base << 7.0.2-0.1', which no VIB provides .* \(--no-deps skips this check\)$" err
[ ! -e fling-out.iso ] || fail "a refused move wrote fling-out.iso"
[ -z "$(ls -A . | grep fling-out)" ] || fail "temporary files left: $(ls -A .)"

step "a missing depot fails naming it"
expect_exit 1 "$ESXIMG" edit in.iso --base nothere.zip -o x.iso
expect_grep 'nothere.zip' err
[ ! -e x.iso ] || fail "x.iso was written"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "note: no qemu-system-x86_64, the boot checks are not run"
    done_testing
    exit 0
fi

step "OVMF: the new esx-base's EFI loader shows both BOOT.CFG copies"
boot_check out.iso "title=$TITLE" uefi 2 uefi.log

step "SeaBIOS (screen through sercon): ESXi's menu, then BOOT.CFG from mboot.c32"
boot_check out.iso "title=$TITLE" sercon-bios 1 sercon.log
expect_grep 'ESXi-7.0.2-17630552-standard Boot Menu' sercon.log

done_testing
