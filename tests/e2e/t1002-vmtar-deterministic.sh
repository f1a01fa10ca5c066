#!/bin/sh
# vmtar c gives the same bytes under another TZ and umask, and takes its time from --mtime,
# else SOURCE_DATE_EPOCH, else 0.
. "$(dirname "$0")/lib.sh"

step "make a tree"
mkdir -p src/etc/sub
printf 'a\n' >src/etc/a
printf 'b\n' >src/etc/sub/b
chmod 1644 src/etc/a
chmod 0644 src/etc/sub/b
chmod 0755 src/etc src/etc/sub
touch -d '2001-02-03 04:05:06' src/etc/a

step "the same output twice"
(umask 022 && TZ=UTC "$ESXIMG" vmtar c -o one.v00 -C src etc) || fail "first c failed"
(umask 077 && TZ=Asia/Tokyo "$ESXIMG" vmtar c -o two.v00 -C src ./etc/) || fail "second c failed"
expect_same_file one.v00 two.v00
[ "$(stat -c %a one.v00)" = 644 ] || fail "output mode is $(stat -c %a one.v00)"

step "time is 0 without --mtime or SOURCE_DATE_EPOCH"
expect_ok env -u SOURCE_DATE_EPOCH "$ESXIMG" vmtar t -v one.v00
expect_grep ' 1970-01-01 00:00:00 .* etc/a$' out

step "SOURCE_DATE_EPOCH, then --mtime over it"
SOURCE_DATE_EPOCH=1700000000 "$ESXIMG" vmtar c -o sde.v00 -C src etc || fail "c failed"
expect_ok "$ESXIMG" vmtar t -v sde.v00
expect_grep ' 2023-11-14 22:13:20 .* etc/a$' out
SOURCE_DATE_EPOCH=1700000000 "$ESXIMG" vmtar c -o m.v00 --mtime 86400 -C src etc || fail "c"
expect_ok "$ESXIMG" vmtar t -v m.v00
expect_grep ' 1970-01-02 00:00:00 .* etc/a$' out

step "a failed create leaves nothing"
expect_exit 1 "$ESXIMG" vmtar c -o bad.v00 -C src etc nothere
expect_grep "nothere" err
[ -z "$(ls -A | grep bad)" ] || fail "a file was left behind"

done_testing
