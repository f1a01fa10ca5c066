#!/bin/sh
# vmtar t and x on the real ESXi modules of the samples; a boot module (gzip'd ELF) is refused.
. "$(dirname "$0")/lib.sh"
need_samples
O="$ESXIMG_SAMPLES/ForceFledgling__esxi-unsupported-cpu-mod/src/original"

step "6.7 WEASELIN.T00"
expect_ok "$ESXIMG" vmtar t "$O/6.7.0u3/WEASELIN.T00"
expect_lines 211 out
expect_grep '^mbr/ddpartimg$' out

step "7.0 WEASELIN.V00: 201 entries, the signature trailer"
expect_ok "$ESXIMG" vmtar t -v "$O/7.0.3/WEASELIN.V00"
expect_lines 201 out
expect_grep '^-rw-r--r-- mts/mts +540 .* usr/share/weasel/vim.sigblob$' out
expect_ok "$ESXIMG" vmtar t --json "$O/7.0.3/WEASELIN.V00"
python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["layout"]
assert l["signature_trailer"] and l["trailer_bytes"] == 540 and l["exact"], l
assert l["alignment"] == 4096 and l["signed_checksums"], l' <out || fail "layout is wrong"

step "extract one file"
expect_ok "$ESXIMG" vmtar x "$O/7.0.3/WEASELIN.V00" -C dst usr/share/weasel/vim.sigblob
[ "$(wc -c <dst/usr/share/weasel/vim.sigblob)" -eq 540 ] || fail "wrong size"
[ "$(find dst -type f | wc -l)" -eq 1 ] || fail "more than one file extracted"

step "B.B00 is not a vmtar"
expect_exit 1 "$ESXIMG" vmtar t "$O/6.7.0u3/B.B00"
expect_grep "B.B00: not a vmtar" err

done_testing
