#!/bin/sh
# vmtar c / t / x on a small tree: sticky bit, a subdirectory, a symlink; JSON listing.
. "$(dirname "$0")/lib.sh"

step "make a tree"
mkdir -p src/etc/vmware/sub src/bin
printf 'key = value\n' >src/etc/vmware/x.cfg
chmod 1644 src/etc/vmware/x.cfg
printf 'deep\n' >src/etc/vmware/sub/y
chmod 0600 src/etc/vmware/sub/y
printf '#!/bin/sh\necho hi\n' >src/bin/tool
chmod 0755 src/bin/tool
ln -s vmware/x.cfg src/etc/link

step "help names every option and goes to stdout"
expect_ok "$ESXIMG" vmtar --help
expect_grep '^usage: esximg vmtar t FILE' out
for opt in --verbose --json --directory --output --align --signed-checksum --pad --no-gzip \
    --mtime --quiet --help; do
    expect_grep "$opt" out
done
expect_exit 2 "$ESXIMG" vmtar
expect_exit 2 "$ESXIMG" vmtar q x
expect_exit 2 "$ESXIMG" vmtar c -o x.v00
expect_exit 2 "$ESXIMG" vmtar c -o x.v00 --align 100 etc
expect_exit 2 "$ESXIMG" vmtar t --align 512 x.v00

step "create"
expect_ok "$ESXIMG" vmtar c -o out.v00 -C src --mtime 946684800 etc bin
[ -f out.v00 ] || fail "no out.v00"
od -An -tx1 -N3 out.v00 | grep -q '1f 8b 08' || fail "out.v00 is not gzip'd"
if command -v gzip >/dev/null 2>&1; then gzip -t <out.v00 || fail "gzip -t failed"; fi

step "list"
expect_ok "$ESXIMG" vmtar t out.v00
expect_lines 8 out
head -1 out | grep -qx 'bin/' || fail "first entry is not bin/"
expect_grep '^etc/vmware/$' out
expect_grep '^etc/vmware/x.cfg$' out
expect_ok "$ESXIMG" vmtar t -v out.v00
expect_grep '^-rw-r--r-T root/root +12 2000-01-01 00:00:00 @0x[0-9a-f]{8} file +etc/vmware/x.cfg$' \
    out
expect_grep '^drwxr-xr-x root/root +0 .* dir +etc/vmware/sub/$' out
expect_grep '^-rw------- .* etc/vmware/sub/y$' out
expect_grep '^-rwxr-xr-x .* bin/tool$' out
expect_grep '^l.* symlink etc/link -> vmware/x.cfg$' out

step "list as JSON"
expect_ok "$ESXIMG" vmtar t --json out.v00
python3 -c 'import json,sys; d=json.load(sys.stdin)
assert d["format"] == "vmtar" and d["gzip"] is True, d
assert d["entry_count"] == 8 and len(d["entries"]) == 8
assert d["layout"]["alignment"] == 4096 and d["layout"]["exact"] is True
e = {x["name"]: x for x in d["entries"]}
assert e["etc/vmware/x.cfg"]["mode"] == "1644" and e["etc/vmware/x.cfg"]["size"] == 12
assert e["etc/vmware/x.cfg"]["offset"] % 4096 == 0
assert e["etc/link"]["linkname"] == "vmware/x.cfg"
assert e["bin/tool"]["uid"] == 0 and e["bin/tool"]["uname"] == "root"
' <out || fail "JSON listing is wrong"

step "extract into a new directory"
expect_ok "$ESXIMG" vmtar x out.v00 -C dst
diff -r src dst || fail "extracted tree differs"
[ "$(stat -c %a dst/etc/vmware/x.cfg)" = 1644 ] || fail "sticky bit lost"
[ "$(stat -c %a dst/etc/vmware/sub/y)" = 600 ] || fail "mode of y lost"
[ "$(readlink dst/etc/link)" = vmware/x.cfg ] || fail "symlink lost"
[ "$(stat -c %Y dst/bin/tool)" = 946684800 ] || fail "mtime not applied"

step "extract selected paths only"
expect_ok "$ESXIMG" vmtar x out.v00 -C part etc/vmware/sub
[ -f part/etc/vmware/sub/y ] || fail "selected file missing"
[ ! -e part/bin ] || fail "unselected bin extracted"
expect_exit 1 "$ESXIMG" vmtar x out.v00 -C part nothere
expect_grep "'nothere': not found" err

step "raw, 512-aligned, signed, padded"
expect_ok "$ESXIMG" vmtar c -o raw.vtar -C src --no-gzip --align 512 --signed-checksum --pad etc
od -An -c -j257 -N8 raw.vtar | grep -q 'v   i   s   o   r' || fail "no visor magic at 257"
[ $(( $(wc -c <raw.vtar) % 512 )) -eq 0 ] || fail "not padded to 512"
expect_ok "$ESXIMG" vmtar t --json raw.vtar
python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["layout"]
assert d["gzip"] is False and l["alignment"] == 512 and l["padded_to_512"], l' <out ||
    fail "layout of raw.vtar is wrong"

done_testing
