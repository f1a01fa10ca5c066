#!/bin/sh
# t5301: the work folder of `esximg edit --base`: the depots' deflated VIBs are spooled beside
# the output (a dry run without -o: in $TMPDIR) and the folder is gone afterwards, whether the
# move is written, refused, or fails on a later depot after the first was spooled; the depots
# are not modified.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1700000000
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 -o in.iso
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --patch 1 --depot p1.zip
sha256sum in.iso p1.zip >in.sum
mkdir tmpd outd

leftovers() {
    find tmpd outd -mindepth 1 | grep -v -x -e "$1" || true
}

step "a dry run without -o spools to \$TMPDIR and leaves nothing there"
TMPDIR=$PWD/tmpd expect_ok "$ESXIMG" edit in.iso --base p1.zip -n
expect_grep '^update +esx-base 7.0.2-0.0.17630552 -> 7.0.2-0.5.17631552$' out
[ -z "$(leftovers '')" ] || fail "left behind: $(leftovers '')"

step "a second depot that does not read: named, the first one's spool removed"
expect_exit 1 "$ESXIMG" edit in.iso --base p1.zip --base nothere.zip -o outd/x.iso
expect_grep '^esximg: nothere.zip: cannot open' err
[ -z "$(leftovers '')" ] || fail "left behind: $(leftovers '')"

step "the move written: only the output is left"
expect_ok "$ESXIMG" edit in.iso --base p1.zip -o outd/x.iso
[ -z "$(leftovers outd/x.iso)" ] || fail "left behind: $(leftovers outd/x.iso)"

step "a move refused (a downgrade): nothing left beside the output"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --depot p0.zip -o p0.iso
expect_exit 1 "$ESXIMG" edit outd/x.iso --base p0.zip -o outd/down.iso
expect_grep 'taking it is a downgrade' err
[ -z "$(leftovers outd/x.iso)" ] || fail "left behind: $(leftovers outd/x.iso)"

step "a work folder that cannot be made is named"
mkdir ro && chmod a-w ro
if [ ! -w ro ]; then
    expect_exit 1 "$ESXIMG" edit in.iso --base p1.zip -o ro/x.iso
    expect_grep '^esximg: ro/x.iso: cannot make a work folder beside it' err
fi
chmod u+w ro

sha256sum -c --quiet in.sum || fail "an input was modified"
done_testing
