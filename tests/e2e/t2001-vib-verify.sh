#!/bin/sh
# esximg vib verify: exit 0 on a good VIB, 3 on one with a flipped payload byte or a size
# that does not match, 1 on an unreadable one.
. "$(dirname "$0")/lib.sh"
need_samples
need_tool python3
GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"

step "a good VIB verifies"
expect_ok "$ESXIMG" vib verify "$GHETTO"
expect_grep '^payload1: size: ok$' out
expect_grep '^payload1: sha-256: ok$' out
expect_grep '^payload1: sha-1 \(gunzip\): ok$' out
expect_grep '^signature: none' out
expect_grep 'vghetto-ghettoVCB\.vib: ok$' out

step "verify --json"
expect_ok "$ESXIMG" vib verify --json "$GHETTO"
python3 - out <<'PY' || fail "unexpected JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and j["all_ok"] is True
assert len(j["checks"]) == 3 and all(c["ok"] for c in j["checks"])
PY

step "one payload byte flipped: exit 3"
cp "$GHETTO" bad.vib
chmod u+w bad.vib
python3 - bad.vib <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[-100] ^= 0x01          # inside payload1, the last member
open(p, "wb").write(d)
PY
expect_exit 3 "$ESXIMG" vib verify bad.vib
expect_grep '^payload1: sha-256: FAILED' out
expect_grep 'bad\.vib: FAILED$' out
expect_exit 3 "$ESXIMG" vib verify --json bad.vib
python3 -c 'import json,sys; j=json.load(open("out")); sys.exit(0 if j["ok"] is False else 1)' \
    || fail "json ok should be false"

step "the sample itself was not modified"
expect_ok "$ESXIMG" vib verify "$GHETTO"

step "a truncated VIB cannot be read: exit 1"
head -c 3000 "$GHETTO" >short.vib
expect_exit 1 "$ESXIMG" vib verify short.vib
expect_grep 'short\.vib: .*past the end' err

step "a missing CA bundle is an error naming it"
expect_exit 1 "$ESXIMG" vib verify --ca nowhere.pem "$GHETTO"

done_testing
