#!/bin/sh
# t7010: mkesxiso.py --depot writes the image's VIBs as a full VMware-style depot (index.xml,
# vendor-index.xml, metadata.zip with vmware.xml, vibs/, bulletins/, profiles/, and on 7.0+
# baseimages/ and addons/, vib20/<name>/<id>.vib): esximg reads it and verifies every .vib,
# each payload matches its descriptor and the ISO file section 5.3 puts it at, the bytes are
# reproducible, --patch makes a newer patch of the release, and an ISO made by xorriso from
# the depot's esx-base loader payloads with ESXi's own ISOLINUX.CFG boots under SeaBIOS to
# mboot.c32, which shows BOOT.CFG on the screen (seen through SeaBIOS's sercon).
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000
CA="$E2E_DIR/../gen/testsign.pem"

# check_depot DEPOT MANIFEST [ISO]: the depot's layout and every VIB in it against the
# manifest, each payload against its descriptor, and with ISO against the image's files
check_depot() {
    python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, re, subprocess, sys, tarfile, zipfile
depot, manifest = sys.argv[1], sys.argv[2]
iso = sys.argv[3] if len(sys.argv) > 3 else None
m = json.load(open(manifest))
d = m['depot']
def fail(msg):
    sys.exit('depot: ' + msg)

def members_sorted_and_pinned(z, what):
    names = z.namelist()
    if names != sorted(names):
        fail('%s: members not sorted' % what)
    for i in z.infolist():
        if i.date_time != (2020, 9, 13, 12, 26, 40) or i.external_attr >> 16 != 0o100644:
            fail('%s: %s has time %r attributes %o' % (what, i.filename, i.date_time,
                                                         i.external_attr >> 16))

z = zipfile.ZipFile(depot)
members_sorted_and_pinned(z, depot)
vib_paths = sorted(v['path'] for v in d['vibs'])
if sorted(n for n in z.namelist() if n.startswith('vib20/')) != vib_paths:
    fail('vib20/ members differ from the manifest')
for n in ('index.xml', 'vendor-index.xml', 'metadata.zip'):
    if n not in z.namelist():
        fail('no ' + n)
md = zipfile.ZipFile(io.BytesIO(z.read('metadata.zip')))
members_sorted_and_pinned(md, 'metadata.zip')
mnames = md.namelist()
seven = m['generator_version'] != '6.7'
want_dirs = {'vibs', 'bulletins', 'profiles'} | ({'baseimages', 'addons'} if seven else set())
got_dirs = {n.split('/')[0] for n in mnames if '/' in n}
if got_dirs != want_dirs:
    fail('metadata.zip folders %r, want %r' % (sorted(got_dirs), sorted(want_dirs)))
vmware = md.read('vmware.xml').decode()

def ar_members(data):
    if data[:8] != b'!<arch>\n':
        fail('not an ar archive')
    pos, out = 8, []
    while pos < len(data):
        h = data[pos:pos + 60].decode()
        if h[58:60] != '`\n' or h[16:58].split() != ['0', '0', '0', '0', h[48:58].strip()]:
            fail('ar header %r' % h)
        size = int(h[48:58])
        out.append((h[:16].rstrip(), data[pos + 60:pos + 60 + size]))
        pos += 60 + size + size % 2
    return out

iso_files = {}
def iso_file(path):
    if path not in iso_files:
        iso_files[path] = None
        r = subprocess.run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', path,
                            'x.tmp'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0 and os.path.isfile('x.tmp'):
            os.chmod('x.tmp', 0o600)
            with open('x.tmp', 'rb') as f:
                iso_files[path] = f.read()
        if os.path.exists('x.tmp'):
            os.unlink('x.tmp')
    return iso_files[path]

imgdb = {}
if iso:
    t = tarfile.open(fileobj=io.BytesIO(gzip.decompress(iso_file('/IMGDB.TGZ'))))
    imgdb = {i.name: t.extractfile(i).read() for i in t.getmembers() if i.isfile()}

payload_count = 0
for v in d['vibs']:
    data = z.read(v['path'])
    if len(data) != v['size'] or hashlib.sha256(data).hexdigest() != v['sha256']:
        fail('%s: size or sha-256 differs from the manifest' % v['path'])
    ar = ar_members(data)
    names = [n for n, _ in ar]
    desc, sig = ar[0][1], ar[1][1]
    if names[:2] != ['descriptor.xml', 'sig.pkcs7']:
        fail('%s: first members %r' % (v['path'], names[:2]))
    if bool(sig) != v['signed'] or (sig and not sig.startswith(b'-----BEGIN PKCS7-----')):
        fail('%s: sig.pkcs7 does not match signed=%r' % (v['path'], v['signed']))
    text = desc.decode()
    payloads = re.findall(r'<payload name="([^"]+)" type="([^"]+)"[^>]*size="(\d+)">(.*?)'
                          r'</payload>', text)
    if names[2:] != [p[0] for p in payloads] or names[2:] != [p['name'] for p in v['payloads']]:
        fail('%s: payload members %r, descriptor %r' % (v['path'], names[2:], payloads))
    for (name, ptype, size, sums), (_, body), mp in zip(payloads, ar[2:], v['payloads']):
        payload_count += 1
        if int(size) != len(body) or ptype != mp['type']:
            fail('%s %s: size %d type %s, descriptor %s %s' % (v['path'], name, len(body),
                                                                mp['type'], size, ptype))
        got = {('sha-256', ''): hashlib.sha256(body).hexdigest()}
        if ptype in ('vgz', 'tgz', 'boot'):
            plain = gzip.decompress(body)
            got[('sha-256', 'gunzip')] = hashlib.sha256(plain).hexdigest()
            got[('sha-1', 'gunzip')] = hashlib.sha1(plain).hexdigest()
        seen = re.findall(r'<checksum checksum-type="([^"]+)"(?: verify-process="([^"]+)")?>'
                          r'([0-9a-f]+)</checksum>', sums)
        if not seen or any(got[(t, p)] != h for t, p, h in seen):
            fail('%s %s: checksums %r, computed %r' % (v['path'], name, seen, got))
        if iso:
            on_iso = iso_file(mp['iso_path'])
            if on_iso is None:
                fail('%s %s: %s is not on the ISO' % (v['path'], name, mp['iso_path']))
            if ptype == 'boot_iso_bios':
                # the El Torito writer fills in the boot-info-table at bytes 8-63
                on_iso, body = on_iso[:8] + on_iso[64:], body[:8] + body[64:]
            if on_iso != body:
                fail('%s %s: %s differs from the payload' % (v['path'], name, mp['iso_path']))
    meta = md.read(v['metadata_file']).decode()
    tail = ('<relative-path>%s</relative-path><packed-size>%d</packed-size><checksum '
            'checksum-type="sha-256">%s</checksum></vib>' % (v['path'], len(data), v['sha256']))
    if meta != text[:-len('</vib>')] + tail:
        fail('%s: not the descriptor plus its depot elements' % v['metadata_file'])
    if '<relativePath>%s</relativePath>' % v['path'] not in vmware or \
       '<checksum>%s</checksum>' % v['sha256'] not in vmware:
        fail('vmware.xml does not list %s with its checksum' % v['path'])
    if iso:
        xml = [n for n in imgdb if n == 'var/db/esximg/' + v['metadata_file']]
        if not xml or imgdb[xml[0]] != desc:
            fail('%s: IMGDB.TGZ has another descriptor' % v['vib_id'])
        if v['signed'] and imgdb[xml[0] + '.sig'] != sig:
            fail('%s: IMGDB.TGZ has another signature' % v['vib_id'])

comp_ids = set()
for c in d['components']:
    b = md.read('bulletins/%s.xml' % c['id']).decode()
    comp_ids.add(c['id'])
    if re.findall(r'<vibID>([^<]+)</vibID>', b) != c['vibs']:
        fail('bulletin %s lists other VIBs' % c['id'])
    if c['is_component'] and '<componentNameSpec name="%s"' % c['name'] not in b:
        fail('bulletin %s has no componentNameSpec' % c['id'])
    if iso and seven and imgdb.get('var/db/esximg/bulletins/%s.xml' % c['id']) != b.encode():
        fail('bulletin %s differs from the image database one' % c['id'])
if {n[len('bulletins/'):-4] for n in mnames if n.startswith('bulletins/')} != comp_ids:
    fail('bulletins/ differs from the manifest components')
listed = sorted(x for c in d['components'] for x in c['vibs'])
if listed != sorted(v['vib_id'] for v in d['vibs']):
    fail('the bulletins do not list every VIB exactly once')
prof = md.read(d['profile_file']).decode()
if not re.search(r'<name>([^<]+)</name>', prof).group(1) == d['profile'] == m['profile']['name']:
    fail('profile name')
if sorted(re.findall(r'<vib-id>([^<]+)</vib-id>', prof)) != sorted(v['vib_id'] for v in m['vibs']):
    fail('the profile does not list the image VIBs')
if seven:
    base = json.loads(md.read('baseimages/%s.json' % d['base_image']['release_id']))
    comps = {c['name']: c['version'] for c in d['components']}
    if base['releaseType'] != 'baseImage' or base['components'] != comps or \
       base['versionSpec']['version'] != d['base_image']['version']:
        fail('base image %r' % base)
    esx = [v['vib_id'] for v in d['vibs'] if '_esx-base_' in v['vib_id']]
    if [c['vibs'] for c in d['components'] if c['name'] == 'ESXi'] != [esx]:
        fail('esx-base is not the ESXi component')
    a = d['addon']
    addon = json.loads(md.read('addons/%s.json' % a['release_id']))
    if addon['releaseType'] != 'addon' or addon['components'] != a['components'] or \
       addon['removedComponents'] != a['removed_components'] or not a['components'] or \
       not a['removed_components'] or any(comps.get(k) != x for k, x in a['components'].items()):
        fail('add-on %r' % addon)
print('depot ok: %d vibs, %d payloads, %d bulletins' % (len(d['vibs']), payload_count,
                                                       len(comp_ids)))
PY
}

