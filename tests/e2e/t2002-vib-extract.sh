#!/bin/sh
# esximg vib extract: members written as files and equal to what binutils ar extracts; existing
# files kept unless --force; a member named ../x refused with nothing written.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool python3
need_tool ar
GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"

step "extract into a new directory"
expect_ok "$ESXIMG" vib extract "$GHETTO" -C x
[ -f x/descriptor.xml ] && [ -f x/sig.pkcs7 ] && [ -f x/payload1 ] || fail "missing files"

step "each member equals binutils ar's copy"
for m in descriptor.xml sig.pkcs7 payload1; do
    ar p "$GHETTO" "$m" >"ref-$m"
    expect_same_file "x/$m" "ref-$m"
done

step "existing files are refused, then replaced with --force"
expect_exit 1 "$ESXIMG" vib extract "$GHETTO" -C x
expect_grep 'x/descriptor\.xml: .*force' err
expect_ok "$ESXIMG" vib extract --force "$GHETTO" -C x
expect_same_file x/payload1 ref-payload1

step "a member named ../x is refused and nothing is written"
python3 - evil.vib <<'PY'
import sys
desc = open("x/descriptor.xml", "rb").read()
pay = open("x/payload1", "rb").read()
def member(name, data):
    h = b"%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name, b"0", b"0", b"0", b"0", len(data))
    return h + data + (b"\n" if len(data) % 2 else b"")
out = b"!<arch>\n" + member(b"descriptor.xml", desc) + member(b"sig.pkcs7", b"") \
      + member(b"payload1", pay) + member(b"../x", b"evil")
open(sys.argv[1], "wb").write(out)
PY
mkdir -p deep/inner
expect_exit 1 "$ESXIMG" vib extract evil.vib -C deep/inner
expect_grep "evil\.vib: member '\.\./x'" err
[ ! -e deep/x ] || fail "deep/x was written"
[ -z "$(ls deep/inner)" ] || fail "files were written to deep/inner"

step "info still shows the hostile VIB, its extra member a problem (exit 3)"
expect_exit 3 "$ESXIMG" vib info evil.vib
expect_grep "^problem: +member '\.\./x' is not a payload of the descriptor" out

done_testing
