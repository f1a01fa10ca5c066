#!/usr/bin/env python3
"""check-edit.py: checks an image written by `esximg edit` against its input, with xorriso and
the Python standard library only (no esximg code), for the end-to-end tests.

    check-edit.py IN.iso OUT.iso [--add DIR]... [--add-files NAME=DIR]... [--remove NAME]...
                  [--acceptance LEVEL] [--kernelopt TEXT] [--title TEXT] [--ks FILE]
                  [--profile-name NAME] [--new-modules FILE]

--add DIR         a VIB added by the edit, as `esximg vib extract` wrote it: DIR/descriptor.xml
                  and one file per payload; the image's vibs/ descriptor must be byte-identical
                  to descriptor.xml and each new module byte-identical to its payload file
--add-files NAME=DIR   a VIB named NAME built by the edit (an OEM .tgz): its one vgz module
                  must be a vmtar holding exactly the files under DIR, byte for byte
--remove NAME     a VIB the edit removed (its modules, descriptor and profile entry must go)
--acceptance      the profile acceptance level expected in OUT (default: that of IN)
--kernelopt TEXT  the kernelopt= line expected in OUT (default: that of IN)
--title TEXT      the title= line expected in OUT (default: that of IN)
--ks FILE         /KS.CFG must hold FILE's bytes (and is the only other new file)
--profile-name    the profile <name> expected in OUT (default: that of IN)
--new-modules F   write the new modules (BOOT.CFG names, in order) to F, one a line

What is checked: both BOOT.CFG identical; every BOOT.CFG line but title/kernelopt/modules as in
IN; modules = IN's minus the removed VIBs' plus the new ones, the new ones right before
imgdb.tgz and IN's order kept; every file of IN but BOOT.CFG, IMGDB.TGZ and removed modules is
in OUT with the same bytes, and OUT has no other new file than the new modules (and KS.CFG);
IMGDB.TGZ is gzip'd GNU tar owned by root, one profile listing exactly IN's VIBs minus removed
plus added, each added VIB's payloads mapped to its module; vibs/ descriptors of untouched VIBs
byte-identical; the added descriptors' payload size and checksums match the module files; on
7.0 and later a bulletin lists each added VIB and none lists a removed one.
Exit 0 ok (prints one summary line), 1 with the first failure.
"""

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

TAIL = ('/imgdb.tgz', '/basemisc.tgz', '/resvibs.tgz', '/esxiodpt.tgz', '/imgpayld.tgz')
DB = 'var/db/esximg/'


def fail(msg):
    sys.stderr.write('check-edit: %s\n' % msg)
    sys.exit(1)


def extract_tree(iso, dest):
    run = subprocess.run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', '/', dest],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if run.returncode != 0:
        fail('xorriso cannot extract %s: %s' % (iso, run.stdout.decode(errors='replace')[-400:]))
    files = {}
    for root, dirs, names in os.walk(dest):
        os.chmod(root, 0o755)
        for n in names:
            p = os.path.join(root, n)
            os.chmod(p, 0o644)
            files['/' + os.path.relpath(p, dest)] = p
    return files


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def bootcfg(text):
    lines = text.decode().split('\n')
    kv = {}
    for ln in lines:
        if '=' in ln:
            k, v = ln.split('=', 1)
            kv[k] = v
    return lines, kv


def tag(xml, name):
    m = re.search(r'<%s>([^<]*)</%s>' % (name, name), xml)
    return m.group(1) if m else None


def vib_id(xml):
    return '%s_%s_%s_%s' % tuple(tag(xml, k) for k in ('vendor', 'type', 'name', 'version'))


def payloads_of(xml):
    out = {}
    for p in re.finditer(r'<payload ([^>]*)>(.*?)</payload>', xml, re.S):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', p.group(1)))
        sums = {}
        for c in re.finditer(r'<checksum ([^>]*)>([0-9a-f]+)</checksum>', p.group(2)):
            a = dict(re.findall(r'([a-z-]+)="([^"]*)"', c.group(1)))
            sums[(a.get('checksum-type'), a.get('verify-process', ''))] = c.group(2)
        out[attrs['name']] = (attrs, sums)
    return out


