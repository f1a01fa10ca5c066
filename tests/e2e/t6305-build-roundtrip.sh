#!/bin/sh
# t6305: a depot of the result. `esximg build --format bundle` and `esximg export` of a built
# 7.0 image write, besides the VIBs, the image's components byte for byte, an image profile
# of its name and its base image and add-on: `depot ls` lists them, and `esximg build` from
# either bundle alone by the same base image and add-on gives the same image but for the
# reserved components (byte for byte with a base image alone), and by the bundle's profile
# the same VIBs and modules.
. "$(dirname "$0")/lib.sh"
need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "a 7.0 depot; an ISO and a bundle of its base image and add-on"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --depot d.zip \
    --manifest m.json --workdir g
field() {
    python3 -c "import json,sys; print(json.load(open('m.json'))['depot']$1)"
}
base=$(field "['base_image']['version']")
base_id=$(field "['base_image']['release_id']")
addon=$(field "['addon']['name']")
addon_id=$(field "['addon']['release_id']")
expect_ok "$ESXIMG" build -o a.iso --depot d.zip --base-image "$base" --addon "$addon" -q
expect_ok "$ESXIMG" build -o b.zip --format bundle --depot d.zip --base-image "$base" \
    --addon "$addon" -q
expect_ok "$ESXIMG" export a.iso -o x.zip -q
[ ! -s err ] || fail "export warned: $(cat err)"

for z in b.zip x.zip; do
    step "$z: the profile, base image, add-on and components of the image"
    expect_ok "$ESXIMG" depot ls --json "$z"
    python3 - "$z" "$base_id" "$addon_id" d.zip <<'PY' || fail "$z: $(head -c 3000 out)"
import io, json, sys, zipfile
z, base_id, addon_id, depot = sys.argv[1:5]
j = json.load(open('out'))
assert j['not_understood'] == [] and j['warnings'] == [], j
assert [p['name'] for p in j['profiles']] == [addon_id], j['profiles']
assert sorted(j['profiles'][0]['vib_ids']) == sorted(v['vib_id'] for v in j['vibs'])
assert [b['release_id'] for b in j['base_images']] == [base_id], j['base_images']
assert [a['release_id'] for a in j['addons']] == [addon_id], j['addons']
# the components and release units are the depot's documents, byte for byte
meta = lambda f: zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(f).read('metadata.zip')))
mine, theirs = meta(z), meta(depot)
for n in mine.namelist():
    if n.startswith(('bulletins/', 'baseimages/', 'addons/')):
        assert mine.read(n) == theirs.read(n), n
assert len([n for n in mine.namelist() if n.startswith('bulletins/')]) == len(j['components'])
PY
done

# what a bundle of the result cannot carry: the base image's components the add-on removed
# (their VIBs are not in the image), which a build keeps in reservedComponents/
same_but_reserved() {
    for f in "$1" "$2"; do
        rm -f "$f.tgz"
        xorriso -osirrox on -indev "$f" -extract /IMGDB.TGZ "$f.tgz" >/dev/null 2>&1 ||
            fail "cannot extract IMGDB.TGZ from $f"
    done
    python3 - "$1.tgz" "$2.tgz" <<'PY' || fail "$1 and $2: other image databases"
import sys, tarfile
a, b = (tarfile.open(f) for f in sys.argv[1:3])
res = 'var/db/esximg/reservedComponents/'
na = [n for n in a.getnames() if not n.startswith(res) and n != res.rstrip('/')]
assert any(n.startswith(res) and n != res for n in a.getnames()), a.getnames()
assert not any(n.startswith(res) for n in b.getnames()), b.getnames()
assert na == b.getnames(), (na, b.getnames())
for n in na:
    if a.getmember(n).isfile():
        assert a.extractfile(n).read() == b.extractfile(n).read(), n
PY
    expect_ok "$ESXIMG" diff "$1" "$2"
    iso_files() { xorriso -indev "$1" -find / -exec lsdl 2>/dev/null | grep -v IMGDB.TGZ |
                  awk '{print $5, $NF}'; }
    [ "$(iso_files "$1")" = "$(iso_files "$2")" ] || fail "$1 and $2: other files"
}

step "build's bundle alone gives the same image but the reserved components"
expect_ok "$ESXIMG" build -o again.iso --depot b.zip --base-image "$base" --addon "$addon" -q
same_but_reserved a.iso again.iso

step "a base image alone: the same image from the bundle, byte for byte"
expect_ok "$ESXIMG" build -o base.iso --depot d.zip --base-image "$base" -q
expect_ok "$ESXIMG" build -o base.zip --format bundle --depot d.zip --base-image "$base" -q
expect_ok "$ESXIMG" build -o base2.iso --depot base.zip --base-image "$base" -q
cmp -s base.iso base2.iso || fail "the image built from the bundle differs"

step "export's bundle alone gives the same image but the reserved components"
expect_ok "$ESXIMG" build -o fromx.iso --depot x.zip --base-image "$base" --addon "$addon" -q
same_but_reserved a.iso fromx.iso

step "and by its profile the same VIBs and modules (a profile records no add-on)"
expect_ok "$ESXIMG" build -o byprof.iso --depot x.zip --profile "$addon_id" -q
# the add-on removed a base image component: no base image is the profile's, and a profile
# has no add-on; diff says so and finds no VIB or module difference
expect_exit 3 "$ESXIMG" diff a.iso byprof.iso
expect_grep "^~ base image $base_id -> none\$" out
expect_grep "^~ add-on $addon_id -> none\$" out
expect_no_grep ' vib \| module ' out
for f in a byprof; do
    expect_ok "$ESXIMG" info --json "$f.iso"
    python3 -c "import json; i=json.load(open('out')); \
print(i['profile']['name'], ' '.join(i['modules']), len(i['problems']))" >"$f.facts"
done
expect_grep "^$addon_id /.*/imgdb.tgz /imgpayld.tgz 0$" a.facts
cmp -s a.facts byprof.facts || fail "they differ: $(cat a.facts byprof.facts)"

step "a profile naming a VIB the bundle lacks is not written"
python3 - <<'PY' || fail "cannot drop the VIB"
import zipfile
src, dst = zipfile.ZipFile('x.zip'), zipfile.ZipFile('nox.zip', 'w', zipfile.ZIP_STORED)
for i in src.infolist():
    if '/ne1000/' not in i.filename:
        dst.writestr(i, src.read(i))
dst.close()
PY
expect_exit 1 "$ESXIMG" build -o no.iso --depot nox.zip --profile "$addon_id"
expect_grep "vib 'VMW_bootbank_ne1000_.*' of image profile '$addon_id' is in no depot" err
[ ! -e no.iso ] || fail "no.iso was written"
