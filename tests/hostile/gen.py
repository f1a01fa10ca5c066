#!/usr/bin/env python3
"""Write the hostile corpus: malformed and malicious inputs for every esximg reader.

    gen.py DIR [--base-iso ISO]

Writes the cases into DIR and DIR/MANIFEST.tsv, one case a line, tab-separated:

    name  exit  stream  regex  command

- name: the case, also the stem of its input (DIR/<name>.<ext>, or a folder for stage cases);
- exit: the exit status expected (1 = refused with an error, 3 = a check failed);
- stream: where the one-line reason is looked for: `err` (stderr holds exactly that one line:
  `esximg: FILE: reason`) or `out` (exit 3: a report on stdout, stderr empty);
- regex: an extended regular expression the reason line must match (it names the file);
- command: the esximg arguments, words split on spaces, with @IN@ (the input, absolute),
  @DST@ (the target folder, absolute, may not exist yet), @OUT@ (an output file in @DST@) and
  @BASE@ (a good ESXi-like ISO: the case is left out when --base-iso is not given).

Python 3 standard library only; the same arguments give the same bytes.  Nothing here is big
on disk: the bombs are a few MiB that claim gigabytes.
"""
import argparse
import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile
import zlib

MTIME = 1600000000
CASES = []


def case(name, exit_code, stream, regex, *commands, inp=None):
    for i, cmd in enumerate(commands):
        tag = name if len(commands) == 1 else '%s#%d' % (name, i + 1)
        CASES.append((tag, exit_code, stream, regex, cmd, inp))


def gz(data):
    """A deterministic gzip member: no name, mtime 0."""
    return gzip.compress(data, compresslevel=6, mtime=0)


BOMB_CACHE = {}


def deflate_bomb(total, prefix=b''):
    """A raw deflate stream inflating to `prefix` then `total` zero bytes (a multiple of 1 MiB)
    from about total/1000 bytes: one flushed block of 1 MiB of zeros, repeated; and the crc-32
    of it all."""
    if total not in BOMB_CACHE:
        chunk = bytes(1 << 20)
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
        BOMB_CACHE[total] = (block, [zlib.crc32(chunk, c) for c in [0]][0])
    block = BOMB_CACHE[total][0]
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH) if prefix else b''
    crc = zlib.crc32(prefix)
    key = (total, prefix)
    if key not in BOMB_CACHE:
        chunk = bytes(1 << 20)
        for _ in range(total >> 20):
            crc = zlib.crc32(chunk, crc)
        BOMB_CACHE[key] = crc
    # + a final empty fixed block
    return head + block * (total >> 20) + b'\x03\x00', BOMB_CACHE[key]


def gzip_bomb(total, prefix=b''):
    body, crc = deflate_bomb(total, prefix)
    return (b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03' + body +
            struct.pack('<II', crc, (len(prefix) + total) & 0xffffffff))


BOMB = 2 << 30      # every bomb claims 2 GiB of zeros, from 2 MiB


# ---------------------------------------------------------------------------------------------
# vmtar (esxi-formats.md section 1)

def vmtar_header(name, typ=b'0', size=0, off=0, link=b'', mode=0o644, size_field=None,
                 checksum_delta=0):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b'%07o\0' % mode
    h[108:116] = b'0000000\0'
    h[116:124] = b'0000000\0'
    h[124:136] = size_field if size_field is not None else b'%011o\0' % size
    h[136:148] = b'%011o\0' % MTIME
    h[156:157] = typ
    h[157:157 + len(link)] = link
    h[257:265] = b'visor  \0'
    h[265:269] = b'root'
    h[297:301] = b'root'
    h[496:500] = struct.pack('<I', off & 0xffffffff)
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % ((sum(h) + checksum_delta) & 0o777777)
    return bytes(h)


def vmtar(entries):
    """entries: (name, typ, data_or_link). Headers, a zero block, then each content at 512."""
    nhead = len(entries) + 1
    off = nhead * 512
    heads, body = [], b''
    for name, typ, data in entries:
        if typ == b'0':
            heads.append(vmtar_header(name, typ, len(data), off + len(body)))
            body += data + bytes(-len(data) % 512)
        elif typ == b'2':
            heads.append(vmtar_header(name, typ, link=data, mode=0o777))
        else:
            heads.append(vmtar_header(name, typ, mode=0o755))
    return b''.join(heads) + bytes(512) + body


GOOD_VMTAR_ENTRIES = [
    (b'etc/', b'5', b''),
    (b'etc/vmware/', b'5', b''),
    (b'etc/vmware/hostile.conf', b'0', b'key = value\n' * 40),
    (b'opt/', b'5', b''),
    (b'opt/hostile/', b'5', b''),
    (b'opt/hostile/data.bin', b'0', bytes(range(256)) * 8),
]


