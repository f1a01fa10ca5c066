#!/bin/sh
# t5000: `esximg edit` basics on a generated 7.0 image: help and usage errors, a dry run that
# writes nothing, a VIB made by `esximg vib create` added and seen by `esximg info` (no
# problem, Secure Boot note) and `esximg ls`, a removal, kernel options, the same output twice,
# and failures that leave nothing behind.
. "$(dirname "$0")/lib.sh"

step "help names every option; misuse is exit 2"
expect_ok "$ESXIMG" edit --help
expect_grep '^usage: esximg edit IN.iso -o OUT.iso' out
for o in --output --add --select --remove --no-deps --acceptance --strict --kernelopt --ks --force-ks \
         --title --profile-name --dry-run --quiet --verbose --help; do
    grep -q -- "$o" out || fail "--help does not name $o"
done
expect_exit 2 "$ESXIMG" edit
expect_grep '^usage: esximg edit' err
expect_exit 2 "$ESXIMG" edit in.iso
expect_grep 'output is required' err
expect_exit 2 "$ESXIMG" edit in.iso other.iso -o out.iso
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --frobnicate
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --acceptance bogus
expect_exit 2 "$ESXIMG" edit in.iso -o out.iso --select foo
expect_exit 2 "$ESXIMG" edit in.iso -o -
step "a missing input is exit 1 naming it"
expect_exit 1 "$ESXIMG" edit nothere.iso -o out.iso
expect_grep '^esximg: nothere.iso: ' err
[ ! -e out.iso ] || fail "out.iso was written"

need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "a generated 7.0 image and a community VIB"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    -o in.iso
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o r8168.vib --name net-r8168 --version 8.045a-1 \
    --vendor custom --payload net-r816=pl
sha256sum in.iso >in.sum

step "a dry run prints the plan and writes nothing"
mkdir dry && cd dry
expect_ok "$ESXIMG" edit ../in.iso -o out.iso -a ../r8168.vib -k allowLegacyCPU=true -n
expect_grep '^add VIB custom_bootbank_net-r8168_8.045a-1 \(community\) from ../r8168.vib$' out
expect_grep '^add module /NET_R816.V00 ' out
expect_grep '^profile acceptance: partner -> community$' out
expect_grep '^  \+kernelopt=cdromBoot runweasel allowLegacyCPU=true$' out
expect_grep '^  \+modules=.* --- /net_r816.v00 --- /imgdb.tgz --- ' out
expect_grep '^change /EFI/BOOT/BOOT.CFG: the same lines$' out
expect_grep "^esximg: warning: 'custom_bootbank_net-r8168_8.045a-1' is community" err
[ -z "$(ls -A . | grep -v -x -e out -e err)" ] || fail "the dry run wrote $(ls -A .)"
cd ..

step "the VIB goes in; info finds no problem; ls shows it"
expect_ok "$ESXIMG" edit in.iso -o out.iso -a r8168.vib -k allowLegacyCPU=true
expect_grep '^wrote out.iso: 1 VIB added, 0 replaced, 0 removed$' out
expect_grep "warning: the image could boot with UEFI Secure Boot on; after this edit it cannot, Secure Boot must be off: 'custom_bootbank_net-r8168_8.045a-1' is community-supported and not signed" err
[ "$(grep -c 'UEFI Secure Boot' err)" -eq 1 ] || fail "the Secure Boot warning is not printed once"
[ "$(grep -c 'is community: the profile' err)" -eq 1 ] || fail "a warning printed twice"
sha256sum -c in.sum >/dev/null || fail "the input changed"
expect_ok "$ESXIMG" info out.iso
expect_grep '^problems: +none$' out
expect_grep '^acceptance: +community$' out
expect_grep '^secure boot: +not ready: UEFI Secure Boot must be off \(1 reason\)$' out
expect_grep "^  VIB 'custom_bootbank_net-r8168_8.045a-1' is community-supported and not signed$" out
expect_grep '^kernel options: cdromBoot runweasel allowLegacyCPU=true$' out
expect_ok "$ESXIMG" ls out.iso
expect_grep '^net-r8168 +8.045a-1 +custom +community .* NET_R816.V00$' out

step "the same edit gives the same bytes"
expect_ok "$ESXIMG" edit in.iso -o out2.iso -q -a r8168.vib -k allowLegacyCPU=true
[ ! -s out ] || fail "--quiet printed: $(cat out)"
expect_same_file out.iso out2.iso

step "removing it again, with -v printing the plan"
expect_ok "$ESXIMG" edit out.iso -o back.iso -r net-r8168 -v --acceptance partner
expect_grep '^remove VIB custom_bootbank_net-r8168_8.045a-1$' err
expect_grep '^remove module /NET_R816.V00$' err
expect_ok "$ESXIMG" info back.iso
expect_grep '^problems: +none$' out
expect_grep '^acceptance: +partner$' out
expect_grep '^secure boot: +ready ' out

step "refusals write nothing and exit 1"
expect_exit 1 "$ESXIMG" edit in.iso -o bad.iso -a r8168.vib --strict
expect_grep "community, below the profile's acceptance level partner" err
expect_exit 1 "$ESXIMG" edit in.iso -o bad.iso -r no-such-vib
expect_grep "VIB 'no-such-vib' is not in the image" err
echo 'not a package' >junk.vib
expect_exit 1 "$ESXIMG" edit in.iso -o bad.iso -a junk.vib
expect_grep '^esximg: junk.vib: not a VIB' err
expect_exit 1 "$ESXIMG" edit in.iso -o in.iso -a r8168.vib
[ ! -e bad.iso ] || fail "bad.iso was written"
sha256sum -c in.sum >/dev/null || fail "the input changed"
[ -z "$(ls -A . | grep -v -e '^in\.' -e '^out' -e '^back.iso$' -e '^pl$' -e '^dry$' \
        -e '^r8168.vib$' -e '^junk.vib$' -e '^err$')" ] || fail "left behind: $(ls -A .)"

done_testing