# vib_ids MANIFEST: the depot's vib ids, sorted
vib_ids() {
    python3 -c 'import json, sys
for v in sorted(json.load(open(sys.argv[1]))["depot"]["vibs"], key=lambda v: v["vib_id"]):
    print(v["vib_id"])' "$1"
}

for v in 7.0 6.7 8.0; do
    step "$v: an image and its depot"
    expect_ok python3 "$GEN" --version "$v" -o "esx$v.iso" --depot "d$v.zip" --manifest "m$v.json"

    step "$v: esximg depot ls lists every VIB of the depot"
    expect_ok "$ESXIMG" depot ls "d$v.zip"
    awk '$NF ~ /\.vib$/ {print $NF}' out | sed 's|.*/||; s|\.vib$||' | sort >ls.ids
    vib_ids "m$v.json" >want.ids
    expect_same_file ls.ids want.ids

    step "$v: layout, ar members, payload checksums, metadata, bulletins, profile; the ISO agrees"
    expect_ok check_depot "d$v.zip" "m$v.json" "esx$v.iso"
    expect_grep '^depot ok' out
done

step "7.0: esx-base carries every loader payload type of section 5.3"
python3 - m7.0.json <<'PY' || fail "esx-base payloads"
import json, sys
m = json.load(open(sys.argv[1]))
base = [v for v in m['depot']['vibs'] if '_esx-base_' in v['vib_id']][0]
got = {p['name']: (p['type'], p['iso_path']) for p in base['payloads']}
want = {'isolinux.bin': ('boot_iso_bios', '/ISOLINUX.BIN'),
        'mboot.c32': ('boot_com32_bios', '/MBOOT.C32'),
        'menu.c32': ('boot_com32_bios', '/MENU.C32'),
        'ldlinux.c32': ('boot_com32_bios', '/LDLINUX.C32'),
        'libcom32.c32': ('boot_com32_bios', '/LIBCOM32.C32'),
        'libutil.c32': ('boot_com32_bios', '/LIBUTIL.C32'),
        'efiboot.img': ('eltorito_image_efi', '/EFIBOOT.IMG'),
        'BOOTx64.EFI': ('boot_loader_efi', '/EFI/BOOT/BOOTX64.EFI'),
        'metadata.xml': ('upgrade', '/UPGRADE/METADATA.XML'),
        'README': ('text', '/README')}
