"""esxdepot.py: the VMware-style depot that mkesxiso.py --depot writes beside an image.

Layout (the i13 depot layout; esxi-formats.md sections 2.1, 3.4, 6.1, 6.2):

    index.xml, vendor-index.xml, metadata.zip, vib20/<vib name>/<vib id>.vib
    metadata.zip: vmware.xml, vendor-index.xml, vibs/<name>-<n>.xml, bulletins/<id>.xml,
                  profiles/<profile name>.xml, and on 7.0+ baseimages/<release id>.json,
                  addons/<release id>.json

Python 3 standard library only.  Every zip member has the same fixed time and attributes and
the members are sorted, so the same inputs give the same bytes.
"""

import datetime
import hashlib
import io
import json
import zipfile
import zlib

AR_MAGIC = b'!<arch>\n'


def ar_archive(members):
    """A VIB's ar container as esximage's ArFile writes it (esxi-formats.md 2.1): names padded
    to 16 without a trailing '/', mtime, uid, gid and mode "0", an odd member padded with
    '\\n'.  members: [(name, bytes)] in order (descriptor.xml, sig.pkcs7, the payloads)."""
    out = bytearray(AR_MAGIC)
    for name, data in members:
        if len(name) > 15:
            raise ValueError('ar member name longer than 15 characters: %s' % name)
        head = '%-16.16s%-12.12s%-6.6s%-6.6s%-8.8s%-10.10s%-2.2s' % (
            name, '0', '0', '0', '0', len(data), '`\n')
        out += head.encode()
        out += data
        if len(data) % 2:
            out += b'\n'
    return bytes(out)


def deflate_saves(data):
    """Whether deflating saves 1% or more: a member that does not (a .vib of gzip'd payloads)
    is stored, as esximg's own bundle writer stores it."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    size = len(c.compress(data)) + len(c.flush())
    return size < len(data) - len(data) // 100


def zip_bytes(members, epoch):
    """A zip of {name: bytes}, members sorted, deflated unless that saves less than 1%, every
    time and attribute pinned."""
    stamp = datetime.datetime.fromtimestamp(max(epoch, 315532800), datetime.timezone.utc)
    date_time = stamp.timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time)
            data = members[name]
            info.compress_type = (zipfile.ZIP_DEFLATED if deflate_saves(data)
                                  else zipfile.ZIP_STORED)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            z.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def iso_date(epoch, micro=True):
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%S.000000' if micro else '%Y-%m-%dT%H:%M:%S')


def xml_text(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def xml_attr(s):
    return xml_text(s).replace('"', '&quot;')


INDEX_XML = '''<vendorList>
  <vendor>
    <name>VMware, Inc.</name>
    <code>VMW</code>
    <indexfile>vendor-index.xml</indexfile>
    <patchUrl></patchUrl>
    <relativePath></relativePath>
    <content>
      <name>VMware ESX</name>
      <type>http://www.vmware.com/depotmanagement/esx</type>
    </content>
  </vendor>
</vendorList>
'''

VENDOR_INDEX_XML = '''<metaList>
  <metadata>
    <productId>embeddedEsx</productId>
    <version>%s</version>
    <locale></locale>
    <url>metadata.zip</url>
    <channelName>default</channelName>
  </metadata>
</metaList>
'''


def payload_bytes(p):
    """A payload's stored bytes: in memory, or (the --pad-mib module) in its file."""
    if p.data is not None:
        return p.data
    with open(p.path, 'rb') as f:
        return f.read()


