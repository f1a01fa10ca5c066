#!/bin/sh
# t6301: what `esximg build` takes from full depots (tests/gen/mkesxiso.py --depot): --profile
# exactly the profile's VIBs (7.0, 8.0 and 6.7, which has profiles only), --base-image the
# base image's components, --addon its components over them less its removed ones (the base
# image and add-on kept in IMGDB.TGZ as the depot holds them, and shown by `info`; what the
# add-on removed of the base image kept in reservedComponents/),
# --component NAME:VERSION that version from a newer patch depot; a depot without metadata
# for the selection gives nothing unless a component is asked for; each refusal is one line,
# exit 1, nothing written.
. "$(dirname "$0")/lib.sh"
need_image_tools
export SOURCE_DATE_EPOCH=1700000000

# the manifest's value at a dotted path, or a check of the build's --json against it
manifest() {
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); v=eval('m'+sys.argv[2]); \
print(v if isinstance(v, str) else json.dumps(v))" "$1" "$2"
}

# refused: exit 1, one error line (beside the depots' warnings) naming `what`, no output and
# no work folder left
refused() {
    what=$1
    shift
    expect_exit 1 "$ESXIMG" build -o no.iso "$@"
    [ "$(grep -vc '^esximg: warning: ' err)" -eq 1 ] || fail "not one line: $(cat err)"
    expect_grep "$what" err
    [ ! -e no.iso ] || fail "no.iso was written"
    ls no.iso.build-* >/dev/null 2>&1 && fail "a work folder was left behind"
    return 0
}

for ver in 7.0 8.0 6.7; do
    step "$ver: the generator's full depot and its manifest"
    SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version "$ver" \
        --depot "d$ver.zip" --manifest "m$ver.json" --workdir "g$ver"
    prof=$(manifest "m$ver.json" "['depot']['profile']")

    step "$ver: --profile gives exactly the profile's VIBs, its name and vendor"
    expect_ok "$ESXIMG" build -o "p$ver.iso" --depot "d$ver.zip" --profile "$prof" --json
    python3 - "m$ver.json" <<'PY' || fail "--profile: $(cat out)"
import json, sys
m = json.load(open(sys.argv[1]))['depot']
j = json.load(open('out'))
want = sorted(v['vib_id'] for v in m['vibs'])
assert j['vibs'] == want, (j['vibs'], want)
assert j['profile'] == m['profile'], j['profile']
# 7.0 and later: the base image whose components the profile holds (6.7 has none)
want_base = m['base_image']['release_id'] if m.get('base_image') else None
assert j['base_image'] == want_base and j['addon'] is None, j
assert all(c['origin'] == 'profile' for c in j['components']), j['components']
assert sorted(c['id'] for c in j['components']) == sorted(c['id'] for c in m['components'])
PY
    expect_ok "$ESXIMG" info --json "p$ver.iso"
    python3 - "$prof" "m$ver.json" <<'PY' || fail "info: $(cat out)"
import json, sys
i = json.load(open('out'))
m = json.load(open(sys.argv[2]))['depot']
assert i['problems'] == [], i['problems']
assert i['base_image'] == (m['base_image']['release_id'] if m.get('base_image') else None), i
assert i['addon'] is None, i
assert i['profile']['name'] == sys.argv[1], i['profile']
assert i['profile']['creator'] == 'VMware, Inc.', i['profile']
assert i['profile']['acceptance'] == 'partner', i['profile']
PY
    refused "image profile 'nothere' is in no depot" --depot "d$ver.zip" --profile nothere
done

step "6.7 has no base images: --base-image is refused by name"
refused "base image '6.7.0-0.0.1' is in no depot" --depot d6.7.zip --base-image 6.7.0-0.0.1

for ver in 7.0 8.0; do
    base=$(manifest "m$ver.json" "['depot']['base_image']['version']")
    addon=$(manifest "m$ver.json" "['depot']['addon']['name']")

    step "$ver: --base-image gives the base image's components and is named after it"
    expect_ok "$ESXIMG" build -o "b$ver.iso" --depot "d$ver.zip" --base-image "$base" --json
    python3 - "m$ver.json" "$base" <<'PY' || fail "--base-image: $(cat out)"
