#!/bin/sh
# t4100: `esximg ls --vibs` lists exactly the VIBs the generator put in each 6.7, 7.0 and 8.0
# image (its --manifest): ids, names, versions, vendors, acceptance, payload modules and sizes.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# check_vibs LS_JSON MANIFEST
check_vibs() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
if list(j) != ['file', 'vibs']:
    sys.exit('top keys %r' % list(j))
got = {v['vib_id']: v for v in j['vibs']}
want = {v['vib_id']: v for v in m['vibs']}
if [v['vib_id'] for v in j['vibs']] != sorted(got):
    sys.exit('not sorted by vib-id')
if set(got) != set(want):
    sys.exit('vib ids differ: extra %r, missing %r' % (set(got) - set(want), set(want) - set(got)))
keys = ['vib_id', 'name', 'version', 'vendor', 'acceptance', 'type', 'summary', 'in_profile',
        'payloads']
for vid, w in want.items():
    g = got[vid]
    if list(g) != keys:
        sys.exit('%s: keys %r' % (vid, list(g)))
    for k in ('name', 'version', 'vendor', 'acceptance', 'type'):
        if g[k] != w[k]:
            sys.exit('%s: %s %r, want %r' % (vid, k, g[k], w[k]))
    if vid != '%s_%s_%s_%s' % (g['vendor'], g['type'], g['name'], g['version']):
        sys.exit('%s: id is not vendor_type_name_version' % vid)
    if g['in_profile'] is not True:
        sys.exit('%s: not in the profile' % vid)
    gp = [(p['name'], p['type'], p['size'], p['module'], p['module_size']) for p in g['payloads']]
    # a loader payload (isolinux.bin, BOOTx64.EFI, ...) maps to no module file
    wp = [(p['name'], p['type'], p['size'], p['module'], p['size'] if p['module'] else None)
          for p in w['payloads']]
    if gp != wp:
        sys.exit('%s: payloads %r, want %r' % (vid, gp, wp))
print('vibs ok: %d' % len(got))
PY
}

for v in 6.7 7.0 8.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" --vmklinux -o "esx$v.iso" --manifest "m$v.json"

    step "$v: ls --vibs --json is the manifest's VIB set"
    expect_ok "$ESXIMG" ls --vibs --json "esx$v.iso"
    mv out "vibs$v.json"
    expect_ok check_vibs "vibs$v.json" "m$v.json"

    step "$v: --vibs is the default, text and JSON"
    expect_ok "$ESXIMG" ls --json "esx$v.iso"
    expect_same_file out "vibs$v.json"
    expect_ok "$ESXIMG" ls "esx$v.iso"
    mv out "vibs$v.txt"
    expect_grep '^NAME +VERSION +VENDOR +ACCEPTANCE +SIZE +MODULES$' "vibs$v.txt"
    expect_lines "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["vibs"]) + 1)' "m$v.json")" "vibs$v.txt"
    python3 -c '
import json, sys
for v in json.load(open(sys.argv[1]))["vibs"]:
    print("^%s +%s +%s +%s .* %s$" % (v["name"], v["version"].replace(".", "\\."), v["vendor"],
          v["acceptance"], ",".join(p["module"][1:] for p in v["payloads"]
                                    if p["module"]).replace(".", "\\.")))
' "m$v.json" >want.re
    while IFS= read -r re; do
        expect_grep "$re" "vibs$v.txt"
    done <want.re

    step "$v: the driver VIBs carry their version rule (native: image suffix, vmklinux: 6.7)"
    case $v in
    6.7) suffix='670\.0\.0\.8169922' ;;
    7.0) suffix='702\.0\.0\.17630552' ;;
    8.0) suffix='800\.1\.0\.20513097' ;;
    esac
    expect_grep "^ne1000 +0\\.8\\.3-4vmw\\.$suffix " "vibs$v.txt"
    expect_grep '^net-e1000 +8\.0\.3\.1-5vmw\.670\.0\.0\.8169922 ' "vibs$v.txt"
    expect_grep '^net-e1000e +3\.2\.2\.1-2vmw\.670\.0\.0\.8169922 .* NET_E100\.V01$' "vibs$v.txt"
    expect_grep '^esx-base .* B\.B00,JUMPSTRT\.GZ,USEROPTS\.GZ,K\.B00,S\.V00,SB\.V00$' "vibs$v.txt"
done

step "a padded image lists the pad VIB with its full size (the pad is not read)"
expect_ok python3 "$GEN" --version 7.0 --vmklinux --pad-mib 3 -o pad.iso --manifest mpad.json
expect_ok "$ESXIMG" ls --vibs --json pad.iso
mv out padvibs.json
expect_ok check_vibs padvibs.json mpad.json
expect_grep '"name": "esximg-pad"' padvibs.json

step "misuse: two listings at once"
expect_exit 2 "$ESXIMG" ls --vibs --files esx7.0.iso
expect_exit 2 "$ESXIMG" ls
expect_exit 0 "$ESXIMG" ls --help
expect_grep '^usage: esximg ls' out

done_testing