def gen_vmtar(d):
    good = vmtar(GOOD_VMTAR_ENTRIES)
    put(d, 'vmtar-good.v00', gz(good))

    def vt(name, data, regex, x=True, t=True):
        put(d, name + '.v00', gz(data))
        cmds = []
        if t:
            cmds.append('vmtar t @IN@')
        if x:
            cmds.append('vmtar x @IN@ -C @DST@')
        case(name, 1, 'err', regex, *cmds)

    vt('vmtar-dotdot', vmtar([(b'ok.txt', b'0', b'ok\n'), (b'../evil', b'0', b'evil\n')]),
       r"vmtar-dotdot\.v00: entry '\.\./evil': '\.\.' in path")
    vt('vmtar-dotdot-deep', vmtar([(b'a/../../evil', b'0', b'evil\n')]),
       r"vmtar-dotdot-deep\.v00: entry 'a/\.\./\.\./evil': '\.\.' in path")
    vt('vmtar-absolute', vmtar([(b'/tmp/esximg-hostile-evil', b'0', b'evil\n')]),
       r"vmtar-absolute\.v00: entry '/tmp/esximg-hostile-evil': absolute path")
    vt('vmtar-symlink-escape', vmtar([(b'l', b'2', b'../../outside'),
                                      (b'l/pwned', b'0', b'evil\n')]),
       r"vmtar-symlink-escape\.v00: entry 'l': link target '\.\./\.\./outside' leaves",
       t=False)
    vt('vmtar-symlink-absolute', vmtar([(b'etc/', b'5', b''),
                                        (b'etc/passwd', b'2', b'/etc/passwd')]),
       r"vmtar-symlink-absolute\.v00: entry 'etc/passwd': link target '/etc/passwd' is absolute",
       t=False)
    vt('vmtar-hardlink-escape', vmtar([(b'h', b'1', b'../../etc/passwd')]),
       r"vmtar-hardlink-escape\.v00: entry 'h': unsupported entry type '1'", t=False)

    # sizes and offsets
    def one(hdr, tail=b''):
        return hdr + bytes(512) + tail

    vt('vmtar-size-past-end', one(vmtar_header(b'f', size=1 << 20, off=1024), b'x' * 512),
       r"vmtar-size-past-end\.v00: entry 'f': .*(past the end|truncated|outside the archive)")
    vt('vmtar-offset-past-end', one(vmtar_header(b'f', size=10, off=1 << 20), b'x' * 512),
       r"vmtar-offset-past-end\.v00: entry 'f': .*(past the end|truncated|outside the archive)")
    vt('vmtar-offset-u32-wrap', one(vmtar_header(b'f', size=0o77777777777, off=0xfffffe00),
                                    b'x' * 512),
       r"vmtar-offset-u32-wrap\.v00: entry 'f': .*(past the end|truncated|outside the archive)")
    vt('vmtar-size-u64', one(vmtar_header(b'f', off=1024,
                                          size_field=b'\x80' + b'\xff' * 11), b'x' * 512),
       r"vmtar-size-u64\.v00: entry 'f': .*size")
    vt('vmtar-size-garbage', one(vmtar_header(b'f', off=1024, size_field=b'00000000x12\0'),
                                 b'x' * 512),
       r"vmtar-size-garbage\.v00: entry 'f': .*size")
    vt('vmtar-bad-checksum', one(vmtar_header(b'f', size=1, off=1024, checksum_delta=1), b'x'),
       r"vmtar-bad-checksum\.v00: .*checksum")
    # the gzip bomb
    put(d, 'vmtar-gzip-bomb.v00',
        gzip_bomb(BOMB, vmtar_header(b'zeros', size=BOMB, off=1024) + bytes(512)))
    case('vmtar-gzip-bomb', 1, 'err', r"vmtar-gzip-bomb\.v00: .*(bomb|ratio|limit|too big)",
         'vmtar t @IN@', 'vmtar x @IN@ -C @DST@')

    # truncated at every boundary: raw vmtar
    raw = vmtar([(b'a.txt', b'0', b'A' * 600), (b'b.txt', b'0', b'B' * 100)])
    put(d, 'vmtar-raw-good.v00', raw)
    nhead = 3 * 512
    cuts = {
        'empty': 0, 'mid-header': 256, 'after-header1': 512, 'after-header2': 1024,
        'mid-trailer': nhead - 200, 'after-trailer': nhead, 'mid-content1': nhead + 300,
        'after-content1': nhead + 600, 'mid-content2': nhead + 1024 + 50,
    }
    for tag, n in cuts.items():
        name = 'vmtar-cut-' + tag
        put(d, name + '.v00', raw[:n])
        case(name, 1, 'err',
             r"%s\.v00: .*(truncated|past the end|outside the archive|not a vmtar)" % name,
             'vmtar t @IN@', 'vmtar x @IN@ -C @DST@')
    # truncated at every gzip boundary
    g = gz(raw)
    gcuts = {'gz-magic': 2, 'gz-header': 10, 'gz-mid-deflate': len(g) // 2,
             'gz-no-trailer': len(g) - 8, 'gz-half-trailer': len(g) - 4,
             'gz-minus-one': len(g) - 1}
    for tag, n in gcuts.items():
        name = 'vmtar-cut-' + tag
        put(d, name + '.v00', g[:n])
        case(name, 1, 'err', r"%s\.v00: .*(truncated|gzip|not a vmtar|corrupt)" % name,
             'vmtar t @IN@', 'vmtar x @IN@ -C @DST@')
    # a gzip whose crc lies
    bad = bytearray(g)
    bad[-8] ^= 0xff
    put(d, 'vmtar-gz-bad-crc.v00', bytes(bad))
    case('vmtar-gz-bad-crc', 1, 'err', r"vmtar-gz-bad-crc\.v00: .*(crc|CRC|check)",
         'vmtar t @IN@', 'vmtar x @IN@ -C @DST@')


# ---------------------------------------------------------------------------------------------
# VIBs (esxi-formats.md section 2)

def ar(members, pad=True):
    out = b'!<arch>\n'
    for name, data, *rest in members:
        size_field = rest[0] if rest else b'%d' % len(data)
        out += b'%-16s%-12s%-6s%-6s%-8s%-10s`\n' % (name, b'0', b'0', b'0', b'0', size_field)
        out += data
        if pad and len(data) % 2:
            out += b'\n'
    return out


def descriptor(payload_name, payload, name='hostile', lie=False, extra_head='', vendor='TEST'):
    sha256 = hashlib.sha256(payload).hexdigest()
    if lie:
        sha256 = hashlib.sha256(payload + b'x').hexdigest()
    try:
        raw = gzip.decompress(payload)
    except Exception:
        raw = payload
    g256 = hashlib.sha256(raw).hexdigest()
    g1 = hashlib.sha1(raw).hexdigest()
    xml = (extra_head +
           '<vib version="5.0"><type>bootbank</type><name>%s</name><version>1.0-1</version>'
           '<vendor>%s</vendor><summary>hostile test</summary><description>x</description>'
           '<release-date>2020-09-13T12:26:40</release-date><urls/>'
           '<relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/>'
           '</relationships><software-tags/><system-requires><maintenance-mode>false'
           '</maintenance-mode></system-requires><file-list><file>etc/vmware/hostile.conf'
           '</file><file>opt/hostile/data.bin</file></file-list>'
           '<acceptance-level>community</acceptance-level>'
           '<live-install-allowed>true</live-install-allowed>'
           '<live-remove-allowed>true</live-remove-allowed><cimom-restart>false</cimom-restart>'
           '<stateless-ready>true</stateless-ready><overlay>false</overlay><payloads>'
           '<payload name="%s" type="vgz" size="%d">'
           '<checksum checksum-type="sha-256">%s</checksum>'
           '<checksum checksum-type="sha-256" verify-process="gunzip">%s</checksum>'
           '<checksum checksum-type="sha-1" verify-process="gunzip">%s</checksum>'
           '</payload></payloads></vib>') % (name, vendor, payload_name, len(payload), sha256,
                                             g256, g1)
    return xml.encode()


def make_vib(payload=None, name='hostile', lie=False, extra_head='', pname=b'hostile',
             vendor='TEST'):
    if payload is None:
        payload = gz(vmtar(GOOD_VMTAR_ENTRIES))
    desc = descriptor(pname.decode(), payload, name, lie, extra_head, vendor)
    return ar([(b'descriptor.xml', desc), (b'sig.pkcs7', b''), (pname, payload)])


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE vib [<!ENTITY a "aaaaaaaaaa">' +
          ''.join('<!ENTITY %s "%s">' % (chr(98 + i), ('&%s;' % chr(97 + i)) * 10)
                  for i in range(9)) + ']>')
XXE = ('<?xml version="1.0"?><!DOCTYPE vib [<!ENTITY x SYSTEM "file:///etc/passwd">]>')


