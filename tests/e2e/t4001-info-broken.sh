#!/bin/sh
# t4001: `esximg info` on inconsistent images (mkesxiso.py --break KIND) names the problem the
# generator made, in text and JSON, and exits 3; the other commands still work on them.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# want_problems KIND JSON MANIFEST: the JSON problems are exactly the ones KIND must give
want_problems() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
kind, j, m = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
b = m['break']
if b is None or b['kind'] != kind:
    sys.exit('manifest break is %r' % b)
want = {
    'missing-module': [
        "module '/%s' in /BOOT.CFG is missing from the ISO" % b['module'],
        "module '%s' of '%s' is missing from the ISO" % (b['module'], b['vib_id'])],
    'bootcfg-differ': ['/BOOT.CFG and /EFI/BOOT/BOOT.CFG differ'],
    'module-size': ["module '%s' of '%s' is %d bytes, its descriptor says %d"
                    % (b['module'], b['vib_id'], b['module_size'], b['descriptor_size'])],
    'no-vib-xml': ["VIB '%s' is in the profile but has no descriptor in vibs/" % b['vib_id']],
    'no-profile-entry': ["VIB '%s' has a descriptor (vibs/%s) but is not in the profile"
                         % (b['vib_id'], b['xml_file'])],
    'module-bytes': [],
}[kind]
if j['problems'] != want:
    sys.exit('%s: problems %r, want %r' % (kind, j['problems'], want))
print('problems ok: %s' % kind)
PY
}

for v in 7.0 6.7; do
    step "$v: a consistent image has no problems (the baseline of what follows)"
    expect_ok python3 "$GEN" --version "$v" -o "good$v.iso"
    expect_ok "$ESXIMG" info "good$v.iso"

    for kind in missing-module bootcfg-differ module-size no-vib-xml no-profile-entry; do
        step "$v: --break $kind: info lists the problem and exits 3"
        expect_ok python3 "$GEN" --version "$v" --break "$kind" -o "$kind.iso" \
            --manifest "$kind.json"
        expect_exit 3 "$ESXIMG" info "$kind.iso"
        expect_grep '^problems: +[1-9]' out
        expect_exit 3 "$ESXIMG" info --json "$kind.iso"
        cp out "info-$kind.json"
        expect_ok want_problems "$kind" "info-$kind.json" "$kind.json"
        # every problem of the JSON is a line of the text
        expect_exit 3 "$ESXIMG" info "$kind.iso"
        cp out "text-$kind.txt"
        expect_ok python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
for p in j["problems"]:
    if "  " + p not in lines:
        sys.exit("not in the text: " + p)' "info-$kind.json" "text-$kind.txt"
    done

    step "$v: module-size: ls --vibs shows the descriptor size beside the module's"
    expect_ok "$ESXIMG" ls --vibs --json module-size.iso
    mv out ls.json
    expect_ok python3 -c '
import json, sys
j, m = json.load(open("ls.json")), json.load(open("module-size.json"))["break"]
v = [x for x in j["vibs"] if x["vib_id"] == m["vib_id"]][0]
p = v["payloads"][0]
want = (m["descriptor_size"], m["module_size"], "/" + m["module"].upper())
got = (p["size"], p["module_size"], p["module"])
sys.exit(0 if got == want else "got %r, want %r" % (got, want))'

    step "$v: no-vib-xml: the VIB is listed from the profile alone, without a descriptor"
    expect_ok "$ESXIMG" ls --vibs --json no-vib-xml.iso
    mv out ls.json
    expect_ok python3 -c '
import json, sys
j, m = json.load(open("ls.json")), json.load(open("no-vib-xml.json"))["break"]
v = [x for x in j["vibs"] if x["vib_id"] == m["vib_id"]][0]
ok = v["in_profile"] and v["name"] is None and v["payloads"] == []
sys.exit(0 if ok else "got %r" % v)'

    step "$v: no-profile-entry: the VIB is listed from its descriptor, not in the profile"
    expect_ok "$ESXIMG" ls --vibs --json no-profile-entry.iso
    mv out ls.json
    expect_ok python3 -c '
import json, sys
j, m = json.load(open("ls.json")), json.load(open("no-profile-entry.json"))["break"]
v = [x for x in j["vibs"] if x["vib_id"] == m["vib_id"]][0]
ok = not v["in_profile"] and v["name"] == "atlantic" and v["payloads"][0]["module"] is None
sys.exit(0 if ok else "got %r" % v)'

    step "$v: broken images still answer ls --drivers and hcl"
    for kind in missing-module bootcfg-differ module-size no-vib-xml no-profile-entry; do
        expect_ok "$ESXIMG" ls --drivers "$kind.iso"
        expect_grep '^ne1000 +native' out
        expect_exit 0 "$ESXIMG" hcl "$kind.iso" --pci 8086:10d3/0200
    done

    step "$v: module-bytes: same size, other sha-256: only info --verify sees it"
    expect_ok python3 "$GEN" --version "$v" --break module-bytes -o bytes.iso \
        --manifest bytes.json
    expect_ok "$ESXIMG" info --json bytes.iso
    cp out info-bytes.json
    expect_ok want_problems module-bytes info-bytes.json bytes.json
    expect_exit 3 "$ESXIMG" info --verify bytes.iso
    mod=$(python3 -c 'import json; print(json.load(open("bytes.json"))["break"]["module"])')
    expect_grep "^  module '$mod' of 'VMware_locker_tools-light_[^']*': sha-256 [0-9a-f]{64}, its descriptor says [0-9a-f]{64}\$" out
    expect_exit 3 "$ESXIMG" info --verify --json bytes.iso
    mv out verify.json
    expect_ok python3 -c '
import json, sys
sys.exit(0 if len(json.load(open("verify.json"))["problems"]) == 1 else "not one problem")'
done

step "the default output did not change: no --break means the same bytes"
expect_ok python3 "$GEN" --version 6.7 -o again.iso --manifest again.json
expect_same_file good6.7.iso again.iso
expect_ok python3 -c '
import json, sys
sys.exit(0 if json.load(open("again.json"))["break"] is None else "break set")'

step "an unknown --break kind is refused"
expect_exit 2 python3 "$GEN" --version 7.0 --break nonsense -o x.iso

done_testing
