#!/bin/sh
# vib create from options and folders, then depot create: read back by esximg and by
# independent tools (ar, python3 tarfile and zipfile, unzip).
. "$(dirname "$0")/lib.sh"
need_tool python3

step "a payload tree with a sticky folder, an executable and a link"
mkdir -p tree/opt/demo/bin tree/tmp/spool
printf '#!/bin/sh\necho demo\n' >tree/opt/demo/bin/demo.sh
chmod 0755 tree/opt/demo/bin/demo.sh
printf 'a=1\n' >tree/opt/demo/demo.conf
chmod 1777 tree/tmp/spool
ln -s bin/demo.sh tree/opt/demo/run
mkdir -p conf/etc/demo
printf 'x=y\n' >conf/etc/demo/extra.conf

step "vib create from options, one vgz and one tgz payload"
expect_ok "$ESXIMG" vib create -o demo.vib --name demo --version 1.2.3-1 --vendor Acme \
    --summary "Demo tool" --description "A demo" --payload demo="$T/tree" \
    --payload democonf="$T/conf:tgz" --depends "esx-version >= 7.0.0" --tag tool \
    --live-install --mtime 1700000000
expect_ok "$ESXIMG" vib verify demo.vib
expect_grep '^demo.vib: ok$' out
expect_ok "$ESXIMG" vib info --json demo.vib
python3 - <<'PY' || fail "vib info --json"
import json
j = json.load(open("out"))
assert j["name"] == "demo" and j["version"] == "1.2.3-1" and j["vendor"] == "Acme", j
assert j["acceptance_level"] == "community"
assert j["relationships"]["depends"] == [{"name": "esx-version", "relation": ">=",
                                         "version": "7.0.0"}], j["relationships"]
assert j["tags"] == ["tool"] and j["live_install_allowed"] and j["stateless_ready"]
assert j["files"] == ["etc/demo/extra.conf", "opt/demo/bin/demo.sh", "opt/demo/demo.conf",
                      "opt/demo/run"], j["files"]
assert [(p["name"], p["type"]) for p in j["payloads"]] == [("demo", "vgz"),
                                                           ("democonf", "tgz")]
sums = [(c["type"], c["verify_process"]) for c in j["payloads"][0]["checksums"]]
assert sums == [("sha-256", "gunzip"), ("sha-256", None), ("sha-1", "gunzip")], sums
assert j["release_date"] == "2023-11-14T22:13:20.000000+00:00", j["release_date"]
assert j["dialect"] == "vmware" and not j["signed"]
PY

step "ar lists descriptor.xml, sig.pkcs7 and the payloads; sig.pkcs7 is empty"
need_tool ar
ar t demo.vib >members
printf 'descriptor.xml\nsig.pkcs7\ndemo\ndemoconf\n' >want
expect_same_file members want
ar p demo.vib sig.pkcs7 >sig
[ ! -s sig ] || fail "sig.pkcs7 is not empty"

step "the vgz payload is a vmtar keeping the sticky bit"
ar p demo.vib demo >demo.v00
expect_ok "$ESXIMG" vmtar t -v demo.v00
expect_grep '^drwxr-xr-t root/root .* tmp/spool/$' out
expect_grep '^-rwxr-xr-x root/root .* opt/demo/bin/demo.sh$' out

step "python3 tarfile reads the tgz payload"
ar p demo.vib democonf >democonf.tgz
python3 - <<'PY' || fail "tarfile"
import tarfile
with tarfile.open("democonf.tgz", "r:gz") as t:
    names = [(m.name, m.type, m.uid, m.uname, m.mtime) for m in t.getmembers()]
    assert [n[0] for n in names] == ["etc", "etc/demo", "etc/demo/extra.conf"], names
    assert all(n[2] == 0 and n[3] == "root" and n[4] == 1700000000 for n in names), names
    assert t.extractfile("etc/demo/extra.conf").read() == b"x=y\n"
PY

step "the same inputs give the same bytes under another TZ and umask"
(umask 077; TZ=Asia/Kolkata "$ESXIMG" vib create -o again.vib --name demo \
    --version 1.2.3-1 --vendor Acme --summary "Demo tool" --description "A demo" \
    --payload demo="$T/tree" --payload democonf="$T/conf:tgz" \
    --depends "esx-version >= 7.0.0" --tag tool --live-install --mtime 1700000000) ||
    fail "second create"