def entity_doc(head, ref):
    return lambda xml: xml.replace(b'<summary>hostile test</summary>',
                                   b'<summary>' + ref + b'</summary>')


def gen_vib(d):
    good = make_vib()
    put(d, 'vib-good.vib', good)
    readers = ['vib info @IN@', 'vib verify @IN@', 'vib extract @IN@ -C @DST@',
               'edit @BASE@ -o @OUT@ --add @IN@ -q']

    def vb(name, data, regex, cmds=None, exit_code=1, stream='err'):
        put(d, name + '.vib', data)
        case(name, exit_code, stream, regex, *(cmds or readers))

    # a payload checksum that lies: verify says FAILED (exit 3); edit refuses it
    vb('vib-checksum-lies', make_vib(lie=True),
       r"vib-checksum-lies\.vib: FAILED$", ['vib verify @IN@'], 3, 'out')
    case('vib-checksum-lies-edit', 1, 'err',
         r"vib-checksum-lies\.vib: .*(sha-256|checksum)",
         'edit @BASE@ -o @OUT@ --add @IN@ -q', inp='vib-checksum-lies.vib')
    # a size that lies
    payload = gz(vmtar(GOOD_VMTAR_ENTRIES))
    desc = descriptor('hostile', payload).replace(b'size="%d"' % len(payload),
                                                  b'size="%d"' % (len(payload) + 1))
    vb('vib-size-lies', ar([(b'descriptor.xml', desc), (b'sig.pkcs7', b''),
                            (b'hostile', payload)]),
       r"vib-size-lies\.vib: FAILED$", ['vib verify @IN@'], 3, 'out')
    # XML entity expansion and external entities in the descriptor
    laughs = descriptor('hostile', payload, extra_head=LAUGHS).replace(
        b'<summary>hostile test</summary>', b'<summary>&j;</summary>')
    vb('vib-xml-billion-laughs',
       ar([(b'descriptor.xml', laughs), (b'sig.pkcs7', b''), (b'hostile', payload)]),
       r"vib-xml-billion-laughs\.vib: .*(entit|DTD|DOCTYPE)",
       ['vib info @IN@', 'vib verify @IN@', 'vib extract @IN@ -C @DST@',
        'edit @BASE@ -o @OUT@ --add @IN@ -q'])
    xxe = descriptor('hostile', payload, extra_head=XXE).replace(
        b'<summary>hostile test</summary>', b'<summary>&x;</summary>')
    vb('vib-xml-external-entity',
       ar([(b'descriptor.xml', xxe), (b'sig.pkcs7', b''), (b'hostile', payload)]),
       r"vib-xml-external-entity\.vib: .*(entit|DTD|DOCTYPE)",
       ['vib info @IN@', 'vib verify @IN@', 'vib extract @IN@ -C @DST@',
        'edit @BASE@ -o @OUT@ --add @IN@ -q'])
    # ar member names and sizes
    vb('vib-member-dotdot', ar([(b'descriptor.xml', descriptor('../evil', payload)),
                                (b'sig.pkcs7', b''), (b'../evil', payload)]),
       r"vib-member-dotdot\.vib: .*'\.\./evil'",
       ['vib extract @IN@ -C @DST@', 'edit @BASE@ -o @OUT@ --add @IN@ -q'])
    vb('vib-member-absolute', ar([(b'descriptor.xml', descriptor('/tmp/evil', payload)),
                                  (b'sig.pkcs7', b''), (b'/tmp/evil', payload)]),
       r"vib-member-absolute\.vib: .*'/tmp/evil'",
       ['vib extract @IN@ -C @DST@', 'edit @BASE@ -o @OUT@ --add @IN@ -q'])
    # (info prints such a name escaped, extract writes members, not the name: only a writer
    # using the name as a file name must refuse it)
    vb('vib-name-slash', make_vib(name='../../evil'),
       r"vib-name-slash\.vib: .*name '\.\./\.\./evil'",
       ['edit @BASE@ -o @OUT@ --add @IN@ -q'])
    desc = descriptor('hostile', payload)
    vb('vib-ar-size-past-end',
       ar([(b'descriptor.xml', desc), (b'sig.pkcs7', b''), (b'hostile', payload,
                                                           b'%d' % (len(payload) + 4096))]),
       r"vib-ar-size-past-end\.vib: .*(past the end|truncated|outside the archive)")
    vb('vib-ar-size-huge',
       ar([(b'descriptor.xml', desc, b'9999999999'), (b'sig.pkcs7', b''),
           (b'hostile', payload)]),
       r"vib-ar-size-huge\.vib: .*(past the end|truncated|size)")
    vb('vib-ar-size-garbage',
       ar([(b'descriptor.xml', desc, b'12x'), (b'sig.pkcs7', b''), (b'hostile', payload)]),
       r"vib-ar-size-garbage\.vib: .*size")
    vb('vib-ar-size-negative',
       ar([(b'descriptor.xml', desc, b'-1'), (b'sig.pkcs7', b''), (b'hostile', payload)]),
       r"vib-ar-size-negative\.vib: .*size")
    vb('vib-no-descriptor', ar([(b'sig.pkcs7', b''), (b'hostile', payload)]),
       r"vib-no-descriptor\.vib: .*descriptor")
    # a payload without a member still reads: info and verify report it (exit 3), edit
    # refuses it; extract writes what is there (t2004-vib-broken checks that)
    def missing_payload(name, data):
        put(d, name + '.vib', data)
        case(name + '-info', 3, 'out', r"^problem: +payload 'hostile' has no member",
             'vib info @IN@', inp=name + '.vib')
        case(name + '-verify', 3, 'out', r"^hostile: member: FAILED \(no member",
             'vib verify @IN@', inp=name + '.vib')
        case(name + '-edit', 1, 'err', r"%s\.vib: .*'hostile' has no member" % name,
             'edit @BASE@ -o @OUT@ --add @IN@ -q', inp=name + '.vib')

    missing_payload('vib-payload-missing', ar([(b'descriptor.xml', desc), (b'sig.pkcs7', b'')]))
    vb('vib-duplicate-member', ar([(b'descriptor.xml', desc), (b'sig.pkcs7', b''),
                                   (b'hostile', payload), (b'hostile', payload)]),
       r"vib-duplicate-member\.vib: .*'hostile'")
    # a payload that is a gzip bomb, declared with its real size and sha-256
    bomb = gzip_bomb(BOMB)
    bdesc = descriptor('hostile', b'', 'bomb').replace(
        b'size="0"', b'size="%d"' % len(bomb)).replace(
        hashlib.sha256(b'').hexdigest().encode(), hashlib.sha256(bomb).hexdigest().encode(), 1)
    vb('vib-payload-gzip-bomb',
       ar([(b'descriptor.xml', bdesc), (b'sig.pkcs7', b''), (b'hostile', bomb)]),
       r"vib-payload-gzip-bomb\.vib: .*(bomb|ratio|limit|too big)",
       ['edit @BASE@ -o @OUT@ --add @IN@ -q'])
    case('vib-payload-gzip-bomb-verify', 3, 'out',
         r"^hostile: sha-256 \(gunzip\): FAILED .*inflates to more than", 'vib verify @IN@',
         inp='vib-payload-gzip-bomb.vib')
    # truncated at every ar boundary
    off_desc = 8 + 60
    off_sig = off_desc + len(desc) + len(desc) % 2
    off_pay = off_sig + 60
    cuts = {'empty': 0, 'mid-magic': 4, 'after-magic': 8, 'mid-header': 8 + 30,
            'after-header': off_desc, 'mid-descriptor': off_desc + len(desc) // 2,
            'before-sig': off_sig, 'mid-sig-header': off_sig + 20,
            'after-sig-header': off_pay, 'mid-payload-header': off_pay + 30,
            'after-payload-header': off_pay + 60, 'mid-payload': off_pay + 60 + len(payload) // 2,
            'minus-one': len(good) - 1 - (len(payload) % 2)}
    for tag, n in cuts.items():
        name = 'vib-cut-' + tag
        if tag == 'after-sig-header':   # a whole VIB that lacks its payload member
            missing_payload(name, good[:n])
            continue
        vb(name, good[:n], r"%s\.vib: .*(truncated|past the end|not an ar archive|no members|"
                           r"no 'sig\.pkcs7'|no member|not a VIB)" % name)