for name, w in want.items():
    assert got.get(name) == w, (name, got.get(name), w)
PY

step "every .vib verifies, signatures by the test signer included"
mkdir vibs && (cd vibs && unzip -q ../d7.0.zip 'vib20/*')
for f in vibs/vib20/*/*.vib; do
    expect_ok "$ESXIMG" vib verify --ca "$CA" "$f"
    expect_grep ': ok$' out
    case $f in
    */esx-base/*|*/tools-light/*|*/ne1000/*) expect_grep '^signature: ok$' out ;;
    esac
done

step "--unsigned: empty sig.pkcs7"
expect_ok python3 "$GEN" --version 7.0 --unsigned --depot unsigned.zip --manifest mu.json
python3 -c 'import json, sys
sys.exit(any(v["signed"] for v in json.load(open(sys.argv[1]))["depot"]["vibs"]))' mu.json ||
    fail "--unsigned left a signed VIB"
expect_ok check_depot unsigned.zip mu.json

step "the same depot bytes without -o, whatever TZ and umask"
expect_ok sh -c "umask 077; TZ=Pacific/Kiritimati python3 '$GEN' --version 7.0 --depot again.zip"
expect_same_file d7.0.zip again.zip

step "--patch 1: a newer patch of 7.0.2: new esx-base, VMware VIBs, boot bytes, profile, base image"
expect_ok python3 "$GEN" --version 7.0 --patch 1 -o p1.iso --depot p1.zip --manifest p1.json
expect_ok check_depot p1.zip p1.json p1.iso
expect_ok "$ESXIMG" depot ls p1.zip
python3 - m7.0.json p1.json <<'PY' || fail "the patch depot is not a newer patch"
import json, sys
old, new = (json.load(open(f)) for f in sys.argv[1:3])
def vibs(m):
    return {v['name']: v for v in m['vibs']}
def payload(m, vib, name):
    return [p for p in vibs(m)[vib]['payloads'] if p['name'] == name][0]
o, n = vibs(old), vibs(new)
assert set(o) == set(n), (set(o), set(n))
assert o['esx-base']['version'] == '7.0.2-0.0.17630552', o['esx-base']['version']
assert n['esx-base']['version'] == '7.0.2-0.5.17631552', n['esx-base']['version']
for name in ('ne1000', 'nvme', 'vmw-ahci', 'atlantic'):
    assert n[name]['version'].endswith('.702.0.5.17631552'), n[name]['version']
assert n['tools-light']['vib_id'] == o['tools-light']['vib_id']
for p in ('b', 'k', 's', 'README', 'metadata.xml'):
    assert payload(old, 'esx-base', p)['sha256'] != payload(new, 'esx-base', p)['sha256'], p
assert new['profile']['name'] == 'ESXi-7.0.2-17631552-standard' != old['profile']['name']
assert new['depot']['base_image']['version'] == '7.0.2-0.5.17631552'
assert new['depot']['base_image']['release_id'] != old['depot']['base_image']['release_id']
PY
expect_ok "$ESXIMG" info p1.iso
expect_grep '17631552' out

step "an ISO made by xorriso from the depot's esx-base payloads, placed as section 5.3 says"
mkdir tree
python3 - d7.0.zip m7.0.json tree <<'PY' || fail "placing the payloads"
import io, json, os, sys, zipfile
depot, manifest, tree = sys.argv[1:4]
m = json.load(open(manifest))
base = [v for v in m['depot']['vibs'] if '_esx-base_' in v['vib_id']][0]
data = zipfile.ZipFile(depot).read(base['path'])
pos, members = 8, {}
while pos < len(data):
    name, size = data[pos:pos + 16].decode().rstrip(), int(data[pos + 48:pos + 58])
    members[name] = data[pos + 60:pos + 60 + size]
    pos += 60 + size + size % 2
for p in base['payloads']:
    if p['type'] in ('vgz', 'tgz', 'boot'):
        continue
    path = os.path.join(tree, p['iso_path'].lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(members[p['name']])
PY
TEXT="esximg depot sercon check $$"
printf 'bootstate=0\ntitle=%s\ntimeout=5\nkernel=/b.b00\nmodules=/jumpstrt.gz --- /s.v00\n' \
    "$TEXT" >tree/BOOT.CFG
mkdir -p tree/EFI/BOOT && cp tree/BOOT.CFG tree/EFI/BOOT/BOOT.CFG
# ESXi's ISOLINUX.CFG (the 7.0 form): a menu, no SERIAL line; the install label runs mboot.c32
cat >tree/ISOLINUX.CFG <<'EOF'
DEFAULT menu.c32
MENU TITLE ESXi-7.0.2-17630552-standard Boot Menu
NOHALT 1
PROMPT 0
TIMEOUT 10
LABEL install
  KERNEL mboot.c32
  APPEND -c boot.cfg
  MENU LABEL ESXi-7.0.2-17630552-standard ^Installer
LABEL hddboot
  LOCALBOOT 0x80
  MENU LABEL ^Boot from local disk
EOF
expect_ok xorriso -as mkisofs --norock -iso-level 1 -quiet -o depot.iso -A ESXIMAGE \
    -b ISOLINUX.BIN -c BOOT.CAT -no-emul-boot -boot-load-size 4 -boot-info-table \
    -eltorito-alt-boot -e EFIBOOT.IMG -no-emul-boot tree

step "SeaBIOS, screen copied to the serial log by sercon: the menu, then BOOT.CFG from mboot.c32"
boot_check depot.iso "title=$TEXT" sercon-bios 1 sercon.log
expect_grep 'ESXi-7.0.2-17630552-standard Boot Menu' sercon.log

step "without sercon the serial port stays silent: the text came through the screen"
BOOT_CHECK_TIMEOUT=20 sh "$E2E_DIR/../gen/boot-check.sh" depot.iso "title=$TEXT" bios \
    serial.log >bout 2>berr && fail "BOOT.CFG appeared on the serial port without sercon"
expect_no_grep 'Boot Menu' serial.log

step "OVMF: the depot's efiboot.img and BOOTx64.EFI show both BOOT.CFG copies"
for f in ${OVMF_FD:-} /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd /usr/share/OVMF/OVMF.fd; do
    if [ -n "$f" ] && [ -r "$f" ]; then
        boot_check depot.iso "title=$TEXT" uefi 2 uefi.log
        break
    fi
done

step "misuse is refused"
expect_exit 2 python3 "$GEN" --version 7.0
expect_exit 2 python3 "$GEN" --version 7.0 --patch -1 --depot x.zip
[ ! -e x.zip ] || fail "x.zip written on a refused command line"

done_testing