import json, sys
m = json.load(open(sys.argv[1]))['depot']
j = json.load(open('out'))
assert j['profile'] == 'ESXi-%s-custom' % sys.argv[2], j['profile']
assert j['base_image'] == m['base_image']['release_id'] and j['addon'] is None, j
# the generator's base image holds every component of the image
assert sorted(c['id'] for c in j['components']) == sorted(c['id'] for c in m['components'])
assert all(c['origin'] == 'base image' for c in j['components']), j['components']
assert j['vibs'] == sorted(v['vib_id'] for v in m['vibs']), j['vibs']
PY
    expect_ok "$ESXIMG" info --json "b$ver.iso"
    python3 -c "import json,sys; i=json.load(open('out')); sys.exit(1 if i['problems'] else 0)" ||
        fail "problems: $(cat out)"

    step "$ver: --addon adds and removes what the add-on says"
    expect_ok "$ESXIMG" build -o "a$ver.iso" --depot "d$ver.zip" --base-image "$base" \
        --addon "$addon" --json
    python3 - "m$ver.json" <<'PY' || fail "--addon: $(cat out)"
import json, sys
m = json.load(open(sys.argv[1]))['depot']
a = m['addon']
j = json.load(open('out'))
assert j['profile'] == '%s_%s' % (a['name'], a['version']), j['profile']
assert j['addon'] == a['release_id'], j
names = {c['name']: c for c in j['components']}
for gone in a['removed_components']:
    assert gone not in names, (gone, names)
    assert not any('_%s_' % gone in v for v in j['vibs']), j['vibs']
for name, version in a['components'].items():
    assert names[name]['version'] == version and names[name]['origin'] == 'add-on', names
assert len(j['components']) == len(m['components']) - len(a['removed_components'])
PY
    expect_ok "$ESXIMG" info --json "a$ver.iso"
    python3 - "m$ver.json" <<'PY' || fail "info: $(cat out)"
import json, sys
i = json.load(open('out'))
m = json.load(open(sys.argv[1]))['depot']
assert i['problems'] == [], i['problems']
assert i['profile']['creator'] == 'esximg test vendor', i['profile']
assert i['base_image'] == m['base_image']['release_id'], i
assert i['addon'] == m['addon']['release_id'], i
PY
    # IMGDB.TGZ keeps both documents byte for byte, as the depot's metadata.zip holds them
    rm -f "a$ver.tgz"
    xorriso -osirrox on -indev "a$ver.iso" -extract /IMGDB.TGZ "a$ver.tgz" >/dev/null 2>&1 ||
        fail "cannot extract IMGDB.TGZ from a$ver.iso"
    python3 - "a$ver.tgz" "d$ver.zip" "m$ver.json" <<'PY' || fail "IMGDB release records"
import io, json, sys, tarfile, zipfile
m = json.load(open(sys.argv[3]))['depot']
db = tarfile.open(sys.argv[1])
meta = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(sys.argv[2]).read('metadata.zip')))
for folder, rid in (('baseimages', m['base_image']['release_id']),
                    ('addons', m['addon']['release_id'])):
    got = db.extractfile('var/db/esximg/%s/%s.json' % (folder, rid)).read()
    want = [meta.read(n) for n in meta.namelist() if n.startswith(folder + '/')]
    assert [got] == want, (folder, got[:80], [w[:80] for w in want])
    others = [n for n in db.getnames() if n.startswith('var/db/esximg/%s/' % folder)]
    assert others == ['var/db/esximg/%s/%s.json' % (folder, rid)], others
# the base image's components the add-on removed are kept in reservedComponents/ as bulletins
gone = set(m['addon']['removed_components'])
want = {c['id'] for c in m['components'] if c['name'] in gone}
assert want, m['addon']
prefix = 'var/db/esximg/reservedComponents/'
got = {n[len(prefix):-4] for n in db.getnames() if n.startswith(prefix) and n.endswith('.xml')}
assert got == want, (got, want)
for cid in want:
    assert db.extractfile(prefix + cid + '.xml').read() == meta.read('bulletins/%s.xml' % cid)
PY

    step "$ver: --component NAME:VERSION takes that version from a newer patch depot"
    SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version "$ver" --patch 1 \
        --depot "q$ver.zip" --manifest "n$ver.json" --workdir "h$ver"
    newer=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['depot']; \
print([c['version'] for c in m['components'] if c['name'] == 'ne1000'][0])" "n$ver.json")
    older=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['depot']; \
print([c['version'] for c in m['components'] if c['name'] == 'ne1000'][0])" "m$ver.json")
    [ "$newer" != "$older" ] || fail "the patch depot has the same ne1000"
    expect_ok "$ESXIMG" build -o "c$ver.iso" --depot "d$ver.zip" --depot "q$ver.zip" \
        --base-image "$base" --component "ne1000:$newer" --json
    python3 - "$newer" "$base" <<'PY' || fail "--component: $(cat out)"
