#!/bin/sh
# t3003: `depot ls -v` counts components as its table shows them: the summary's "N
# component(s)" is the number of distinct components in the table's component column, on every
# real bundle (6.x bundles carry bulletins without a component name, listed as '-') and on
# bundles written by `depot create`, one component per VIB or one for all.
. "$(dirname "$0")/lib.sh"
export SOURCE_DATE_EPOCH=1700000000

# check_counts ZIP: the table and the summary agree; prints the count
check_counts() {
    expect_ok "$ESXIMG" depot ls -v "$1"
    table=$(awk '$5 != "-" { print $5 }' out | sort -u | wc -l | tr -d ' ')
    summary=$(sed -n 's/.* \([0-9][0-9]*\) component(s).*/\1/p' err)
    [ -n "$summary" ] || fail "$1: no summary line: $(cat err)"
    [ "$table" -eq "$summary" ] ||
        fail "$1: the table shows $table component(s), the summary says $summary"
    COUNT=$summary
}

step "generated bundles: one component per VIB, then one for both"
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o a.vib --name drv-a --version 1.0-1 --vendor custom --payload drv-a=pl
expect_ok "$ESXIMG" vib create -o b.vib --name drv-b --version 1.0-1 --vendor custom --payload drv-b=pl
expect_ok "$ESXIMG" depot create -o two.zip a.vib b.vib
check_counts two.zip
[ "$COUNT" -eq 2 ] || fail "two.zip: $COUNT component(s), expected 2"
expect_ok "$ESXIMG" depot create -o one.zip a.vib b.vib --component Both:1.0
check_counts one.zip
[ "$COUNT" -eq 1 ] || fail "one.zip: $COUNT component(s), expected 1"
expect_lines 2 out
expect_grep ' Both_1\.0 ' out

need_samples
step "every real bundle: table and summary agree"
n=0
for z in "$ESXIMG_SAMPLES"/*/*.zip "$ESXIMG_SAMPLES"/*/*/*.zip; do
    [ -f "$z" ] || continue
    check_counts "$z"
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n real bundles found"

step "a 6.x bundle: no component, its bulletin said apart"
R8168="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO/6-updates/net55-r8168-8.045a-napi-offline_bundle.zip"
check_counts "$R8168"
[ "$COUNT" -eq 0 ] || fail "$COUNT component(s) in a 6.x bundle"
expect_grep '0 component\(s\), 1 bulletin\(s\) without a component name' err
