#!/bin/sh
# esximg vib info: text and JSON on the real standalone VIBs; usage errors.
. "$(dirname "$0")/lib.sh"

step "help and usage"
expect_ok "$ESXIMG" vib --help
expect_grep '^usage: esximg vib info' out
expect_exit 2 "$ESXIMG" vib
expect_exit 2 "$ESXIMG" vib frobnicate x.vib
expect_exit 2 "$ESXIMG" vib info
expect_exit 2 "$ESXIMG" vib info --bogus x.vib

step "an unreadable input names the file"
expect_exit 1 "$ESXIMG" vib info missing.vib
expect_grep 'missing\.vib' err
printf 'not an ar archive at all' >junk.vib
expect_exit 1 "$ESXIMG" vib info junk.vib
expect_grep 'junk\.vib: not an ar archive' err

need_samples
need_tool python3
GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"
R8125="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO/6-updates/net-r8125-9.011.00-10.vib"

step "info on ghettoVCB"
expect_ok "$ESXIMG" vib info "$GHETTO"
expect_grep '^name: +ghettoVCB$' out
expect_grep '^version: +1\.0\.0-0\.0\.0$' out
expect_grep '^vib-id: +virtuallyGhetto_bootbank_ghettoVCB_1\.0\.0-0\.0\.0$' out
expect_grep '^acceptance-level: +community$' out
expect_grep '^payload: +payload1 type vgz size 35315$' out
expect_grep '^signed: +no$' out
expect_grep '^dialect: +vmware$' out

step "info -v lists the files"
expect_ok "$ESXIMG" vib info -v "$GHETTO"
expect_grep '^files: +6$' out
expect_grep '^  (opt|etc)/' out

step "info on net-r8125"
expect_ok "$ESXIMG" vib info "$R8125"
expect_grep '^name: +net-r8125$' out
expect_grep '^version: +9\.011\.00-10$' out
expect_grep '^vendor: +Realtek$' out

step "info --json parses and holds the values"
expect_ok "$ESXIMG" vib info --json "$R8125"
cp out r8125.json
python3 - r8125.json <<'PY' || fail "unexpected JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["name"] == "net-r8125", j["name"]
assert j["vib_id"] == "Realtek_bootbank_net-r8125_9.011.00-10", j["vib_id"]
assert j["signed"] is False and j["signer"] is None
assert j["dialect"] == "vmware"
p = j["payloads"][0]
assert p["name"] == "net-8125" and p["size"] == 108775 and p["member_size"] == 108775
assert {c["type"] for c in p["checksums"]} >= {"sha-256", "sha-1"}
assert isinstance(j["relationships"]["depends"], list)
PY

step "info output is deterministic"
expect_ok "$ESXIMG" vib info --json "$R8125"
expect_same_file out r8125.json

done_testing
