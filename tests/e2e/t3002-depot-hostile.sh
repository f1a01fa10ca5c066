#!/bin/sh
# Hostile bundles made here with python3 zipfile: an escaping member, a lying metadata, no VIB.
. "$(dirname "$0")/lib.sh"
need_tool python3

# a tiny VIB: ar with descriptor.xml, an empty sig.pkcs7 and one payload
python3 - <<'PY'
import hashlib, io, zipfile

def member(name, data):
    hdr = b"%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name.encode(), b"0", b"0", b"0", b"0", len(data))
    return hdr + data + (b"\n" if len(data) % 2 else b"")

def vib(name):
    payload = b"payload of " + name.encode()
    desc = ('<vib version="5.0"><type>bootbank</type><name>%s</name><version>1.0-1</version>'
            '<vendor>X</vendor><summary>s</summary><description>d</description>'
            '<release-date>2020-01-01T00:00:00+00:00</release-date><urls/><relationships>'
            '<depends/><conflicts/><replaces/><provides/><compatibleWith/></relationships>'
            '<software-tags/><system-requires><maintenance-mode>false</maintenance-mode>'
            '</system-requires><file-list/><acceptance-level>community</acceptance-level>'
            '<live-install-allowed>false</live-install-allowed><live-remove-allowed>false'
            '</live-remove-allowed><cimom-restart>false</cimom-restart><stateless-ready>true'
            '</stateless-ready><overlay>false</overlay><payloads><payload name="pl" type="tgz" '
            'size="%d"><checksum checksum-type="sha-256">%s</checksum></payload></payloads></vib>'
            % (name, len(payload), hashlib.sha256(payload).hexdigest())).encode()
    return b"!<arch>\n" + member("descriptor.xml", desc) + member("sig.pkcs7", b"") + \
        member("pl", payload)

good, evil = vib("good"), vib("evil")
with zipfile.ZipFile("evil.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("good.vib", good)
    z.writestr("../evil.vib", evil)

meta = io.BytesIO()
with zipfile.ZipFile(meta, "w") as m:
    m.writestr("vibs/good-1.xml",
               '<vib><type>bootbank</type><name>good</name><version>1.0-1</version>'
               '<vendor>X</vendor><relative-path>good.vib</relative-path>'
               '<packed-size>%d</packed-size><checksum checksum-type="sha-256">%s</checksum>'
               '</vib>' % (len(good) + 1, "0" * 64))
with zipfile.ZipFile("liar.zip", "w") as z:
    z.writestr("metadata.zip", meta.getvalue())
    z.writestr("good.vib", good)

with zipfile.ZipFile("novib.zip", "w") as z:
    z.writestr("index.xml", "<vendorList/>")
PY

step "ls lists an escaping member with a warning"
expect_ok "$ESXIMG" depot ls evil.zip
expect_lines 2 out
expect_grep '^evil 1\.0-1 X community - \.\./evil\.vib$' out
expect_grep "warning: evil\.zip: member '\.\./evil\.vib': '\.\.' in path" err

step "extract refuses it and writes nothing anywhere"
mkdir -p sub/dest
cd sub
expect_exit 1 "$ESXIMG" depot extract ../evil.zip -C dest
expect_grep "esximg: \.\./evil\.zip: member '\.\./evil\.vib': '\.\.' in path" err
[ -z "$(ls -A dest)" ] || fail "dest holds: $(ls -A dest)"
[ ! -e evil.vib ] && [ ! -e ../evil.vib ] && [ ! -e dest/evil.vib ] || fail "evil.vib was written"
[ "$(find "$T" -name '*.vib' | wc -l)" -eq 0 ] ||
    fail "a .vib was written: $(find "$T" -name '*.vib')"
step "the safe member alone can be extracted"
expect_ok "$ESXIMG" depot extract ../evil.zip -C dest --select good
[ "$(ls dest)" = "X_bootbank_good_1.0-1.vib" ] || fail "dest holds: $(ls dest)"
cd ..

step "metadata that lies: ls exits 3 and extract writes nothing"
expect_exit 3 "$ESXIMG" depot ls -v liar.zip
expect_grep ' mismatch good\.vib$' out
expect_grep "liar\.zip: member 'good\.vib': .* bytes, the metadata says" err
expect_grep "sha-256 .* the metadata says 0000" err
mkdir liar
expect_exit 3 "$ESXIMG" depot extract liar.zip -C liar
[ -z "$(ls -A liar)" ] || fail "liar holds: $(ls -A liar)"
expect_exit 3 "$ESXIMG" depot ls --json liar.zip
expect_grep '"check": "mismatch"' out

step "a zip without a VIB fails"
expect_exit 1 "$ESXIMG" depot ls novib.zip
expect_grep "novib\.zip: no '\.vib' member in the bundle" err
printf 'PK\003\004truncated' >trunc.zip
expect_exit 1 "$ESXIMG" depot ls trunc.zip
expect_grep "trunc\.zip: not a readable zip" err

done_testing