class DepotVib:
    """One .vib of the depot: the descriptor bytes, its signature (b'' when unsigned) and the
    payloads in descriptor order."""

    def __init__(self, vib, descriptor, signature):
        self.vib = vib
        self.descriptor = descriptor
        self.signature = signature
        members = [('descriptor.xml', descriptor), ('sig.pkcs7', signature)]
        members += [(p.name, payload_bytes(p)) for p in vib.payloads]
        self.bytes = ar_archive(members)
        self.path = 'vib20/%s/%s.vib' % (vib.name, vib.id)
        self.sha256 = hashlib.sha256(self.bytes).hexdigest()

    def metadata_xml(self):
        """vibs/<name>-<n>.xml: the descriptor with the depot's three elements before </vib>."""
        text = self.descriptor.decode('utf-8')
        close = text.rindex('</vib>')
        return (text[:close] + '<relative-path>%s</relative-path><packed-size>%d</packed-size>'
                '<checksum checksum-type="sha-256">%s</checksum>'
                % (xml_text(self.path), len(self.bytes), self.sha256) + text[close:]).encode()


class Component:
    """A bulletin; on 7.0+ a component (componentNameSpec, componentVersionSpec)."""

    def __init__(self, name, version, ui_name, ui_version, vendor, summary, vibs,
                 component=True):
        self.name = name
        self.version = version
        self.ui_name = ui_name
        self.ui_version = ui_version
        self.vendor = vendor
        self.summary = summary
        self.vibs = vibs              # the Vib objects (mkesxiso.py) it lists
        self.component = component

    @property
    def id(self):
        return '%s_%s' % (self.name, self.version) if self.component else self.name

    def bulletin_xml(self, release_date, platform):
        spec = ''
        if self.component:
            spec = ('<componentNameSpec name="%s" uiString="%s"/><componentVersionSpec '
                    'uiString="%s" version="%s"/>' % (xml_attr(self.name), xml_attr(self.ui_name),
                                                      xml_attr(self.ui_version),
                                                      xml_attr(self.version)))
        vibs = ''.join('<vibID>%s</vibID>' % xml_text(v.id) for v in self.vibs)
        return ('<bulletin><id>%s</id><vendor>%s</vendor><summary>%s</summary>'
                '<severity>general</severity><category>enhancement</category>'
                '<urgency>important</urgency><releaseType>extension</releaseType>'
                '<description>%s</description><kbUrl>http://kb.vmware.com/kb/example.html'
                '</kbUrl><contact>support@vmware.com</contact>%s<releaseDate>%s</releaseDate>'
                '<platforms><softwarePlatform locale="" productLineID="embeddedEsx" '
                'version="%s"/></platforms><vibList>%s</vibList></bulletin>'
                % (xml_text(self.id), xml_text(self.vendor), xml_text(self.summary),
                   xml_text(self.summary), spec, release_date, xml_attr(platform), vibs))

    def vmware_xml(self, release_date, platform, depot_vibs):
        """The bulletin as vmware.xml lists it (esxi-formats.md 6.1); depot_vibs: vib id ->
        DepotVib."""
        out = ['  <bulletin>', '    <id>%s</id>' % xml_text(self.id),
               '    <vendor>%s</vendor>' % xml_text(self.vendor),
               '    <summary>%s</summary>' % xml_text(self.summary),
               '    <severity>general</severity>', '    <category>enhancement</category>',
               '    <urgency>important</urgency>', '    <releaseType>extension</releaseType>',
               '    <description>%s</description>' % xml_text(self.summary)]
        if self.component:
            out.append('    <componentNameSpec name="%s" uiString="%s"/>'
                       % (xml_attr(self.name), xml_attr(self.ui_name)))
            out.append('    <componentVersionSpec version="%s" uiString="%s"/>'
                       % (xml_attr(self.version), xml_attr(self.ui_version)))
        out += ['    <releaseDate>%s</releaseDate>' % release_date, '    <platforms>',
                '      <softwarePlatform locale="" version="%s" productLineID="embeddedEsx"/>'
                % xml_attr(platform), '    </platforms>', '    <vibList>']
        for v in self.vibs:
            out += vmware_vib_lines(depot_vibs[v.id], platform)
        out += ['    </vibList>', '  </bulletin>']
        return '\n'.join(out) + '\n'


