#!/bin/sh
# t5150: the rules `esximg edit` applies to packages, in edit chains on a generated 7.0 image
# (a partner profile, as VMware's own, of certified VIBs):
# - acceptance goes down for a community VIB and back up once it is removed, never above the
#   input's level: partner -> community -> partner; certified (set) -> community -> partner;
#   a kept partner VIB holds it at partner;
# - a refused dependency names --no-deps; a missing vmkapi_incompat_X is "built for another
#   ESXi update"; a refusal is printed without the acceptance warnings;
# - a VIB replacing one of its name counts as replaced, not added.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_edit_tools

# mkvib OUT NAME ACCEPTANCE [vib create options]: a small driver-less VIB
mkvib() {
    _out=$1 _name=$2 _acc=$3
    shift 3
    mkdir -p "pl-$_name/opt/$_name"
    echo "$_name" >"pl-$_name/opt/$_name/README"
    expect_ok "$ESXIMG" vib create -o "$_out" --name "$_name" --version 1.0-1 --vendor test \
        --acceptance "$_acc" --release-date 2020-09-13T12:26:40 --payload "$_name=pl-$_name" "$@"
}

step "a 7.0 image (partner) and test VIBs"
gen_image 7.0 in.iso
check_info in.iso partner
mkvib comm.vib commtool community
mkvib part.vib parttool partner
mkvib nodep.vib needy community --depends esximg-nosuch
mkvib incompat.vib oldapi community --depends vmkapi_incompat_2_6_0_0

step "partner + community VIB -> community; removing it -> partner again"
expect_ok "$ESXIMG" edit in.iso -o c.iso --add comm.vib
expect_grep 'goes down from partner to community' err
expect_grep '^wrote c\.iso: 1 VIB added, 0 replaced, 0 removed$' out
check_info c.iso community
expect_ok "$ESXIMG" edit c.iso -o back.iso --remove commtool
expect_grep '^wrote back\.iso: 0 VIBs added, 0 replaced, 1 removed$' out
check_info back.iso partner

step "certified (set) + community -> community; removing it -> partner, the most it can know"
expect_ok "$ESXIMG" edit in.iso -o cert.iso --acceptance certified
check_info cert.iso certified
expect_ok "$ESXIMG" edit cert.iso -o cert-c.iso --add comm.vib
check_info cert-c.iso community
expect_ok "$ESXIMG" edit cert-c.iso -o cert-back.iso --remove commtool
check_info cert-back.iso partner

step "a kept partner VIB holds the level at partner; removing both goes back up"
expect_ok "$ESXIMG" edit cert.iso -o pc.iso --add part.vib --add comm.vib
check_info pc.iso community
expect_ok "$ESXIMG" edit pc.iso -o pc-back.iso --remove commtool
check_info pc-back.iso partner
expect_ok "$ESXIMG" edit cert.iso -o p.iso --add part.vib
check_info p.iso partner
expect_ok "$ESXIMG" edit p.iso -o p-back.iso --remove parttool
check_info p-back.iso partner
expect_ok "$ESXIMG" edit c.iso -o same.iso --title "still community"
check_info same.iso community

step "a refused dependency names --no-deps; the refusal comes without acceptance warnings"
expect_exit 1 "$ESXIMG" edit in.iso -o x.iso --add nodep.vib
expect_grep "depends on 'esximg-nosuch', which no VIB provides.*--no-deps skips this check" err
expect_no_grep 'acceptance level goes down' err
expect_no_grep 'Secure Boot' err
expect_grep 'the edit is refused, nothing written' err
[ ! -e x.iso ] || fail "x.iso was written"
expect_ok "$ESXIMG" edit in.iso -o x.iso --add nodep.vib --no-deps
expect_grep 'acceptance level goes down' err

step "a missing vmkapi_incompat provide: built for another ESXi update"
expect_exit 1 "$ESXIMG" edit in.iso -o y.iso --add incompat.vib
expect_grep "depends on 'vmkapi_incompat_2_6_0_0', which no VIB provides: the VIB is built for another ESXi update \\(--no-deps skips this check\\)" err

step "a VIB replacing one of its name: 0 added, 1 replaced"
mkvib comm2.vib commtool community --version 2.0-1
expect_ok "$ESXIMG" edit c.iso -o r.iso --add comm2.vib
expect_grep '^wrote r\.iso: 0 VIBs added, 1 replaced, 0 removed$' out
check_info r.iso community