# ---------------------------------------------------------------------------------------------
# zips: depot bundles

def zip_local(name, data, method=0, crc=None, csize=None, usize=None, extra=b''):
    crc = zlib.crc32(data) if crc is None else crc
    csize = len(data) if csize is None else csize
    usize = len(data) if usize is None else usize
    return struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0x5121, crc,
                       csize & 0xffffffff, usize & 0xffffffff, len(name), len(extra)) + \
        name + extra + data


def zip_central(name, off, method=0, crc=0, csize=0, usize=0, attr=0o100644 << 16, extra=b'',
                made_by=0x0314):
    return struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, made_by, 20, 0, method, 0, 0x5121,
                       crc, csize & 0xffffffff, usize & 0xffffffff, len(name), len(extra), 0,
                       0, 0, attr, off & 0xffffffff) + name + extra


def zip_build(members, cd_off_delta=0, cd_size=None, count=None):
    """members: dicts with name, data (stored bytes), method, crc, usize, attr, extra."""
    body, cd = b'', b''
    for m in members:
        off = len(body)
        crc = m.get('crc', zlib.crc32(m['data']))
        usize = m.get('usize', len(m['data']))
        body += zip_local(m['name'], m['data'], m.get('method', 0), crc, m.get('csize'), usize)
        cd += zip_central(m['name'], m.get('off', off), m.get('method', 0), crc,
                          m.get('csize', len(m['data'])), usize,
                          m.get('attr', 0o100644 << 16), m.get('extra', b''))
    n = len(members) if count is None else count
    eocd = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n,
                       len(cd) if cd_size is None else cd_size,
                       (len(body) + cd_off_delta) & 0xffffffff, 0)
    return body + cd + eocd, len(body), len(body) + len(cd)


# `esximg build` spools a depot's VIBs into a work folder beside its output (inside the target)
BUILD = 'build -o @OUT@ --depot @IN@ --profile hostile -q'