def imgdb(data, what):
    if data[:2] != b'\x1f\x8b':
        fail('%s IMGDB.TGZ is not gzip' % what)
    plain = gzip.decompress(data)
    tar = tarfile.open(fileobj=io.BytesIO(plain))
    members = {}
    profiles = []
    for m in tar.getmembers():
        # every header must carry GNU tar's magic
        if plain[m.offset + 257:m.offset + 265] != b'ustar  \0':
            fail('%s IMGDB.TGZ member %s is not GNU tar' % (what, m.name))
        if m.uid != 0 or m.gid != 0:
            fail('%s IMGDB.TGZ member %s not owned by 0/0' % (what, m.name))
        if not m.name.startswith(DB) and not DB.startswith(m.name.rstrip('/') + '/'):
            fail('%s IMGDB.TGZ member %s outside %s' % (what, m.name, DB))
        if m.isfile():
            body = tar.extractfile(m).read()
            members[m.name] = body
            if m.name.startswith(DB + 'profiles/'):
                profiles.append((m.name, body.decode()))
    if len(profiles) != 1:
        fail('%s IMGDB.TGZ has %d profiles' % (what, len(profiles)))
    return members, profiles[0]


def profile_vibs(prof):
    out = {}
    for v in re.finditer(r'<vib>\s*<vib-id>([^<]+)</vib-id>\s*<payloads>(.*?)</payloads>\s*</vib>',
                         prof, re.S):
        out[v.group(1)] = dict(re.findall(r'<payload payload-name="([^"]+)">([^<]+)</payload>',
                                          v.group(2)))
    return out


