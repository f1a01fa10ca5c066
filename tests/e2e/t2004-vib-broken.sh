#!/bin/sh
# t2004: VIBs that are broken the ways re-packed ones are seen in the wild, made here from the
# real net-r8125 VIB with `ar`: its one payload renamed (the descriptor names a payload the
# archive lacks), an extra member, a flipped byte, a grown payload, and its gzip'd GNU tar
# declared vgz (a vmtar).  info shows everything with the problems (exit 3), verify reports
# each bad member, size, checksum and format one per line and in --json (exit 3), extract
# writes what is there (exit 3), depot ls lists a bundle holding one and flags it (exit 3),
# and edit --add refuses it naming the package and the problem.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool ar
need_tool python3

R8125="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO/6-updates/net-r8125-9.011.00-10.vib"
PAY=net-8125

step "the parts of the real VIB"
mkdir parts
(cd parts && ar x "$R8125")
[ -s "parts/$PAY" ] || fail "no payload '$PAY' in $R8125"
cp "parts/$PAY" payload1

step "renamed payload: info prints all, with both problems, exit 3"
ar rc renamed.vib parts/descriptor.xml parts/sig.pkcs7 payload1
expect_exit 3 "$ESXIMG" vib info renamed.vib
expect_grep '^name: +net-r8125$' out
expect_grep "^payload: +$PAY type tgz \\(no member\\)\$" out
expect_grep "^problem: +payload '$PAY' has no member in the archive\$" out
expect_grep "^problem: +member 'payload1' is not a payload of the descriptor\$" out
expect_ok "$ESXIMG" vib info "$R8125"
expect_no_grep '^problem:' out

step "renamed payload: info --json lists the problems"
expect_exit 3 "$ESXIMG" vib info --json renamed.vib
python3 - out <<'PY' || fail "info json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["name"] == "net-r8125", j
p = j["problems"]
assert [x["kind"] for x in p] == ["missing", "unexpected"], p
assert p[0]["member"] == "net-8125" and p[1]["member"] == "payload1", p
assert j["payloads"][0]["member_size"] == 0, j["payloads"]
PY

step "renamed payload: verify fails both members, checks the renamed one, exit 3"
expect_exit 3 "$ESXIMG" vib verify renamed.vib
expect_grep "^$PAY: member: FAILED \\(no member in the archive\\)\$" out
expect_grep "^payload1: member: FAILED \\(not a payload of the descriptor\\)\$" out
expect_grep "^$PAY as member 'payload1': sha-256: ok\$" out
expect_grep '^renamed\.vib: FAILED$' out

step "renamed payload: extract writes what is there, names what is not, exit 3"
mkdir x
expect_exit 3 "$ESXIMG" vib extract renamed.vib -C x
expect_same_file x/payload1 payload1
expect_same_file x/descriptor.xml parts/descriptor.xml
[ ! -e "x/$PAY" ] || fail "x/$PAY written"
expect_grep "^renamed\\.vib: payload '$PAY' has no member in the archive: not extracted\$" out

step "an extra member: info and verify name it"
echo junk >extra
ar rc extra.vib parts/descriptor.xml parts/sig.pkcs7 "parts/$PAY" extra
expect_exit 3 "$ESXIMG" vib info extra.vib
grep '^problem:' out >problems.txt || true
expect_lines 1 problems.txt
expect_grep "^problem: +member 'extra' is not a payload" out
expect_exit 3 "$ESXIMG" vib verify --json extra.vib
python3 - out <<'PY' || fail "verify json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False, j
bad = [c for c in j["checks"] if not c["ok"]]
assert [(c["payload"], c["check"]) for c in bad] == [("extra", "member")], bad
assert all(c["ok"] for c in j["checks"] if c["payload"] == "net-8125"), j["checks"]
PY