import json, sys
j = json.load(open('out'))
names = {c['name']: c for c in j['components']}
assert names['ne1000']['version'] == sys.argv[1], names['ne1000']
assert names['ne1000']['origin'] == 'component', names['ne1000']
assert names['ESXi']['version'] == sys.argv[2], names['ESXi']
assert sum(1 for v in j['vibs'] if '_ne1000_' in v) == 1, j['vibs']
PY
    # the base image's version and the older ne1000 stay when nothing newer is asked for
    expect_ok "$ESXIMG" build -o "o$ver.iso" --depot "d$ver.zip" --depot "q$ver.zip" \
        --base-image "$base" --json
    python3 - "$older" <<'PY' || fail "base image with a patch depot: $(cat out)"
import json, sys
j = json.load(open('out'))
names = {c['name']: c for c in j['components']}
assert names['ne1000']['version'] == sys.argv[1], names['ne1000']
PY
    # asking for an older version than the base image's keeps the base image's, with a warning
    newbase=$(manifest "n$ver.json" "['depot']['base_image']['version']")
    expect_ok "$ESXIMG" build -o "w$ver.iso" --depot "d$ver.zip" --depot "q$ver.zip" \
        --base-image "$newbase" --component "ne1000:$older"
    expect_grep "component 'ne1000' .* is older than base image's" err

    step "$ver: refusals are one line, exit 1, nothing written"
    refused "base image '1.0.0-0.0.1' is in no depot" --depot "d$ver.zip" --base-image 1.0.0-0.0.1
    refused "add-on 'nothere' is in no depot" --depot "d$ver.zip" --base-image "$base" \
        --addon nothere
    refused "add-on '$addon:0.1' is in no depot" --depot "d$ver.zip" --base-image "$base" \
        --addon "$addon:0.1"
    refused "component 'nothere' is in no depot" --depot "d$ver.zip" --base-image "$base" \
        --component nothere
    refused "component 'ne1000' version '0.1' is in no depot" --depot "d$ver.zip" \
        --base-image "$base" --component ne1000:0.1
done

step "a depot whose profile names a VIB that no depot has"
python3 - d7.0.zip gone.zip <<'PY' || fail "cannot make gone.zip"
import sys, zipfile
src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED)
for i in src.infolist():
    if '/esx-base/' not in i.filename:
        dst.writestr(i, src.read(i))
dst.close()
PY
prof=$(manifest m7.0.json "['depot']['profile']")
refused "vib 'VMware_bootbank_esx-base_7.0.2-0.0.17630552' of image profile '$prof' is in no depot" \
    --depot gone.zip --profile "$prof"
# with the VIB in another depot, the profile is whole again
expect_ok "$ESXIMG" build -o gone.iso --depot gone.zip --depot d7.0.zip --profile "$prof" -q

step "two depots with other documents for one base image version"
python3 - d7.0.zip other.zip <<'PY' || fail "cannot make other.zip"
import io, sys, zipfile
src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED)
for i in src.infolist():
    data = src.read(i)
    if i.filename == 'metadata.zip':
        inner, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
        out = zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED)
        for k in inner.infolist():
            b = inner.read(k)
            if k.filename.startswith('baseimages/'):
                b = b.replace(b'"summary": "', b'"summary": "changed ')
            out.writestr(k, b)
        out.close()
        data = buf.getvalue()
    dst.writestr(i, data)
dst.close()
PY
base=$(manifest m7.0.json "['depot']['base_image']['version']")
expect_ok "$ESXIMG" depot ls other.zip
refused "base images '.*' and '.*' differ for version '$base'" --depot d7.0.zip --depot other.zip \
    --base-image "$base"
# the same depot twice is one base image
expect_ok "$ESXIMG" build -o twice.iso --depot d7.0.zip --depot d7.0.zip --base-image "$base" -q

step "a bundle without metadata for the selection gives no VIB unless asked for"
mkdir -p drv/payloads/drv/etc
printf 'x\n' >drv/payloads/drv/etc/drv.conf
expect_ok "$ESXIMG" vib create -o drv.vib --payload drv=drv/payloads/drv --name test-drv \
    --version 1.0-1 --vendor Test --acceptance partner
expect_ok "$ESXIMG" depot create -o drv.zip drv.vib
expect_ok "$ESXIMG" build -o n.iso --depot d7.0.zip --depot drv.zip --base-image "$base" --json
expect_no_grep 'test-drv' out
expect_ok "$ESXIMG" build -o y.iso --depot d7.0.zip --depot drv.zip --base-image "$base" \
    --component test-drv --json
expect_grep 'Test_bootbank_test-drv_1.0-1' out
expect_ok "$ESXIMG" build -o z.iso --depot d7.0.zip --profile "$prof" --add drv.vib -q
expect_ok "$ESXIMG" ls z.iso
expect_grep '^test-drv ' out

done_testing