def gen_zip(d):
    vib = make_vib()
    good, cd_at, eocd_at = zip_build([{'name': b'vib20/hostile/TEST_bootbank_hostile_1.0-1.vib',
                                       'data': vib}])
    put(d, 'zip-good.zip', good)
    readers = ['depot ls @IN@', 'depot extract @IN@ -C @DST@', 'diff @IN@ @DIR@/zip-good.zip']

    def zp(name, data, regex, cmds=None, exit_code=1):
        put(d, name + '.zip', data)
        case(name, exit_code, 'err', regex, *(cmds or readers))

    def zw(name, data, regex, extract_exit):
        """ls lists the bundle with one warning (exit 0); extract refuses it (exit 1) or
        extracts the VIBs with the same warning (exit 0)."""
        put(d, name + '.zip', data)
        case(name + '-ls', 0, 'warn', regex, 'depot ls @IN@', inp=name + '.zip')
        case(name + '-extract', extract_exit, 'err' if extract_exit else 'warn', regex,
             'depot extract @IN@ -C @DST@', inp=name + '.zip')
        # (edit --add reads the VIBs from memory and never uses a member name as a path)

    def one(name, **kw):
        m = {'name': name, 'data': vib}
        m.update(kw)
        return zip_build([m])[0]

    # unsafe member names: listed with a warning, never extracted
    zw('zip-dotdot', one(b'../evil.vib'), r"zip-dotdot\.zip: .*'\.\./evil\.vib'", 1)
    zw('zip-dotdot-deep', one(b'vib20/../../evil.vib'), r"zip-dotdot-deep\.zip: .*'\.\.'", 1)
    zw('zip-absolute', one(b'/tmp/esximg-hostile-evil.vib'),
       r"zip-absolute\.zip: .*absolute", 1)
    zp('zip-symlink', one(b'vib20/x/evil.vib', data=b'../../../../etc/passwd',
                          attr=0o120777 << 16),
       r"zip-symlink\.zip: .*(symlink|link|not a regular|no '\.vib' member)")
    zw('zip-backslash', one(b'..\\..\\evil.vib'), r"zip-backslash\.zip: .*evil\.vib", 1)
    # the zip bomb: one VIB inflating to 2 GiB of zeros
    body, crc = deflate_bomb(BOMB)
    zp('zip-bomb', one(b'vib20/bomb/bomb.vib', data=body, method=8, crc=crc, usize=BOMB),
       r"zip-bomb\.zip: .*(bomb|ratio|limit|too big|size)",
       readers + ['edit @BASE@ -o @OUT@ --add @IN@ -q', BUILD])
    # nested bundles past ESX_MAX_ZIP_DEPTH
    inner = good
    for _ in range(4):
        inner = zip_build([{'name': b'nested.zip', 'data': inner}])[0]
    zp('zip-nested-deep', inner, r"zip-nested-deep\.zip: .*(nest|deep|depth)",
       readers + ['edit @BASE@ -o @OUT@ --add @IN@ -q', BUILD])
    # metadata with entity expansion / external entity
    laughs = LAUGHS.replace('DOCTYPE vib', 'DOCTYPE vendorList').encode() + \
        b'<vendorList><vendor><name>&j;</name></vendor></vendorList>'
    # (the metadata is refused with a warning, never expanded; the VIBs stay usable)
    zw('zip-index-billion-laughs',
       zip_build([{'name': b'index.xml', 'data': laughs},
                  {'name': b'vib20/hostile/TEST_bootbank_hostile_1.0-1.vib', 'data': vib}])[0],
       r"zip-index-billion-laughs\.zip: .*(entit|DTD|DOCTYPE)", 0)
    meta_vib = XXE.replace('DOCTYPE vib', 'DOCTYPE vib').encode() + b'<vib><name>&x;</name></vib>'
    metadata = zip_build([{'name': b'vibs/hostile.xml', 'data': meta_vib}])[0]
    zw('zip-metadata-external-entity',
       zip_build([{'name': b'metadata.zip', 'data': metadata},
                  {'name': b'vib20/hostile/TEST_bootbank_hostile_1.0-1.vib', 'data': vib}])[0],
       r"zip-metadata-external-entity\.zip: .*(entit|DTD|DOCTYPE)", 0)
    # a VIB inside whose name would leave the target when extracted as <vib-id>.vib
    zp('zip-vib-id-slash', one(b'vib20/x/x.vib', data=make_vib(vendor='../../evil')),
       r"zip-vib-id-slash\.zip: .*'\.\./\.\./evil",
       ['depot extract @IN@ -C @DST@'])
    # sizes and offsets
    zp('zip-cd-offset-past-end', zip_build([{'name': b'a.vib', 'data': vib}],
                                           cd_off_delta=1 << 20)[0],
       r"zip-cd-offset-past-end\.zip: ")
    zp('zip-cd-offset-u32', zip_build([{'name': b'a.vib', 'data': vib}],
                                      cd_off_delta=0xfffffff0)[0],
       r"zip-cd-offset-u32\.zip: ")
    zp('zip-cd-size-u32', zip_build([{'name': b'a.vib', 'data': vib}], cd_size=0xffffffff)[0],
       r"zip-cd-size-u32\.zip: ")
    zp('zip-local-offset-past-end', one(b'a.vib', off=1 << 30), r"zip-local-offset-past-end\.zip: ")
    zp('zip-csize-past-end', one(b'a.vib', csize=1 << 30), r"zip-csize-past-end\.zip: ")
    z64 = struct.pack('<HHQQ', 1, 16, (1 << 64) - 1, (1 << 64) - 1)
    zp('zip-zip64-u64', one(b'a.vib', csize=0xffffffff, usize=0xffffffff, extra=z64),
       r"zip-zip64-u64\.zip: ")
    # full depots: metadata.zip members that describe images (docs/depot-format.md)
    def full(members):
        meta = zip_build(members)[0]
        return zip_build([{'name': b'metadata.zip', 'data': meta},
                          {'name': b'vib20/hostile/TEST_bootbank_hostile_1.0-1.vib',
                           'data': vib}])[0]
    listers = ['depot ls @IN@', 'depot extract @IN@ -C @DST@']
    base = (b'{"releaseID": "ESXi_7.0.2-0.0.1", "releaseType": "baseImage", '
            b'"schemaVersion": "1.0", "versionSpec": {"version": "7.0.2-0.0.1"}}')
    profile = (b'<imageprofile><name>P</name><viblist><vib><vib-id>TEST_bootbank_gone_1.0-1'
               b'</vib-id></vib></viblist></imageprofile>')
    # a metadata member whose name climbs out: not understood, never a path
    zw('zip-meta-traversal', full([{'name': b'profiles/../../evil', 'data': profile}]),
       r"zip-meta-traversal\.zip: metadata 'metadata\.zip/profiles/\.\./\.\./evil': .*'\.\.'",
       0)
    zw('zip-meta-profile-vib-gone', full([{'name': b'profiles/P', 'data': profile}]),
       r"zip-meta-profile-vib-gone\.zip: profile 'P' lists vib 'TEST_bootbank_gone_1\.0-1', "
       r"which is not in the bundle", 0)
    body, crc = deflate_bomb(BOMB)
    zp('zip-meta-json-bomb', full([{'name': b'baseimages/b.json', 'data': body,
                                        'method': 8, 'crc': crc, 'usize': BOMB}]),
       r"zip-meta-json-bomb\.zip: .*(limit|larger|bomb|ratio)", listers)
    zp('zip-meta-json-size-lie', full([{'name': b'baseimages/b.json', 'data': base,
                                            'usize': 1 << 31}]),
       r"zip-meta-json-size-lie\.zip: ", listers)
    zp('zip-meta-two-base-images',
       full([{'name': b'baseimages/one.json', 'data': base},
                 {'name': b'baseimages/two.json', 'data': base}]),
       r"zip-meta-two-base-images\.zip: base images 'metadata\.zip/baseimages/one\.json' and "
       r"'metadata\.zip/baseimages/two\.json' have the same version '7\.0\.2-0\.0\.1'", listers)
    zp('zip-meta-json-deep',
       full([{'name': b'baseimages/d.json', 'data': b'{"a": ' + b'[' * 40 + b']' * 40 +
                  b'}'}]),
       r"zip-meta-json-deep\.zip: json nested deeper than 16 levels", listers)
    # `esximg build` selects from these depots' metadata: what it needs and cannot have is one
    # line naming it, a document past the limits stops it (naming the member)
    def fb(name, regex, sel):
        case(name + '-build', 1, 'err', regex, 'build -o @OUT@ --depot @IN@ -q ' + sel,
             inp=name + '.zip')
    fb('zip-meta-traversal', r"image profile 'P' is in no depot", '--profile P')
    fb('zip-meta-profile-vib-gone',
       r"vib 'TEST_bootbank_gone_1\.0-1' of image profile 'P' is in no depot", '--profile P')
    fb('zip-meta-json-bomb', r"zip-meta-json-bomb\.zip: metadata 'metadata\.zip/baseimages/"
       r"b\.json': .*(limit|larger)", '--base-image 7.0.2-0.0.1')
    fb('zip-meta-json-size-lie', r"zip-meta-json-size-lie\.zip: metadata 'metadata\.zip/"
       r"baseimages/b\.json': .*limit", '--base-image 7.0.2-0.0.1')
    fb('zip-meta-two-base-images', r"zip-meta-two-base-images\.zip: base images "
       r"'metadata\.zip/baseimages/one\.json' and 'metadata\.zip/baseimages/two\.json' have "
       r"the same version '7\.0\.2-0\.0\.1'", '--base-image 7.0.2-0.0.1')
    fb('zip-meta-json-deep', r"zip-meta-json-deep\.zip: metadata 'metadata\.zip/baseimages/"
       r"d\.json': json nested deeper than 16 levels", '--base-image 7.0.2-0.0.1')
    # truncated at every zip boundary
    cuts = {'empty': 0, 'mid-local-header': 15, 'after-local-header': 30,
            'mid-data': 30 + 40 + len(vib) // 2, 'at-central': cd_at,
            'mid-central': cd_at + 20, 'at-eocd': eocd_at, 'mid-eocd': eocd_at + 11,
            'minus-one': len(good) - 1}
    for tag, n in cuts.items():
        name = 'zip-cut-' + tag
        zp(name, good[:n], r"%s\.zip: " % name, readers + ['edit @BASE@ -o @OUT@ --add @IN@ -q'])