def vmware_vib_lines(v, platform):
    vib = v.vib
    rel = ['        <relationships>']
    rel += (['          <depends>'] + ['            <constraint name="%s"/>' % xml_attr(n)
                                        for n in vib.depends] + ['          </depends>']
            if vib.depends else ['          <depends/>'])
    rel += ['          <conflicts/>', '          <replaces/>']
    if vib.provides:
        rel += ['          <provides>']
        rel += ['            <provide name="%s"%s/>'
                % (xml_attr(n), '' if ver is None else ' version="%s"' % xml_attr(ver))
                for n, ver in vib.provides]
        rel += ['          </provides>']
    else:
        rel += ['          <provides/>']
    rel += ['          <compatibleWith/>', '        </relationships>']
    return (['      <vib>',
             '        <vibID>%s</vibID>' % xml_text(vib.id),
             '        <name>%s</name>' % xml_text(vib.name),
             '        <version>%s</version>' % xml_text(vib.version),
             '        <vendor>%s</vendor>' % xml_text(vib.vendor),
             '        <vibType>%s</vibType>' % xml_text(vib.type),
             '        <summary>%s</summary>' % xml_text(vib.summary),
             '        <systemReqs>',
             '          <maintenanceMode>true</maintenanceMode>',
             '          <swPlatform locale="" version="%s" productLineID="embeddedEsx"/>'
             % xml_attr(platform),
             '        </systemReqs>'] + rel +
            ['        <postInstall>', '          <rebootRequired>true</rebootRequired>',
             '          <hostdRestart>false</hostdRestart>', '        </postInstall>',
             '        <softwareTags>'] +
            ['          <tag>%s</tag>' % xml_text(t) for t in vib.tags] +
            ['        </softwareTags>', '        <vibFile>', '          <sourceUrl></sourceUrl>',
             '          <relativePath>%s</relativePath>' % xml_text(v.path),
             '          <packedSize>%d</packedSize>' % len(v.bytes),
             '          <checksum>', '            <checksumType>sha-256</checksumType>',
             '            <checksum>%s</checksum>' % v.sha256, '          </checksum>',
             '        </vibFile>', '      </vib>'])


def json_doc(obj):
    return (json.dumps(obj, indent=2) + '\n').encode()


def write_depot(vibs, components, profile, base_image, addon, platform, epoch, vib_xml_name,
                release_date):
    """The depot zip bytes.  vibs: [DepotVib]; components: [Component]; profile: (file name,
    bytes); base_image, addon: the JSON documents or None; vib_xml_name(vib) names the vibs/
    file of a VIB in metadata.zip; release_date: the bulletins' date, as the image's."""
    by_id = {v.vib.id: v for v in vibs}
    meta = {'vendor-index.xml': (VENDOR_INDEX_XML % platform).encode()}
    vmware = ['<metadataResponse>', '  <version>3.0</version>',
              '  <timestamp>%s</timestamp>' % iso_date(epoch)]
    for c in components:
        meta['bulletins/%s.xml' % c.id] = c.bulletin_xml(release_date, platform).encode()
        vmware.append(c.vmware_xml(release_date, platform, by_id).rstrip('\n'))
    vmware.append('</metadataResponse>')
    meta['vmware.xml'] = ('\n'.join(vmware) + '\n').encode()
    for v in vibs:
        meta['vibs/' + vib_xml_name(v.vib)] = v.metadata_xml()
    meta['profiles/' + profile[0]] = profile[1]
    if base_image:
        meta['baseimages/%s.json' % base_image['releaseID']] = json_doc(base_image)
    if addon:
        meta['addons/%s.json' % addon['releaseID']] = json_doc(addon)
    top = {'index.xml': INDEX_XML.encode(), 'vendor-index.xml': (VENDOR_INDEX_XML
                                                                 % platform).encode(),
           'metadata.zip': zip_bytes(meta, epoch)}
    for v in vibs:
        top[v.path] = v.bytes
    return zip_bytes(top, epoch)