step "a flipped byte: the sums fail, the size does not"
mkdir flipped
python3 -c "
b = bytearray(open('parts/$PAY', 'rb').read()); b[len(b) // 2] ^= 1
open('flipped/$PAY', 'wb').write(b)"
ar rc flipped.vib parts/descriptor.xml parts/sig.pkcs7 "flipped/$PAY"
expect_ok "$ESXIMG" vib info flipped.vib    # info reads, it does not hash
expect_exit 3 "$ESXIMG" vib verify flipped.vib
expect_grep "^$PAY: size: ok\$" out
expect_grep "^$PAY: sha-256: FAILED \\(expected [0-9a-f]{64}, got [0-9a-f]{64}\\)\$" out

step "a grown payload: a size problem for info, a failed size for verify"
mkdir grown
cat "parts/$PAY" extra >"grown/$PAY"
ar rc grown.vib parts/descriptor.xml parts/sig.pkcs7 "grown/$PAY"
expect_exit 3 "$ESXIMG" vib info grown.vib
expect_grep "^problem: +payload '$PAY' is [0-9]+ bytes, its descriptor says [0-9]+\$" out
expect_exit 3 "$ESXIMG" vib verify grown.vib
expect_grep "^$PAY: size: FAILED " out

step "a gzip'd GNU tar declared vgz: verify fails its format"
mkdir vgz
sed "s/type=\"tgz\"/type=\"vgz\"/" parts/descriptor.xml >vgz/descriptor.xml
grep -q 'type="vgz"' vgz/descriptor.xml || fail "descriptor not changed"
ar rc vgz.vib vgz/descriptor.xml parts/sig.pkcs7 "parts/$PAY"
expect_exit 3 "$ESXIMG" vib verify vgz.vib
expect_grep "^$PAY: format: FAILED \\(expected gzip'd vmtar, got gzip'd GNU tar\\)\$" out
expect_grep "^$PAY: sha-256: ok\$" out
expect_ok "$ESXIMG" vib verify "$R8125"
expect_no_grep 'format' out

step "depot ls lists a bundle holding the renamed VIB, flags it, exit 3"
GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"
python3 - "$GHETTO" <<'PY'
import sys, zipfile
with zipfile.ZipFile("mixed.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "ghettoVCB.vib")
    z.write("renamed.vib", "renamed.vib")
PY
expect_exit 3 "$ESXIMG" depot ls mixed.zip
expect_lines 2 out
expect_grep '^ghettoVCB .* ghettoVCB\.vib$' out
expect_grep '^net-r8125 9\.011\.00-10 Realtek community - renamed\.vib \[broken\]$' out
expect_grep "^esximg: mixed\\.zip: member 'renamed\\.vib': payload '$PAY' has no member" err
expect_exit 3 "$ESXIMG" depot ls --json mixed.zip
python3 - out <<'PY' || fail "depot json"
import json, sys
j = json.load(open(sys.argv[1]))
v = {x["path"]: x for x in j["vibs"]}
assert v["ghettoVCB.vib"]["broken"] is False and v["ghettoVCB.vib"]["problems"] == []
b = v["renamed.vib"]
assert b["broken"] is True, b
assert [p["kind"] for p in b["problems"]] == ["missing", "unexpected"], b["problems"]
PY
mkdir out-all
expect_exit 3 "$ESXIMG" depot extract mixed.zip -C out-all
[ -z "$(ls out-all)" ] || fail "depot extract wrote $(ls out-all)"
expect_ok "$ESXIMG" depot extract mixed.zip -C out-all --select ghettoVCB
[ -n "$(ls out-all)" ] || fail "nothing extracted with --select"

step "edit --add refuses the VIB and the bundle, naming the package and the problem"
need_image_tools
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    -o in.iso
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --add renamed.vib
expect_grep "^esximg: renamed\\.vib: payload '$PAY' has no member in the archive \\(it has \
member 'payload1', which is not a payload of the descriptor\\)\$" err
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso --add mixed.zip
expect_grep "^esximg: mixed\\.zip: 'renamed\\.vib': payload '$PAY' has no member" err
[ ! -e out.iso ] || fail "out.iso written"

done_testing