# ---------------------------------------------------------------------------------------------
# GNU tar: OEM driver .tgz (vib from-oem, edit --add)

def tarball(members, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as t:
        for name, typ, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = 'root'
            if typ == 'dir':
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            elif typ == 'sym':
                info.type = tarfile.SYMTYPE
                info.linkname = data
                info.mode = 0o777
                t.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


MODULE = b'\x7fELF' + bytes(range(256)) * 16
OEM = [('etc/vmware/default.map.d/hostile.map', 'file',
        b'regtype=native,bus=pci,id=8086100e0000..............,driver=hostile\n'),
       ('usr/lib/vmware/vmkmod/hostile', 'file', MODULE)]


def gen_tar(d):
    raw = tarball(OEM)
    put(d, 'oem-good.tgz', gz(raw))
    cmds = ['vib from-oem @IN@ -o @OUT@', 'edit @BASE@ -o @OUT@ --add @IN@ -q']

    def ot(name, data, regex, exit_code=1, zipped=True):
        put(d, name + '.tgz', gz(data) if zipped else data)
        case(name, exit_code, 'err', regex, *cmds)

    ot('oem-dotdot', tarball(OEM + [('../../evil', 'file', b'evil\n')]),
       r"oem-dotdot\.tgz: .*'\.\./\.\./evil'")
    ot('oem-absolute', tarball(OEM + [('/etc/evil', 'file', b'evil\n')]),
       r"oem-absolute\.tgz: .*'/etc/evil'")
    ot('oem-symlink-escape',
       tarball([OEM[0], ('usr/lib/vmware/vmkmod/hostile', 'sym', '../../../../etc/shadow')]),
       r"oem-symlink-escape\.tgz: .*(symlink|link|regular|module)")
    ot('oem-symlink-dir',
       tarball([('usr/lib/vmware/vmkmod', 'sym', '/etc'), OEM[0],
                ('usr/lib/vmware/vmkmod/hostile', 'file', MODULE)]),
       r"oem-symlink-dir\.tgz: .*(symlink|link|regular|module)")
    # sizes, checksums
    h = bytearray(raw)
    h[124:136] = b'77777777777\0'           # 8 GiB - 1 in the first member
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h[:512])
    ot('oem-size-past-end', bytes(h),
       r"oem-size-past-end\.tgz: .*(truncated|past the end|larger than)")
    h = bytearray(raw)
    h[124:136] = b'\x80' + b'\xff' * 11     # base-256: 2^88 - 1
    h[148:156] = b' ' * 8
    h[148:156] = b'%06o\0 ' % sum(h[:512])
    ot('oem-size-u64', bytes(h), r"oem-size-u64\.tgz: ")
    h = bytearray(raw)
    h[148:156] = b'000000\0 '
    ot('oem-bad-checksum', bytes(h), r"oem-bad-checksum\.tgz: ")
    bomb_head = tarball([('usr/lib/vmware/vmkmod/hostile', 'file', b'')])[:512]
    bomb_head = bomb_head[:124] + b'%011o\0' % BOMB + bomb_head[136:]
    bomb_head = bomb_head[:148] + b' ' * 8 + bomb_head[156:]
    bomb_head = bomb_head[:148] + b'%06o\0 ' % sum(bomb_head) + bomb_head[156:]
    put(d, 'oem-gzip-bomb.tgz', gzip_bomb(BOMB, bomb_head))
    case('oem-gzip-bomb', 1, 'err', r"oem-gzip-bomb\.tgz: .*larger than 67108864 bytes", *cmds)
    # a member under the OEM file limit, still a bomb: 60 MiB of zeros from 60 KiB
    small = 60 << 20
    bomb_head = bomb_head[:124] + b'%011o\0' % small + bomb_head[136:]
    bomb_head = bomb_head[:148] + b' ' * 8 + bomb_head[156:]
    bomb_head = bomb_head[:148] + b'%06o\0 ' % sum(bomb_head) + bomb_head[156:]
    put(d, 'oem-gzip-bomb-60m.tgz', gzip_bomb(small, bomb_head))
    case('oem-gzip-bomb-60m', 1, 'err', r"oem-gzip-bomb-60m\.tgz: .*(bomb|times|ratio)", *cmds)
    # truncated: tar header, member data, end-of-archive blocks; gzip header and trailer
    first = 512 + len(OEM[0][2]) + (-len(OEM[0][2]) % 512)
    cuts = {'mid-header': 256, 'after-header': 512, 'mid-data': 512 + 20,
            'after-member1': first, 'mid-header2': first + 100,
            'mid-data2': first + 512 + 1000}
    for tag, n in cuts.items():
        ot('oem-cut-' + tag, raw[:n], r"oem-cut-%s\.tgz: " % tag)
    g = gz(raw)
    for tag, n in {'gz-header': 6, 'gz-mid-deflate': len(g) // 2,
                   'gz-no-trailer': len(g) - 8, 'gz-half-trailer': len(g) - 4}.items():
        ot('oem-cut-' + tag, g[:n], r"oem-cut-%s\.tgz: " % tag, zipped=False)


# ---------------------------------------------------------------------------------------------
# ISO 9660: a small writer, enough for the readers to walk

def both16(v):
    return struct.pack('<H', v) + struct.pack('>H', v)


def both32(v):
    return struct.pack('<I', v & 0xffffffff) + struct.pack('>I', v & 0xffffffff)


def dirrec(name, lba, size, is_dir):
    n = len(name)
    rec = struct.pack('<BB', 33 + n + (1 - n % 2), 0) + both32(lba) + both32(size) + \
        bytes([120, 9, 13, 12, 26, 40, 0]) + bytes([2 if is_dir else 0, 0, 0]) + both16(1) + \
        bytes([n]) + name
    if n % 2 == 0:
        rec += b'\0'
    return rec


