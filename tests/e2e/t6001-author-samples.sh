#!/bin/sh
# Re-creates real VIBs from VIB Author stage folders and compares the descriptors with the
# shipped VIB (ghettoVCB: the JakDaniels stage descriptor with the payload of lamw's VIB).
. "$(dirname "$0")/lib.sh"
need_samples
need_tool python3
S=$ESXIMG_SAMPLES
SHIPPED=$S/lamw__ghettoVCB/vghetto-ghettoVCB.vib

step "the firewall stage builds and verifies"
expect_ok "$ESXIMG" vib create -s "$S/michaelrice__esxi-firewall-vib/stage" -o fw.vib
expect_ok "$ESXIMG" vib verify fw.vib
expect_ok "$ESXIMG" vib info -v fw.vib
expect_grep '^name: +DRP-Firewall-Rule$' out
expect_grep '^  etc/vmware/firewall/drpcli.xml$' out
expect_grep '^payload: +payload1 type vgz ' out

step "a ghettoVCB stage: the stage descriptor and the shipped VIB's payload"
mkdir -p stage/payloads/payload1 shipped
cp "$S/JakDaniels__ghettoVCB_VIB_build/stage/descriptor.xml" stage/
expect_ok "$ESXIMG" vib extract "$SHIPPED" -C shipped
expect_ok "$ESXIMG" vmtar x shipped/payload1 -C stage/payloads/payload1
expect_ok "$ESXIMG" vib create -s stage -o ghetto.vib --mtime 1609211047
expect_ok "$ESXIMG" vib verify ghetto.vib
"$ESXIMG" vib info --json ghetto.vib >ours.json || fail "info ours"
"$ESXIMG" vib info --json "$SHIPPED" >theirs.json || fail "info shipped"

step "compare the descriptors: identity differs (another author), content agrees"
python3 - <<'PY' >diff.txt || { cat diff.txt >&2; fail "descriptor comparison"; }
import json
ours, theirs = json.load(open("ours.json")), json.load(open("theirs.json"))
fields = ["name", "version", "vendor", "summary", "description", "relationships", "tags",
          "acceptance_level", "files", "live_install_allowed", "live_remove_allowed",
          "maintenance_mode", "stateless_ready", "overlay"]
diff = [f for f in fields if ours[f] != theirs[f]]
for f in diff:
    print("%s: ours %r, shipped %r" % (f, ours[f], theirs[f]))
pay = lambda j: [(p["name"], p["type"]) for p in j["payloads"]]
assert pay(ours) == pay(theirs) == [("payload1", "vgz")], (pay(ours), pay(theirs))
# the JakDaniels stage is another author's ghettoVCB package: only its identity differs
assert diff == ["version", "vendor", "summary", "description"], diff
PY
cat diff.txt

step "with the shipped identity given as options every compared field agrees"
expect_ok "$ESXIMG" vib create -s stage -o same.vib --version 1.0.0-0.0.0 \
    --vendor virtuallyGhetto --summary "[Fling] ghettoVCB VM backup and restore script" \
    --description 9303bbac2dfc99bac89b70abde749c3bc6b6b4ed \
    --release-date 2020-12-29T03:03:07+00:00 --mtime 1609252862
"$ESXIMG" vib info --json same.vib >same.json || fail "info same"
python3 - <<'PY' || fail "shipped identity comparison"
import json
ours, theirs = json.load(open("same.json")), json.load(open("theirs.json"))
for f in ["name", "version", "vendor", "vib_id", "type", "summary", "description",
          "release_date", "relationships", "tags", "acceptance_level", "files",
          "live_install_allowed", "live_remove_allowed", "maintenance_mode",
          "stateless_ready", "overlay", "file_count"]:
    assert ours[f] == theirs[f], (f, ours[f], theirs[f])
PY

step "the payloads hold the same files, contents and modes"
ar p same.vib payload1 >ours.v00 2>/dev/null || "$ESXIMG" vib extract same.vib -C ours
[ -f ours.v00 ] || cp ours/payload1 ours.v00
"$ESXIMG" vmtar t -v ours.v00 | sed 's/@0x[0-9a-f]*//' >ours.lst || fail "list ours"
"$ESXIMG" vmtar t -v shipped/payload1 | sed 's/@0x[0-9a-f]*//' | sort >theirs.lst ||
    fail "list shipped"
sort ours.lst >ours.sorted
expect_same_file ours.sorted theirs.lst

step "the re-created VIB is deterministic"
expect_ok "$ESXIMG" vib create -s stage -o ghetto2.vib --mtime 1609211047
expect_same_file ghetto.vib ghetto2.vib

done_testing