def vmtar_files(data):
    """The regular files of a (gunzip'd) vmtar: name -> bytes."""
    out = {}
    off = 0
    while off + 512 <= len(data) and data[off] != 0:
        h = data[off:off + 512]
        if h[257:263] != b'visor ':
            fail('new module: entry at %d is not vmtar' % off)
        name = h[:100].split(b'\0')[0].decode()
        prefix = h[345:496].split(b'\0')[0].decode()
        if prefix:
            name = prefix + '/' + name
        size = int(h[124:136].split(b'\0')[0].strip() or b'0', 8)
        pos = int.from_bytes(h[496:500], 'little')
        if h[156:157] in (b'0', b'\0', b'7'):
            out[name[2:] if name.startswith('./') else name] = data[pos:pos + size]
        off += 512
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--add', action='append', default=[])
    ap.add_argument('--add-files', action='append', default=[])
    ap.add_argument('--remove', action='append', default=[])
    ap.add_argument('--acceptance')
    ap.add_argument('--kernelopt')
    ap.add_argument('--title')
    ap.add_argument('--ks')
    ap.add_argument('--profile-name')
    ap.add_argument('--new-modules')
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix='check-edit.')
    try:
        fin = extract_tree(a.inp, os.path.join(work, 'in'))
        fout = extract_tree(a.out, os.path.join(work, 'out'))
        summary = check(a, fin, fout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('edit check ok: ' + summary)


def check(a, fin, fout):
    # --- BOOT.CFG
    for f in ('/BOOT.CFG', '/EFI/BOOT/BOOT.CFG'):
        if f not in fout:
            fail('%s is missing from the output' % f)
    cfg = read(fout['/BOOT.CFG'])
    if cfg != read(fout['/EFI/BOOT/BOOT.CFG']):
        fail('/BOOT.CFG and /EFI/BOOT/BOOT.CFG differ')
    in_lines, in_kv = bootcfg(read(fin['/BOOT.CFG']))
    out_lines, out_kv = bootcfg(cfg)
    strip = ('title', 'kernelopt', 'modules')
    keep_in = [ln for ln in in_lines if ln.split('=', 1)[0] not in strip]
    keep_out = [ln for ln in out_lines if ln.split('=', 1)[0] not in strip]
    if keep_in != keep_out:
        fail('BOOT.CFG lines other than title, kernelopt and modules changed: %r -> %r'
             % (keep_in, keep_out))
    for key, want in (('title', a.title), ('kernelopt', a.kernelopt)):
        want = in_kv.get(key) if want is None else want
        if out_kv.get(key) != want:
            fail('BOOT.CFG %s=%r, expected %r' % (key, out_kv.get(key), want))

    # --- image database
    in_db, (_in_name, in_prof) = imgdb(read(fin['/IMGDB.TGZ']), 'input')
    out_db, (_out_name, out_prof) = imgdb(read(fout['/IMGDB.TGZ']), 'output')
    in_pv = profile_vibs(in_prof)
    out_pv = profile_vibs(out_prof)
    in_xml = {vib_id(b.decode()): (n, b) for n, b in in_db.items()
              if n.startswith(DB + 'vibs/') and n.endswith('.xml')}
    out_xml = {vib_id(b.decode()): (n, b) for n, b in out_db.items()
               if n.startswith(DB + 'vibs/') and n.endswith('.xml')}

    # the VIBs asked for
    added = {}      # vib-id -> (descriptor bytes or None, {payload: file}, files dir or None)
    signature = {}  # vib-id -> its sig.pkcs7, from an unpacked VIB
    for d in a.add:
        desc = read(os.path.join(d, 'descriptor.xml'))
        x = desc.decode()
        pay = {}
        for name in payloads_of(x):
            pay[name] = os.path.join(d, name)
        added[vib_id(x)] = (desc, pay, None)
        if os.path.exists(os.path.join(d, 'sig.pkcs7')):
            signature[vib_id(x)] = read(os.path.join(d, 'sig.pkcs7'))
    for spec in a.add_files:
        name, d = spec.split('=', 1)
        ids = [i for i in out_xml if i not in in_xml and
               tag(out_xml[i][1].decode(), 'name') == name]
        if len(ids) != 1:
            fail('no single new VIB named %s in the output (%s)' % (name, ids))
        added[ids[0]] = (None, None, d)
    removed = set()
    for name in a.remove:
        ids = [i for i in in_xml if tag(in_xml[i][1].decode(), 'name') == name]
        if len(ids) != 1:
            fail('the input has no single VIB named %s' % name)
        removed.add(ids[0])
    # a VIB replaced by a newer one of the same name counts as removed
    for i in added:
        if i not in out_xml:
            fail('the output has no descriptor of %s' % i)
        name = tag(out_xml[i][1].decode(), 'name')
        removed |= {j for j in in_xml if j != i and tag(in_xml[j][1].decode(), 'name') == name}

    want_ids = (set(in_pv) - removed) | set(added)
    if set(out_pv) != want_ids:
        fail('profile VIBs: extra %s, missing %s' % (sorted(set(out_pv) - want_ids),
                                                    sorted(want_ids - set(out_pv))))
    if set(out_xml) != want_ids:
        fail('vibs/ descriptors: extra %s, missing %s' % (sorted(set(out_xml) - want_ids),
                                                         sorted(want_ids - set(out_xml))))
    for i in set(in_pv) - removed:
        if out_pv[i] != in_pv[i]:
            fail('profile entry of %s changed: %r -> %r' % (i, in_pv[i], out_pv[i]))
        if out_xml[i][1] != in_xml[i][1]:
            fail('the descriptor of %s changed' % i)
        for ext in ('.orig', '.sig'):   # a kept VIB keeps its signature files as they were
            if in_db.get(in_xml[i][0] + ext) != out_db.get(out_xml[i][0] + ext):
                fail('vibs/ %s of %s changed' % (ext, i))
    sig_files = {n for n in out_db if n.startswith(DB + 'vibs/') and
                 (n.endswith('.xml.orig') or n.endswith('.xml.sig'))}
    owned = {out_xml[i][0] + ext for i in out_xml for ext in ('.orig', '.sig')}
    if sig_files - owned:
        fail('signature files of no VIB: %s' % sorted(sig_files - owned))

    # profile header
    pname = tag(out_prof, 'name')
    want_pname = a.profile_name or tag(in_prof, 'name')
    if pname != want_pname:
        fail('profile name %r, expected %r' % (pname, want_pname))
    acc = tag(out_prof, 'acceptancelevel')
    want_acc = a.acceptance or tag(in_prof, 'acceptancelevel')
    if acc != want_acc:
        fail('profile acceptance %r, expected %r' % (acc, want_acc))

    # --- modules
    removed_mods = {'/' + f for i in removed for f in in_pv[i].values()}
    new_mods = []
    for i in sorted(added):
        for _pl, f in sorted(out_pv[i].items()):
            new_mods.append('/' + f)
    in_mods = in_kv['modules'].split(' --- ')
    out_mods = out_kv['modules'].split(' --- ')
    kept = [m for m in in_mods if m not in removed_mods]
    if '/imgdb.tgz' not in out_mods:
        fail('no /imgdb.tgz in the output modules')
    k = out_mods.index('/imgdb.tgz')
    before, inserted, after = out_mods[:k], [], out_mods[k:]
    # the new modules are the last ones before imgdb.tgz
    while before and before[-1] in new_mods:
        inserted.insert(0, before.pop())
    if sorted(inserted) != sorted(new_mods):
        fail('modules right before imgdb.tgz: %r, expected %r' % (inserted, new_mods))
    if before + after != kept:
        fail('the input modules changed: %r, expected %r' % (before + after, kept))
    if out_kv.get('kernel') != in_kv.get('kernel'):
        fail('kernel changed')

    # --- files of the ISO
    ignore = {'/BOOT.CFG', '/EFI/BOOT/BOOT.CFG', '/IMGDB.TGZ', '/BOOT.CAT'}
    for f, p in fin.items():
        if f in ignore:
            continue
        if f.lower() in removed_mods:
            if f in fout and f.lower() not in new_mods:
                fail('removed module %s is still on the ISO' % f)
            continue
        if f not in fout:
            fail('%s of the input is missing from the output' % f)
        if read(p) != read(fout[f]):
            fail('%s changed' % f)
    want_new = {m.upper() for m in new_mods}
    if a.ks:
        want_new.add('/KS.CFG')
    got_new = {f for f in fout if f not in fin or (f.lower() in removed_mods and
                                                   f.lower() in new_mods)}
    got_new -= {'/BOOT.CAT'}
    if got_new != want_new:
        fail('new files on the ISO: %s, expected %s' % (sorted(got_new), sorted(want_new)))
    if a.ks and read(fout['/KS.CFG']) != read(a.ks):
        fail('/KS.CFG differs from %s' % a.ks)

    # --- the added VIBs
    bulletins = {n: b.decode() for n, b in out_db.items() if n.startswith(DB + 'bulletins/')}
    in_bulletins = [n for n in in_db if n.startswith(DB + 'bulletins/')]
    for i, (desc, pay, tree) in sorted(added.items()):
        xml = out_xml[i][1]
        if desc is not None and xml != desc:
            fail('the vibs/ descriptor of %s is not the VIB\'s descriptor.xml' % i)
        # a signed VIB keeps its signature: the descriptor as signed, and sig.pkcs7
        sig = signature.get(i)
        orig = out_db.get(out_xml[i][0] + '.orig')
        osig = out_db.get(out_xml[i][0] + '.sig')
        if sig and sig.strip():
            if orig != xml or osig != sig:
                fail('%s is signed but its vibs/ .orig and .sig are not its descriptor and '
                     'sig.pkcs7' % i)
        elif orig is not None or osig is not None:
            fail('%s is not signed but has vibs/ .orig or .sig' % i)
        pl = payloads_of(xml.decode())
        if set(pl) != set(out_pv[i]):
            fail('%s: profile payloads %s, descriptor payloads %s' % (i, sorted(out_pv[i]),
                                                                     sorted(pl)))
        for name, f in out_pv[i].items():
            data = read(fout['/' + f.upper()])
            attrs, sums = pl[name]
            if int(attrs['size']) != len(data):
                fail('%s: module %s has %d bytes, descriptor says %s' % (i, f, len(data),
                                                                        attrs['size']))
            inner = gzip.decompress(data) if data[:2] == b'\x1f\x8b' else data
            got = {('sha-256', ''): hashlib.sha256(data).hexdigest(),
                   ('sha-256', 'gunzip'): hashlib.sha256(inner).hexdigest(),
                   ('sha-1', 'gunzip'): hashlib.sha1(inner).hexdigest()}
            for key, val in sums.items():
                if key in got and got[key] != val:
                    fail('%s: module %s %s mismatch' % (i, f, '/'.join(key)))
            if pay is not None and read(pay[name]) != data:
                fail('%s: module %s is not the payload %s' % (i, f, pay[name]))
            if tree is not None:
                files = vmtar_files(inner)
                want = {}
                for root, _dirs, names in os.walk(tree):
                    for n in names:
                        p = os.path.join(root, n)
                        want[os.path.relpath(p, tree)] = read(p)
                if files != want:
                    fail('%s: module %s holds %s, expected %s' % (
                        i, f, sorted(files), sorted(want)))
        if in_bulletins:
            hits = [n for n, b in bulletins.items()
                    if re.search(r'<vibID>%s</vibID>' % re.escape(i), b)]
            if not hits:
                fail('no bulletin lists %s' % i)
    if not in_bulletins and bulletins:
        fail('bulletins added to an image that had none')
    for i in removed:
        for n, b in bulletins.items():
            if re.search(r'<vibID>%s</vibID>' % re.escape(i), b):
                fail('bulletin %s still lists removed %s' % (n, i))
    if a.new_modules:
        with open(a.new_modules, 'w') as f:
            f.write(''.join(m + '\n' for m in inserted))
    return '%d added, %d removed, new modules %s, acceptance %s' % (
        len(added), len(removed), ' '.join(new_mods) or '-', acc)


if __name__ == '__main__':
    main()