def iso_build(files, loop=None, bad=None):
    """files: {'/NAME;1': bytes} at the root, plus one folder DIR holding A.TXT;1.
    loop: DIR holds a folder LOOP that is DIR itself ('self') or the root ('root').
    bad: a dict of field overrides: file_lba, file_size, pt_lba, root_size, vol_blocks."""
    bad = bad or {}
    root_lba, dir_lba, pt_l, pt_m = 20, 21, 18, 19
    lba = 22
    placed = []
    for name in sorted(files):
        data = files[name]
        placed.append((name, lba, data))
        lba += max(1, (len(data) + 2047) // 2048)
    a_lba = lba
    lba += 1
    total = lba
    loop_lba = {'self': dir_lba, 'root': root_lba}.get(loop)

    root = dirrec(b'\0', root_lba, bad.get('root_size', 2048), True) + \
        dirrec(b'\1', root_lba, 2048, True) + dirrec(b'DIR', dir_lba, 2048, True)
    for name, flba, data in placed:
        root += dirrec(name.encode(), bad.get('file_lba', flba), bad.get('file_size', len(data)),
                       False)
    sub = dirrec(b'\0', dir_lba, 2048, True) + dirrec(b'\1', root_lba, 2048, True) + \
        dirrec(b'A.TXT;1', a_lba, 6, False)
    if loop_lba is not None:
        sub += dirrec(b'LOOP', loop_lba, 2048, True)
    ptl = struct.pack('<BBIH', 1, 0, root_lba, 1) + b'\0\0' + \
        struct.pack('<BBIH', 3, 0, dir_lba, 1) + b'DIR\0'
    ptm = struct.pack('>BBIH', 1, 0, root_lba, 1) + b'\0\0' + \
        struct.pack('>BBIH', 3, 0, dir_lba, 1) + b'DIR\0'
    pvd = bytearray(2048)
    pvd[0:7] = b'\x01CD001\x01'
    pvd[8:40] = b' ' * 32
    pvd[40:72] = b'HOSTILE'.ljust(32)
    pvd[80:88] = both32(bad.get('vol_blocks', total))
    pvd[120:124] = both16(1)
    pvd[124:128] = both16(1)
    pvd[128:132] = both16(2048)
    pvd[132:140] = both32(len(ptl))
    pvd[140:144] = struct.pack('<I', bad.get('pt_lba', pt_l))
    pvd[148:152] = struct.pack('>I', bad.get('pt_lba', pt_m))
    pvd[156:190] = dirrec(b'\0', root_lba, bad.get('root_size', 2048), True)
    pvd[190:318] = b' ' * 128
    pvd[318:702] = b' ' * 384
    pvd[574:702] = b'ESXIMAGE'.ljust(128)
    pvd[702:813] = b' ' * 111
    for off in (813, 830, 847, 864):
        pvd[off:off + 17] = b'0' * 16 + b'\0'
    pvd[813:830] = b'2020091312264000\0'
    pvd[830:847] = b'2020091312264000\0'
    pvd[881] = 1
    term = b'\xffCD001\x01' + bytes(2041)
    img = bytearray(total * 2048)
    img[16 * 2048:17 * 2048] = pvd
    img[17 * 2048:18 * 2048] = term
    img[pt_l * 2048:pt_l * 2048 + len(ptl)] = ptl
    img[pt_m * 2048:pt_m * 2048 + len(ptm)] = ptm
    img[root_lba * 2048:root_lba * 2048 + len(root)] = root
    img[dir_lba * 2048:dir_lba * 2048 + len(sub)] = sub
    for name, flba, data in placed:
        img[flba * 2048:flba * 2048 + len(data)] = data
    img[a_lba * 2048:a_lba * 2048 + 6] = b'hello\n'
    return bytes(img), {'pvd': 16 * 2048, 'term': 17 * 2048, 'pt': pt_l * 2048,
                        'root': root_lba * 2048, 'dir': dir_lba * 2048,
                        'file': placed[0][1] * 2048 if placed else a_lba * 2048,
                        'end': total * 2048}


def iso_dag(levels):
    """Folders D0 .. Dn under the root, each Dk naming Dk+1 twice (A and B) in a second block
    that only its own '.' record counts (its parent's record says one block): a reader that
    follows the '.' size (libisofs does) meets 2^n folders unless it refuses the shared ones."""
    img, _ = iso_build({})
    img = bytearray(img)
    base = len(img) // 2048
    dirs = [base + 2 * k for k in range(levels + 1)]
    img += bytes(2 * 2048 * (levels + 1))
    root_lba = 20
    pvd = 16 * 2048
    img[pvd + 80:pvd + 88] = both32(len(img) // 2048)
    root = dirrec(b'\0', root_lba, 2048, True) + dirrec(b'\1', root_lba, 2048, True) + \
        dirrec(b'D0', dirs[0], 2048, True)
    img[root_lba * 2048:(root_lba + 1) * 2048] = root.ljust(2048, b'\0')
    for k, lba in enumerate(dirs):
        last = k == levels
        head = dirrec(b'\0', lba, 2048 if last else 4096, True) + dirrec(b'\1', root_lba, 2048,
                                                                         True)
        img[lba * 2048:lba * 2048 + len(head)] = head
        if not last:
            hidden = dirrec(b'A', dirs[k + 1], 2048, True) + dirrec(b'B', dirs[k + 1], 2048, True)
            img[(lba + 1) * 2048:(lba + 1) * 2048 + len(hidden)] = hidden
    return bytes(img)


BOOTCFG = (b'bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\n'
           b'kernel=/b.b00\nkernelopt=runweasel cdromBoot\nmodules=/jumpstrt.gz --- /s.v00\n'
           b'build=7.0.2-0.0.17630552\nupdated=0\n')


def gen_iso(d):
    readers = ['info @IN@', 'ls @IN@', 'ls --files @IN@', 'ls --drivers @IN@',
               'hcl @IN@ --pci 8086:10d3/0200', 'export @IN@ -o @OUT@ -q',
               'diff @IN@ @DIR@/iso-good.iso']
    files = {'BOOT.CFG;1': BOOTCFG}
    good, at = iso_build(files)
    put(d, 'iso-good.iso', good)

    def io_(name, data, regex, cmds=None, exit_code=1, stream='err'):
        put(d, name + '.iso', data)
        case(name, exit_code, stream, regex, *(cmds or readers))

    io_('iso-dir-loop-self', iso_build(files, loop='self')[0],
        r"iso-dir-loop-self\.iso: .*(loop|deep|depth|cycle)")
    io_('iso-dir-loop-root', iso_build(files, loop='root')[0],
        r"iso-dir-loop-root\.iso: .*(loop|deep|depth|cycle)")
    # libisofs reads a folder as far as its own '.' record says: the shared folders there are
    # refused at once, where reading them took minutes (2^24 folders, fewer levels than the depth limit)
    io_('iso-dir-dag-hidden', iso_dag(24),
        r"iso-dir-dag-hidden\.iso: .*a directory already seen")
    # info is the checker: an unreadable BOOT.CFG is one of the problems it reports (exit 3)
    big = b'kernelopt=' + b'a' * (1 << 20) + b'\n'
    io_('iso-bootcfg-huge', iso_build({'BOOT.CFG;1': BOOTCFG + big})[0],
        r"^  /BOOT\.CFG: file '/BOOT\.CFG' is [0-9]+ bytes, more than the limit",
        ['info @IN@'], 3, 'out')
    # a file record whose data lies past the end: the image opens (a listing shows the
    # record as it is), reading that file fails; info reports it as a problem
    io_('iso-file-past-end', iso_build(files, bad={'file_lba': 1 << 20})[0],
        r"^  /BOOT\.CFG: cannot read file '/BOOT\.CFG': block 1048576 lies past the end",
        ['info @IN@'], 3, 'out')
    io_('iso-file-size-u32', iso_build(files, bad={'file_size': 0xffffffff})[0],
        r"^  /BOOT\.CFG: file '/BOOT\.CFG' is 4294967295 bytes, more than the limit",
        ['info @IN@'], 3, 'out')
    io_('iso-lba-u32', iso_build(files, bad={'file_lba': 0xffffffff})[0],
        r"^  /BOOT\.CFG: cannot read file '/BOOT\.CFG': block 4294967295 lies past the end",
        ['info @IN@'], 3, 'out')
    io_('iso-volume-size-lies', iso_build(files, bad={'vol_blocks': 0xffffffff})[0],
        r"iso-volume-size-lies\.iso: ")
    # truncated at every boundary: before the PVD, in it, at the terminator, path table, root
    # directory record, sub directory, file data
    cuts = {'before-pvd': at['pvd'], 'mid-pvd': at['pvd'] + 1024, 'at-terminator': at['term'],
            'at-path-table': at['pt'], 'at-root-dir': at['root'], 'mid-root-dir': at['root'] + 40,
            'at-sub-dir': at['dir'], 'at-file-data': at['file'], 'minus-one': at['end'] - 1}
    for tag, n in cuts.items():
        io_('iso-cut-' + tag, good[:n], r"iso-cut-%s\.iso: " % tag)


# ---------------------------------------------------------------------------------------------
# stage folders for vib create, source trees for vmtar c

def gen_stage(d):
    def stage(name, payload_setup):
        root = os.path.join(d, name)
        os.makedirs(os.path.join(root, 'payloads', 'p1'))
        with open(os.path.join(root, 'descriptor.xml'), 'wb') as f:
            f.write(b'<vib version="5.0"><type>bootbank</type><name>evil</name>'
                    b'<version>1.0-1</version><vendor>X</vendor><payloads>'
                    b'<payload name="p1" type="vgz"/></payloads></vib>')
        payload_setup(root, os.path.join(root, 'payloads', 'p1'))

    def escape_rel(root, p):
        os.makedirs(os.path.join(p, 'etc'))
        os.symlink('../../../../../etc/shadow', os.path.join(p, 'etc', 'shadow'))

    def escape_abs(root, p):
        os.symlink('/etc', os.path.join(p, 'etc'))

    def payload_dir_link(root, p):
        os.rmdir(p)
        os.symlink('/etc', p)

    def descriptor_link(root, p):
        os.unlink(os.path.join(root, 'descriptor.xml'))
        os.symlink('/etc/passwd', os.path.join(root, 'descriptor.xml'))
        with open(os.path.join(p, 'x'), 'w') as f:
            f.write('x\n')

    for name, fn, regex in [
            ('stage-symlink-escape', escape_rel, r"shadow.*(leaves|outside|escap)"),
            ('stage-symlink-absolute', escape_abs, r"etc.*(leaves|outside|escap|absolute)"),
            ('stage-payload-dir-symlink', payload_dir_link, r"p1.*(symlink|link|director)"),
            ('stage-descriptor-symlink', descriptor_link,
             r"descriptor\.xml: descriptor is not well-formed")]:
        stage(name, fn)
        case(name, 1, 'err', regex, 'vib create -s @IN@ -o @OUT@')


def gen_esx(d, base):
    """Cases made from a good ESXi-like image with xorriso: BOOT.CFG with a 1 MiB line."""
    import shutil
    import subprocess
    xorriso = shutil.which('xorriso')
    if not base or not xorriso:
        return
    cfg = os.path.join(d, 'esx-bootcfg-long-line.cfg')
    line = b'kernelopt=runweasel ' + b'a' * ((1 << 20) - 4096) + b'\n'
    with open(cfg, 'wb') as f:
        f.write(BOOTCFG.replace(b'kernelopt=runweasel cdromBoot\n', line))
    os.utime(cfg, (MTIME, MTIME))       # xorriso records the file's times
    out = os.path.join(d, 'esx-bootcfg-long-line.iso')
    run = subprocess.run([xorriso, '-indev', base, '-outdev', out, '-update', cfg, '/BOOT.CFG',
                          '-update', cfg, '/EFI/BOOT/BOOT.CFG', '-boot_image', 'any', 'replay',
                          '-commit'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, TZ='UTC',
                                  SOURCE_DATE_EPOCH=os.environ.get('SOURCE_DATE_EPOCH',
                                                                   str(MTIME))))
    os.unlink(cfg)
    if run.returncode != 0:
        sys.exit('gen.py: xorriso failed on %s' % base)
    # ls, ls --drivers, hcl and export do not need BOOT.CFG and answer; the checker and the
    # editor do need it
    case('esx-bootcfg-long-line-info', 3, 'out',
         r"^  /BOOT\.CFG: boot\.cfg line 6 too long: [0-9]+ bytes \(limit 65536\)$",
         'info @IN@', inp='esx-bootcfg-long-line.iso')
    case('esx-bootcfg-long-line-edit', 1, 'err',
         r"esx-bootcfg-long-line\.iso: '/BOOT\.CFG': boot\.cfg line 6 too long",
         'edit @IN@ -o @OUT@ --add @DIR@/vib-good.vib -q', inp='esx-bootcfg-long-line.iso')


def put(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir')
    ap.add_argument('--base-iso', help='a good ESXi-like image for the edit cases')
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    gen_vmtar(args.dir)
    gen_vib(args.dir)
    gen_zip(args.dir)
    gen_tar(args.dir)
    gen_iso(args.dir)
    gen_stage(args.dir)
    gen_esx(args.dir, args.base_iso)
    ext = {'vmtar': '.v00', 'vib': '.vib', 'zip': '.zip', 'oem': '.tgz', 'iso': '.iso'}
    with open(os.path.join(args.dir, 'MANIFEST.tsv'), 'w') as f:
        for name, code, stream, regex, cmd, inp in CASES:
            if '@BASE@' in cmd and not args.base_iso:
                continue
            stem = name.split('#')[0]
            kind = stem.split('-')[0]
            if inp is None:
                inp = stem if kind == 'stage' else stem + ext.get(kind, '')
            if not os.path.lexists(os.path.join(args.dir, inp)):
                sys.exit('gen.py: case %s has no input %s' % (name, inp))
            f.write('\t'.join([name, str(code), stream, regex, inp, cmd]) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