expect_same_file demo.vib again.vib

step "SOURCE_DATE_EPOCH gives the member times and the release date"
SOURCE_DATE_EPOCH=86400 expect_ok "$ESXIMG" vib create -o sde.vib --name sde \
    --version 1.0-1 --vendor Acme --payload p="$T/conf"
expect_ok "$ESXIMG" vib info sde.vib
expect_grep '^release-date: +1970-01-02T00:00:00.000000\+00:00$' out

step "depot create, then depot ls names the VIBs and their components"
SOURCE_DATE_EPOCH=1700000000 expect_ok "$ESXIMG" depot create -o bundle.zip demo.vib sde.vib \
    --vendor-name "Acme Inc" --vendor-code ACM
expect_ok "$ESXIMG" depot ls bundle.zip
expect_grep '^demo 1.2.3-1 Acme community demo_1.2.3-1 vib20/demo/Acme_bootbank_demo_1.2.3-1.vib$' out
expect_grep '^sde 1.0-1 Acme community sde_1.0-1 ' out
expect_ok "$ESXIMG" depot ls -v bundle.zip
expect_grep ' ok vib20/demo/' out
expect_ok "$ESXIMG" depot ls --json bundle.zip
python3 - <<'PY' || fail "depot ls --json"
import json
j = json.load(open("out"))
assert j["kind"] == "vmware" and j["vendor_name"] == "Acme Inc" and j["vendor_code"] == "ACM"
assert [c["id"] for c in j["components"]] == ["demo_1.2.3-1", "sde_1.0-1"], j["components"]
assert all(v["metadata"]["check"] == "ok" for v in j["vibs"])
PY

step "one component for every VIB with --component"
expect_ok "$ESXIMG" depot create -o comp.zip demo.vib sde.vib --component Acme-Suite:2.0-1
expect_ok "$ESXIMG" depot ls comp.zip
expect_grep '^demo .* Acme-Suite_2.0-1 vib20/' out
expect_grep '^sde .* Acme-Suite_2.0-1 vib20/' out

step "python3 zipfile and unzip list the bundle; no extra fields, fixed times"
python3 - <<'PY' || fail "zipfile"
import zipfile, io
z = zipfile.ZipFile("bundle.zip")
names = z.namelist()
assert names == ["index.xml", "metadata.zip", "vendor-index.xml",
                 "vib20/demo/Acme_bootbank_demo_1.2.3-1.vib",
                 "vib20/sde/Acme_bootbank_sde_1.0-1.vib"], names
assert all(i.extra == b"" and i.date_time == (2023, 11, 14, 22, 13, 20) for i in z.infolist())
assert z.testzip() is None
m = zipfile.ZipFile(io.BytesIO(z.read("metadata.zip")))
mn = m.namelist()
assert mn[0:2] == ["bulletins/demo_1.2.3-1.xml", "bulletins/sde_1.0-1.xml"], mn
assert mn[2] == "vendor-index.xml" and mn[-1] == "vmware.xml", mn
assert all(n.startswith("vibs/demo-") or n.startswith("vibs/sde-") for n in mn[3:5]), mn
b = m.read("bulletins/demo_1.2.3-1.xml").decode()
assert b.startswith("<bulletin><id>demo_1.2.3-1</id>") and "\n" not in b, b
assert '<componentNameSpec name="demo" uiString="demo"/>' in b, b
x = m.read(mn[3]).decode()
assert x.startswith(z.read("vib20/demo/Acme_bootbank_demo_1.2.3-1.vib")[68:68 + 30].decode())
assert "<relative-path>vib20/demo/Acme_bootbank_demo_1.2.3-1.vib</relative-path>" in x, x
PY
if command -v unzip >/dev/null 2>&1; then
    unzip -l bundle.zip >list
    expect_grep ' vib20/sde/Acme_bootbank_sde_1.0-1.vib$' list
fi

step "depot create is deterministic under another TZ and umask"
(umask 077; TZ=America/Los_Angeles SOURCE_DATE_EPOCH=1700000000 "$ESXIMG" depot create \
    -o bundle2.zip demo.vib sde.vib --vendor-name "Acme Inc" --vendor-code ACM) ||
    fail "second depot create"
expect_same_file bundle.zip bundle2.zip

done_testing
