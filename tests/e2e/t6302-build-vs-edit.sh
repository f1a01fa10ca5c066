#!/bin/sh
# t6302: the ISO `esximg build` makes of the test generator's full depot (7.0 and 8.0) and the
# ISO the generator makes of the same VIBs agree: `esximg diff` sees no VIB difference, the
# file lists are the same but for the tail tgz files only the generator writes, BOOT.CFG has
# the same kernel and modules in the same order, IMGDB.TGZ the same descriptors, .orig/.sig
# and bulletins and the same VIBs and payload names in its profile, `esximg info` finds no
# problem on either; `esximg export` of the built ISO gives back every .vib of the depot
# byte for byte.  What only one of them writes is listed in docs/build.md.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# files only the generator writes, as 7.0 U2 and later stock images have them: esximg build
# puts every non-module payload into IMGPAYLD.TGZ alone (docs/build.md)
ONLY_GEN='/BASEMISC.TGZ /RESVIBS.TGZ /ESXIODPT.TGZ'

# iso_files ISO: every file path of ISO, sorted
iso_files() {
    xorriso -indev "$1" -find / -type f 2>/dev/null | tr -d "'" | sort
}

# extract ISO PATH DEST (DEST replaced)
extract() {
    rm -rf "$3"
    xorriso -osirrox on -indev "$1" -extract "$2" "$3" >/dev/null 2>&1 ||
        fail "cannot extract $2 from $1"
    chmod -R u+w "$3"
}

for v in 7.0 8.0; do
    step "$v: the generator's ISO and depot of the same VIBs; esximg build of the depot"
    expect_ok python3 "$GEN" --version "$v" -o "g$v.iso" --depot "d$v.zip" --manifest "m$v.json"
    profile=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["depot"]["profile"])' "m$v.json")
    expect_ok "$ESXIMG" build -o "b$v.iso" --depot "d$v.zip" --profile "$profile"

    step "$v: esximg info finds no problem on either"
    for i in "g$v.iso" "b$v.iso"; do
        expect_ok "$ESXIMG" info "$i"
        expect_grep '^problems: +none$' out
    done

    step "$v: esximg diff: no VIB difference"
    expect_exit 3 "$ESXIMG" diff --json "g$v.iso" "b$v.iso"
    python3 - <<'PY' || fail "esximg diff: $(cat out)"
import json
d = json.load(open('out'))
vib = [x for x in d['differences'] if x['what'].startswith('vib_')]
assert not vib, vib
assert d['a']['vib_count'] == d['b']['vib_count'] == 6, d
# the rest: the tail tgz files only the generator writes, and the profile's acceptance
# level (the generator writes partner as VMware's standard profiles have it, esximg build
# the lowest level of the VIBs)
rest = {(x['what'], x['name']) for x in d['differences']}
allowed = {('module_removed', m) for m in ('/basemisc.tgz', '/resvibs.tgz', '/esxiodpt.tgz')}
allowed.add(('profile_acceptance', None))
# and the base image record, which the generator's image database does not carry
allowed.add(('base_image', None))
assert rest <= allowed, rest - allowed
base = [x for x in d['differences'] if x['what'] == 'base_image']
assert all(x['old'] is None and x['new'].startswith('ESXi_') for x in base), base
PY

    step "$v: the same files but for those only the generator writes"
    iso_files "g$v.iso" >g.files
    iso_files "b$v.iso" >b.files
    [ "$(wc -l <b.files)" -gt 20 ] || fail "b$v.iso lists $(wc -l <b.files) files"
    for f in $ONLY_GEN; do grep -vxF "$f" g.files >g.tmp || true; mv g.tmp g.files; done
    expect_same_file g.files b.files

    step "$v: BOOT.CFG: the same kernel, kernelopt, build and modules in the same order"
    for i in g b; do
        extract "$i$v.iso" /BOOT.CFG "$i.cfg"
        grep -E '^(kernel|kernelopt|build)=' "$i.cfg" >"$i.keys"
        grep '^modules=' "$i.cfg" | sed 's/^modules=//; s/ --- /\n/g' |
            grep -vxE '/(basemisc|resvibs|esxiodpt)\.tgz' >"$i.modules"
    done
    expect_same_file g.keys b.keys
    expect_same_file g.modules b.modules
    expect_grep '^/imgpayld.tgz$' b.modules

    step "$v: IMGDB.TGZ: the same descriptors, .orig, .sig and bulletins; the profile's VIBs"
    for i in g b; do
        extract "$i$v.iso" /IMGDB.TGZ "$i.tgz"
        rm -rf "$i.db" && mkdir "$i.db"
        tar xzf "$i.tgz" -C "$i.db" || fail "cannot unpack $i$v.iso IMGDB.TGZ"
    done
    diff -r g.db/var/db/esximg/vibs b.db/var/db/esximg/vibs >dbdiff || fail "vibs/: $(cat dbdiff)"
    diff -r g.db/var/db/esximg/bulletins b.db/var/db/esximg/bulletins >dbdiff ||
        fail "bulletins/: $(cat dbdiff)"
    [ "$(ls g.db/var/db/esximg/vibs | grep -c '\.xml\.sig$')" -eq 6 ] ||
        fail "not every VIB is signed in g$v.iso"
    [ "$(ls b.db/var/db/esximg/bulletins | wc -l)" -eq 6 ] || fail "bulletins: $(ls b.db)"
    python3 - g.db b.db <<'PY' || fail "the image profiles differ in their VIBs"
import glob, re, sys
def vibs(db):
    found = glob.glob(db + '/var/db/esximg/profiles/*')
    assert len(found) == 1, found
    text = open(found[0]).read()
    # the VIBs with their payload to file maps; the header (creator, id, times,
    # description, readonly, acceptance) is each tool's own (docs/build.md)
    return re.search(r'<viblist>.*</viblist>', text, re.S).group(0)
g, b = vibs(sys.argv[1]), vibs(sys.argv[2])
assert g.count('<vib-id>') == 6, g
assert g == b, (g, b)
PY

    step "$v: esximg export of the built ISO gives back the depot's .vib files byte for byte"
    expect_ok "$ESXIMG" export "b$v.iso" -o "e$v.zip"
    expect_grep ': 6 VIBs, 0 left out$' out
    python3 - "d$v.zip" "e$v.zip" <<'PY' || fail "exported VIBs differ from the depot's"
import sys, zipfile
depot, exported = (zipfile.ZipFile(f) for f in sys.argv[1:3])
def vibs(z):
    return sorted(n for n in z.namelist() if n.startswith('vib20/') and n.endswith('.vib'))
assert vibs(depot) == vibs(exported), (vibs(depot), vibs(exported))
for n in vibs(depot):
    # the ar headers' details aside (docs/authoring.md): names, order and bytes of members
    a, b = depot.read(n), exported.read(n)
    def members(data):
        pos, out = 8, []
        while pos < len(data):
            size = int(data[pos + 48:pos + 58])
            out.append((data[pos:pos + 16].rstrip(), data[pos + 60:pos + 60 + size]))
            pos += 60 + size + size % 2
        return out
    assert members(a) == members(b), n
    assert len(members(a)) > 2 and members(a)[1][1], n
PY
done

done_testing
