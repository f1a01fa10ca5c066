#!/bin/sh
# esximg vib verify --ca: a VIB signed here by a self-made CA verifies; a tampered descriptor
# or another CA fails with exit 3.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool python3
need_tool openssl
GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"

step "a CA and a signing certificate"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/CN=Test VIB CA" 2>/dev/null || fail "openssl req (ca)"
openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr \
    -subj "/O=Example Org/CN=Test VIB Signing" 2>/dev/null || fail "openssl req (signer)"
openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -out signer.pem 2>/dev/null || fail "openssl x509"
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 3650 \
    -subj "/CN=Other CA" 2>/dev/null || fail "openssl req (other)"

step "sign the descriptor and build the VIB"
expect_ok "$ESXIMG" vib extract "$GHETTO" -C m
openssl smime -sign -binary -in m/descriptor.xml -signer signer.pem -inkey signer.key \
    -outform PEM -out m/sig.pkcs7 || fail "openssl smime -sign"
cat >mkvib.py <<'PY'
import sys
out, desc, sig, pay = sys.argv[1:5]
def member(name, data):
    h = b"%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name, b"0", b"0", b"0", b"0", len(data))
    return h + data + (b"\n" if len(data) % 2 else b"")
rd = lambda p: open(p, "rb").read()
open(out, "wb").write(b"!<arch>\n" + member(b"descriptor.xml", rd(desc)) +
                      member(b"sig.pkcs7", rd(sig)) + member(b"payload1", rd(pay)))
PY
python3 mkvib.py signed.vib m/descriptor.xml m/sig.pkcs7 m/payload1

step "the signer shows in info"
expect_ok "$ESXIMG" vib info signed.vib
expect_grep '^signed: +yes$' out
expect_grep '^signer: +CN=Test VIB Signing,O=Example Org$' out

step "verify --ca with the right CA: exit 0"
expect_ok "$ESXIMG" vib verify --ca ca.pem signed.vib
expect_grep '^signature: ok$' out

step "without --ca the signature is only reported"
expect_ok "$ESXIMG" vib verify signed.vib
expect_grep '^signature: present, not checked' out

step "another CA: exit 3"
expect_exit 3 "$ESXIMG" vib verify --ca other.pem signed.vib
expect_grep '^signature: FAILED' out

step "a tampered descriptor: exit 3"
sed 's/ghettoVCB VM backup/ghettoVCB VM b4ckup/' m/descriptor.xml >tampered.xml
cmp -s tampered.xml m/descriptor.xml && fail "sed changed nothing"
python3 mkvib.py tampered.vib tampered.xml m/sig.pkcs7 m/payload1
expect_exit 3 "$ESXIMG" vib verify --ca ca.pem tampered.vib
expect_grep '^signature: FAILED' out
expect_exit 3 "$ESXIMG" vib verify --json --ca ca.pem tampered.vib
python3 -c 'import json,sys; j=json.load(open("out")); sys.exit(0 if j["signature_checked"] and not j["signature_ok"] and j["signature_error"] else 1)' \
    || fail "json signature fields"

step "an unsigned VIB checked against a CA: exit 3"
expect_exit 3 "$ESXIMG" vib verify --ca ca.pem "$GHETTO"
expect_grep '^signature: FAILED: the VIB is not signed$' out

done_testing
