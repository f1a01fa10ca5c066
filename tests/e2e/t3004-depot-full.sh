#!/bin/sh
# t3004: depot ls on a full depot (image profile, base image, add-ons, a folder esximg does not
# read), built here from `depot create` with the metadata members added by python's zipfile:
# the VIB lines stay as for a driver bundle, the profile, base image and add-on lines follow,
# the filters list one kind, --json carries them all, and two base images of one version are
# refused naming both.
. "$(dirname "$0")/lib.sh"
need_tool python3
export SOURCE_DATE_EPOCH=1700000000

step "a driver bundle of two VIBs"
mkdir -p pl/etc/vmware/default.map.d
echo 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168' \
    >pl/etc/vmware/default.map.d/r8168.map
expect_ok "$ESXIMG" vib create -o a.vib --name drv-a --version 1.0-1 --vendor custom --payload drv-a=pl
expect_ok "$ESXIMG" vib create -o b.vib --name drv-b --version 2.0-1 --vendor custom --payload drv-b=pl
expect_ok "$ESXIMG" depot create -o two.zip a.vib b.vib
expect_ok "$ESXIMG" depot ls two.zip
cp out plain.txt
expect_lines 2 plain.txt

# full DEPOT OUT [MEMBER=FILE]...: DEPOT with the members added to its metadata.zip
full() {
    python3 - "$@" <<'PY' || fail "python zip rewrite failed"
import io, sys, zipfile
src, dst, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
zin = zipfile.ZipFile(src)
out = zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED)
for info in zin.infolist():
    data = zin.read(info)
    if info.filename == 'metadata.zip':
        buf = io.BytesIO()
        meta = zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED)
        for m in zipfile.ZipFile(io.BytesIO(data)).infolist():
            meta.writestr(m, zipfile.ZipFile(io.BytesIO(data)).read(m))
        for e in extra:
            name, path = e.split('=', 1)
            meta.writestr(name, open(path, 'rb').read())
        meta.close()
        data = buf.getvalue()
    out.writestr(info, data)
out.close()
PY
}

cat >profile.xml <<'X'
<imageprofile><name>Custom-standard</name><creator>Tester Inc.</creator><description>both drivers</description><acceptancelevel>partner</acceptancelevel><viblist><vib><vib-id>custom_bootbank_drv-a_1.0-1</vib-id></vib><vib><vib-id>custom_bootbank_drv-b_2.0-1</vib-id></vib></viblist></imageprofile>
X
cat >base.json <<'X'
{"releaseID": "ESXi_7.0.2-0.0.100", "releaseType": "baseImage", "vendor": "VMware, Inc.",
 "summary": "base", "description": "the base", "docURL": "", "acceptanceLevel": "partner",
 "releaseDate": "2021-03-09T00:00:00", "schemaVersion": "1.0",
 "versionSpec": {"version": "7.0.2-0.0.100", "uiString": "7.0 U2 - 100"},
 "components": {"drv-a": "1.0-1"}, "quickPatchCompatibleVersions": []}
X
cat >addon.json <<'X'
{"releaseID": "Vendor-AddOn_1.0-1", "releaseType": "addon",
 "nameSpec": {"name": "Vendor-AddOn", "uiString": "Vendor add-on"},
 "versionSpec": {"version": "1.0-1", "uiString": "1.0"}, "vendor": "Vendor", "summary": "s",
 "description": "d", "docURL": "", "acceptanceLevel": "partner", "releaseDate": "2021-04-01",
 "schemaVersion": "1.0", "components": {"drv-b": "2.0-1"}, "removedComponents": [],
 "supportedBaseImageVersions": ["7.0.2"]}
X
echo '{}' >solution.json

step "depot ls on a full depot: the VIB lines, then one line per profile and release unit"
full two.zip full.zip profiles/Custom-standard=profile.xml \
    baseimages/ESXi_7.0.2-0.0.100.json=base.json addons/Vendor-AddOn_1.0-1.json=addon.json \
    solutions/vsan.json=solution.json
expect_ok "$ESXIMG" depot ls full.zip
head -2 out >vibs.txt
expect_same_file plain.txt vibs.txt
expect_lines 6 out
expect_grep '^profile Custom-standard partner 2 Tester Inc\.$' out
expect_grep '^base-image 7\.0\.2-0\.0\.100 ESXi_7\.0\.2-0\.0\.100 partner 2021-03-09T00:00:00 VMware, Inc\.$' out
expect_grep '^addon Vendor-AddOn 1\.0-1 Vendor-AddOn_1\.0-1 partner 2021-04-01 Vendor$' out
expect_grep "^not-understood metadata\.zip/solutions/vsan\.json: unknown folder 'solutions'$" out
expect_grep "^esximg: warning: full\.zip: metadata 'metadata\.zip/solutions/vsan\.json': unknown folder 'solutions'$" err

step "the filters list one kind"
expect_ok "$ESXIMG" depot ls full.zip --base-images
expect_lines 1 out
expect_grep '^7\.0\.2-0\.0\.100 ESXi_7\.0\.2-0\.0\.100 ' out
expect_ok "$ESXIMG" depot ls full.zip --addons
expect_lines 1 out
expect_grep '^Vendor-AddOn 1\.0-1 ' out
expect_ok "$ESXIMG" depot ls full.zip --profiles
expect_lines 1 out
expect_ok "$ESXIMG" depot ls full.zip --components
expect_lines 2 out
expect_grep '^drv-b 2\.0-1 ' out
expect_ok "$ESXIMG" depot ls full.zip --manifests
expect_lines 0 out
expect_exit 2 "$ESXIMG" depot ls full.zip --addons --profiles
expect_exit 2 "$ESXIMG" depot extract full.zip --addons

step "--json carries profiles, base images, add-ons and what is not understood"
expect_ok "$ESXIMG" depot ls --json full.zip
python3 - out <<'PY' || fail "json check failed"
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["name"] for p in d["profiles"]] == ["Custom-standard"], d["profiles"]
assert d["profiles"][0]["vib_ids"] == ["custom_bootbank_drv-a_1.0-1", "custom_bootbank_drv-b_2.0-1"]
b = d["base_images"][0]
assert b["version"] == "7.0.2-0.0.100" and b["components"] == [{"name": "drv-a", "version": "1.0-1"}], b
a = d["addons"][0]
assert a["name"] == "Vendor-AddOn" and a["supported_base_image_versions"] == ["7.0.2"], a
assert d["manifests"] == []
assert d["not_understood"] == [{"path": "metadata.zip/solutions/vsan.json",
                                "reason": "unknown folder 'solutions'"}], d["not_understood"]
PY
expect_ok "$ESXIMG" depot ls --json two.zip
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["profiles"] == [] and d["base_images"] == [] and d["not_understood"] == []' out \
    || fail "a driver bundle has full-depot entries"

step "two base images of one version: refused, naming both"
full two.zip twice.zip baseimages/one.json=base.json baseimages/two.json=base.json
expect_exit 1 "$ESXIMG" depot ls twice.zip
expect_lines 1 err
expect_grep "^esximg: twice\.zip: base images 'metadata\.zip/baseimages/one\.json' and 'metadata\.zip/baseimages/two\.json' have the same version '7\.0\.2-0\.0\.100'$" err
expect_lines 0 out

done_testing
