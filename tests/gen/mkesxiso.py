#!/usr/bin/env python3
"""mkesxiso.py: builds a small ESXi-like installer ISO for the tests.

The image is laid out like a real ESXi 6.7 / 7.0 / 8.0 installer ISO (plain ISO 9660, 8.3 names,
BOOT.CFG twice, gzip'd vmtar driver modules, IMGDB.TGZ with descriptors and the image profile,
two El Torito entries) but holds no VMware code: the kernel and core modules are stubs, and the
two boot loaders only print BOOT.CFG on the serial console so that a boot test can see it.
With --depot it also writes the image's VIBs as a full VMware-style depot (esxdepot.py); with
--patch N it makes a newer patch of the same release.

Python 3 standard library only.  External programs: xorriso, mkfs.vfat + mtools (EFIBOOT.IMG),
grub-mkimage (the UEFI loader), Debian's isolinux/syslinux modules (the BIOS loader).
See README.md beside this file.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse

sys.dont_write_bytecode = True     # no __pycache__ beside the sources when esxdepot loads
import esxdepot  # noqa: E402  (tests/gen/esxdepot.py)

HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULT_EPOCH = 1600000000          # 2020-09-13T12:26:40Z, used without SOURCE_DATE_EPOCH
VMTAR_ALIGN = 4096                  # 6.7 and later ISO modules
PAD_CHUNK = 1 << 20

VERSIONS = {
    '6.7': {
        'profile': 'ESXi-6.7.0-8169922-standard',
        'build': '',
        'base_version': '6.7.0-0.0.8169922',
        'vib_suffix': '670.0.0.8169922',
        'kernelopt': 'runweasel',
        'tail': ['imgdb.tgz', 'imgpayld.tgz'],
        'bulletins': False,
        'esxi_release': '6.7.0',
        'vmkapi': 5,
    },
    '7.0': {
        'profile': 'ESXi-7.0.2-17630552-standard',
        'build': '7.0.2-0.0.17630552',
        'base_version': '7.0.2-0.0.17630552',
        'vib_suffix': '702.0.0.17630552',
        'kernelopt': 'cdromBoot runweasel',
        'tail': ['imgdb.tgz', 'basemisc.tgz', 'resvibs.tgz', 'imgpayld.tgz'],
        'bulletins': True,
        'esxi_release': '7.0.2',
        'vmkapi': 8,
    },
    '8.0': {
        'profile': 'ESXi-8.0.0-20513097-standard',
        'build': '8.0.0-1.0.20513097',
        'base_version': '8.0.0-1.0.20513097',
        'vib_suffix': '800.1.0.20513097',
        'kernelopt': 'runweasel cdromBoot',
        'tail': ['imgdb.tgz', 'basemisc.tgz', 'resvibs.tgz', 'esxiodpt.tgz', 'imgpayld.tgz'],
        'bulletins': True,
        'esxi_release': '8.0.0',
        'vmkapi': 10,
    },
}

SAMPLE_67 = 'ljvblfz__ESXi'


def release(version, patch=0):
    """The release of VERSIONS[version], or (patch > 0) its patch-th patch, as a newer patch
    of the same release looks: the build number + 1000 * patch, the patch level + 5 * patch
    (7.0.2-0.0.17630552 -> 7.0.2-0.5.17631552), the native VIBs' suffix and the profile name
    following."""
    v = dict(VERSIONS[version], patch=patch)
    if not patch:
        return v
    rel, _, rest = v['base_version'].partition('-')
    update, level, build = rest.split('.')
    level, build = int(level) + 5 * patch, int(build) + 1000 * patch
    v['base_version'] = '%s-%s.%d.%d' % (rel, update, level, build)
    head = v['vib_suffix'].split('.')[:2]
    v['vib_suffix'] = '%s.%s.%d.%d' % (head[0], head[1], level, build)
    v['profile'] = 'ESXi-%s-%d-standard' % (rel, build)
    if v['build']:
        v['build'] = v['base_version']
    return v


# Debian's syslinux modules the BIOS loader payloads are made of (esxi-formats.md 5.3; a real
# esx-base carries ISOLINUX 3.86, which needs none of the .c32 libraries): payload name ->
# (environment variable overriding the file, file name in the syslinux module folders).
SYSLINUX_FILES = {
    'isolinux.bin': ('ISOLINUX_BIN', 'isolinux.bin'),
    'ldlinux.c32': ('LDLINUX_C32', 'ldlinux.c32'),
    'libcom32.c32': ('LIBCOM32_C32', 'libcom32.c32'),
    'libutil.c32': ('LIBUTIL_C32', 'libutil.c32'),
    'menu.c32': ('MENU_C32', 'menu.c32'),
    'mboot.c32': ('CAT_C32', 'cat.c32'),
}
SYSLINUX_DIRS = ['/usr/lib/ISOLINUX', '/usr/lib/syslinux/modules/bios', '/usr/share/syslinux']


def cat_keeps_going(data):
    """Debian 6.04's cat.c32 stops at the first file it cannot open.  ESXi's ISOLINUX.CFG runs
    `mboot.c32 -c boot.cfg`, so the stand-in for mboot.c32 must skip '-c' and print boot.cfg:
    the jump taken when fopen() fails is sent to the loop's next argument instead of to
    `return 1`.  The bytes are found by pattern (test %eax; jne ok; push (%edi) and, after
    the read loop, inc %ebp; add $4,%edi); a cat.c32 of another build is left unchanged."""
    failed = data.find(bytes.fromhex('85c0751cff37ff36'))
    if failed < 0:
        return data
    next_arg = data.find(bytes.fromhex('4583c704'), failed)
    jump_at = failed + 4
    offset = next_arg - (jump_at + 2)
    if next_arg < 0 or data.count(bytes.fromhex('85c0751cff37ff36')) != 1 or offset > 127:
        return data
    return data[:jump_at] + bytes([0xeb, offset]) + data[jump_at + 2:]

EM_X86_64 = 62                      # ELF e_machine of x86 ESXi kernel modules
EM_AARCH64 = 183                    # ... and of ESXi-Arm ones

# The driver VIBs.  'real' names the 6.7 descriptor in the samples; map/ids files are read from
# the samples when present, else the synthetic lines below are used.  'vmklinux' VIBs keep their
# 6.7 version on every image (a 6.7 driver carried into a 7.0 image: it will not load there).
DRIVERS = [
    {
        'name': 'ne1000', 'payload': 'ne1000', 'module': 'ne1000', 'vmklinux': False,
        'real': 'ne1000--965087551.xml', 'version': '0.8.3-4vmw',
        'summary': 'Networking Driver for Intel PRO/1000 Family Adapters',
        'maps': {'ne1000.map': [
            'regtype=native,bus=pci,id=808610d3..............,driver=ne1000',
            'regtype=native,bus=pci,id=808610d315ad07d0......,driver=ne1000',
            'regtype=native,bus=pci,id=808610f6..............,driver=ne1000']},
        'ids': ('ne1000.ids', '8086  Intel Corporation\n\t10d3  82574L Gigabit Network '
                'Connection\n'),
    },
    {
        'name': 'vmw-ahci', 'payload': 'vmw-ahci', 'module': 'vmw_ahci', 'vmklinux': False,
        'real': 'vmw-ahci-1172744425.xml', 'version': '1.2.0-6vmw',
        'summary': 'VMware Native AHCI Driver',
        'maps': {
            'vmw_ahci_acpi.map': ['regtype=native,bus=acpi,id=010601,driver=vmw_ahci'],
            'vmw_ahci_pci.map': [
                'regtype=native,bus=pci,id=................010601,driver=vmw_ahci',
                'regtype=native,bus=pci,id=80862922..............,driver=vmw_ahci']},
        'ids': ('vmw_ahci.ids', '8086  Intel Corporation\n\t2922  82801IR/IO/IH (ICH9R/DO/DH) '
                '6 port SATA Controller [AHCI mode]\n'),
    },
    {
        'name': 'nvme', 'payload': 'nvme', 'module': 'nvme', 'vmklinux': False,
        'real': 'nvme-1180339449.xml', 'version': '1.2.1.34-1vmw',
        'summary': 'Non-Volatile memory controller driver',
        'maps': {'nvme.map': [
            'regtype=native,bus=pci,id=................010802,driver=nvme',
            'regtype=native,bus=pci,id=144da820..............,driver=nvme']},
        'ids': ('nvme.ids', '144d  Samsung Electronics Co Ltd\n\ta820  NVMe SSD Controller\n'),
    },
    {
        'name': 'net-e1000', 'payload': 'net-e100', 'module': 'e1000', 'vmklinux': True,
        'real': 'net-e1000-1628841962.xml', 'version': '8.0.3.1-5vmw',
        'summary': 'e1000: net driver for VMware ESX',
        'maps': {'e1000.map': [
            'regtype=linux,bus=pci,id=8086:100e 0000:0000,driver=e1000,class=network',
            'regtype=linux,bus=pci,id=8086:100f 0000:0000,driver=e1000,class=network']},
        'ids': ('e1000.ids', '8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet '
                'Controller\n'),
    },
    {
        'name': 'net-e1000e', 'payload': 'net-e100', 'module': 'e1000e', 'vmklinux': True,
        'real': 'net-e1000e-1401070203.xml', 'version': '3.2.2.1-2vmw',
        'summary': 'e1000e: net driver for VMware ESX',
        'maps': {'e1000e.map': [
            'regtype=linux,bus=pci,id=8086:10d3 0000:0000,driver=e1000e,class=network',
            'regtype=linux,bus=pci,id=8086:10f6 0000:0000,driver=e1000e,class=network']},
        'ids': ('e1000e.ids', '8086  Intel Corporation\n\t10d3  82574L Gigabit Network '
                'Connection\n'),
    },
    {
        'name': 'atlantic', 'payload': 'atlantic', 'module': 'atlantic', 'vmklinux': False,
        'real': None, 'version': '1.0.3.0-10vmw',
        'summary': 'Aquantia AQtion Ethernet driver (synthetic test VIB)',
        'maps': {'atlantic.map': [
            'regtype=native,bus=pci,id=1d6a07b1..............,driver=atlantic',
            'regtype=native,bus=pci,id=1d6ad107..............,driver=atlantic']},
        'ids': ('atlantic.ids', '1d6a  Aquantia Corp.\n\t07b1  AQC107 NBase-T/IEEE 802.3bz '
                'Ethernet Controller [AQtion]\n\td107  AQC107 NBase-T/IEEE 802.3bz Ethernet '
                'Controller [AQtion]\n'),
    },
]

# --foreign-driver: an ESXi-Arm driver built into an x86 image (as no edit lets it in), after
# the real rp1gem VIB (Soulveig/native-esxi-driver-bcm54213-rpi5): an AArch64 module and a
# native map; its map claims the test host's Realtek NIC, which hcl must still call undriven.
FOREIGN_DRIVER = {
    'name': 'rp1gem', 'payload': 'rp1gem', 'module': 'rp1gem_mmio', 'vmklinux': False,
    'real': None, 'version': '0.0.214-1', 'machine': EM_AARCH64, 'vendor': 'RP1GEM',
    'acceptance': 'community', 'depends': ['vmkapi_3_0_0_0'],
    'summary': 'Native RP1 Cadence GEM driver for Raspberry Pi 5',
    'maps': {'rp1gem.map': ['regtype=native,bus=pci,id=10ec8168..............,driver=rp1gem']},
    'ids': ('rp1gem.ids', '10ec  Realtek Semiconductor Co., Ltd.\n'),
}

# The test host, as the device lines of `lspci -nv` (the NVMe and AHCI lines show prog-if).
HOST_LSPCI = """\
00:00.0 0600: 8086:29c0
00:01.0 0300: 1234:1111 (rev 02)
00:02.0 0200: 8086:100e (rev 03)
00:03.0 0200: 8086:10d3
00:04.0 0108: 1b36:0010 (rev 02) (prog-if 02)
00:05.0 0200: 10ec:8168 (rev 15)
00:1f.2 0106: 8086:2922 (rev 02) (prog-if 01)
"""

# What esximg hcl should say about each device of HOST_LSPCI (for --manifest).  'driver' is the
# driver that binds, 'claims' every driver whose map lists the device; a vmklinux-only device is
# driven on 6.7 and "will not load" on 7.0 and later.
HOST_EXPECT = [
    {'slot': '00:00.0', 'id': '8086:29c0', 'class': '0600', 'kind': 'other', 'claims': []},
    {'slot': '00:01.0', 'id': '1234:1111', 'class': '0300', 'kind': 'other', 'claims': []},
    {'slot': '00:02.0', 'id': '8086:100e', 'class': '0200', 'kind': 'network',
     'claims': [('e1000', 'vmklinux')]},
    {'slot': '00:03.0', 'id': '8086:10d3', 'class': '0200', 'kind': 'network',
     'claims': [('ne1000', 'native'), ('e1000e', 'vmklinux')]},
    {'slot': '00:04.0', 'id': '1b36:0010', 'class': '0108', 'progif': 2, 'kind': 'storage',
     'claims': [('nvme', 'native')]},
    {'slot': '00:05.0', 'id': '10ec:8168', 'class': '0200', 'kind': 'network', 'claims': []},
    {'slot': '00:1f.2', 'id': '8086:2922', 'class': '0106', 'progif': 1, 'kind': 'storage',
     'claims': [('vmw_ahci', 'native')]},
]

# --break KIND: inconsistent images for the checker's tests.  The VIB they break is a driver
# VIB that is always synthetic; module-size breaks the tools module (not a driver payload).
BREAK_VIB = 'atlantic'
BREAK_SIZE_VIB = 'tools-light'
BREAK_SIZE_EXTRA = 2048
BREAKS = {
    'missing-module': 'delete the BOOT.CFG module of the %s VIB from the ISO' % BREAK_VIB,
    'bootcfg-differ': 'EFI/BOOT/BOOT.CFG gets another kernelopt than /BOOT.CFG',
    'module-bytes': 'change bytes in the middle of the %s module (same size, other sha-256)'
                    % BREAK_SIZE_VIB,
    'module-size': 'append %d zero bytes to the %s module (its descriptor keeps the old size)'
                   % (BREAK_SIZE_EXTRA, BREAK_SIZE_VIB),
    'no-vib-xml': 'leave the vibs/ descriptor of %s out of IMGDB.TGZ' % BREAK_VIB,
    'no-profile-entry': 'leave %s out of the image profile (its descriptor stays)' % BREAK_VIB,
    'no-sig-orig': 'leave the vibs/ .xml.orig of %s out of IMGDB.TGZ (its .xml.sig stays)'
                   % BREAK_VIB,
    'sig-other-bytes': 'give %s a vibs/ .xml.orig with a byte more than its .xml.sig signs'
                       % BREAK_VIB,
}
# the test vendor add-on of a 7.0+ depot: the components it holds and those it removes
ADDON_NAME = 'ESXIMGTEST-addon'
ADDON_COMPONENTS = ['atlantic']
ADDON_REMOVED = ['nvme']
MAP_CLASSES = {'oem': 'oem', 'ihv': 'ihv', 'default': 'native', 'driver': 'vmklinux',
               'fallback': 'fallback'}


# ---- small helpers ------------------------------------------------------------------------

def die(msg):
    sys.stderr.write('mkesxiso: %s\n' % msg)
    sys.exit(1)


def gz(data, level=9):
    """One gzip member: mtime 0, no name, OS 255, as Python's gzip module writes VMware's."""
    return gzip.compress(data, compresslevel=level, mtime=0)


def py2_str_hash(s):
    """Python 2's 32-bit str hash (esxi-formats.md section 3.2)."""
    if not s:
        return 0
    x = (ord(s[0]) << 7) & 0xffffffff
    for c in s:
        x = ((1000003 * x) ^ ord(c)) & 0xffffffff
    x ^= len(s)
    if x >= 1 << 31:
        x -= 1 << 32
    return -2 if x == -1 else x


def py2_tuple_hash(items):
    """Python 2's 32-bit tuple hash of strings (esxi-formats.md section 3.3)."""
    x = 0x345678
    mult = 1000003
    n = len(items)
    for item in items:
        n -= 1
        y = py2_str_hash(item) & 0xffffffff
        x = ((x ^ y) * mult) & 0xffffffff
        mult = (mult + 82520 + n + n) & 0xffffffff
    x = (x + 97531) & 0xffffffff
    if x >= 1 << 31:
        x -= 1 << 32
    return -2 if x == -1 else x


def stable_i64(text):
    """A reproducible signed 64-bit number standing in for 7.0's random vibs/ suffix."""
    v = struct.unpack('>q', hashlib.sha256(text.encode()).digest()[:8])[0]
    return v


def fake_bytes(label, n):
    """n deterministic pseudo-random bytes (module bodies)."""
    return random.Random(label).randbytes(n)


def elf_header(machine):
    """A 64-byte ELF64 little-endian header of a relocatable file (a kernel module)."""
    ident = b'\x7fELF\x02\x01\x01' + bytes(9)
    return ident + struct.pack('<HHIQQQIHHHHHH', 1, machine, 1, 0, 0, 0, 0, 64, 0, 0, 64, 0, 0)


def iso_time(epoch):
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%S.000000+00:00')


def xml_escape(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


# ---- vmtar writer (esxi-formats.md sections 1.2 - 1.5) -----------------------------------------

def _octal(value, width):
    text = b'%0*o' % (width - 1, value)
    if len(text) != width - 1:
        raise ValueError('value %d does not fit %d octal digits' % (value, width - 1))
    return text + b'\0'


def vmtar_header(name, mode, size, mtime, typeflag, offset):
    raw = name.encode()
    if len(raw) > 99:
        raise ValueError('vmtar name too long: %s' % name)
    h = bytearray(512)
    h[0:len(raw)] = raw
    h[100:108] = _octal(mode, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = _octal(size, 12)
    h[136:148] = _octal(mtime, 12)
    h[148:156] = b' ' * 8
    h[156:157] = typeflag
    h[257:263] = b'visor '
    h[263:265] = b' \0'
    h[265:269] = b'root'
    h[297:301] = b'root'
    struct.pack_into('<I', h, 496, offset)
    total = sum(b - 256 if b >= 128 else b for b in h)   # VMware sums signed chars
    if total < 0:
        raise ValueError('negative header sum')
    h[148:156] = b'%06o\0 ' % total
    return bytes(h)


def vmtar_entries(files):
    """files: {path: (bytes, mode, typeflag)} -> sorted entry list with parent directories
    first (a parent is a prefix of its children, so a bytewise sort puts it before them)."""
    entries = {}
    for path, (data, mode, typeflag) in files.items():
        parts = path.split('/')
        for i in range(1, len(parts)):
            entries['/'.join(parts[:i]) + '/'] = (None, 0o755, b'5')
        entries[path] = (data, mode, typeflag)
    return [(p,) + entries[p] for p in sorted(entries)]


def vmtar_layout(entries):
    """Offsets: data_start = align(n*512 + 512), each non-empty file aligned after it."""
    def align(v):
        return (v + VMTAR_ALIGN - 1) // VMTAR_ALIGN * VMTAR_ALIGN
    pos = align(len(entries) * 512 + 512)
    offsets = []
    for _path, data, _mode, _type in entries:
        size = 0 if data is None else (data if isinstance(data, int) else len(data))
        if size == 0:
            offsets.append(0)
            continue
        pos = align(pos)
        offsets.append(pos)
        pos += size
    return offsets


def vmtar_build(files, mtime):
    entries = vmtar_entries(files)
    offsets = vmtar_layout(entries)
    out = bytearray()
    for (path, data, mode, typeflag), off in zip(entries, offsets):
        size = 0 if data is None else len(data)
        out += vmtar_header(path, mode, size, mtime, typeflag, off)
    out += bytes(512)
    for (_path, data, _mode, _type), off in zip(entries, offsets):
        if data:
            out += bytes(off - len(out))
            out += data
    return bytes(out)


# ---- GNU tar (tgz payloads, IMGDB.TGZ) -------------------------------------------------------

def gnu_tar(files, mtime):
    """files: {path: bytes}; directories implied and written first, owner root, GNU format."""
    names = {}
    for path, data in files.items():
        parts = path.split('/')
        for i in range(1, len(parts)):
            names['/'.join(parts[:i])] = None
        names[path] = data
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(names):
            data = names[path]
            info = tarfile.TarInfo(path)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = 'root'
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# ---- payloads and descriptors -------------------------------------------------------------

MODULE_TYPES = ('vgz', 'tgz', 'boot', 'installer_vgz')


def loader_iso_path(name, ptype):
    """Where esxi-formats.md section 5.3 puts a payload that is not a boot module: the loaders
    at the root (boot_com32_bios, boot_iso_bios, eltorito_image_efi), the UEFI loaders in
    /EFI/BOOT, the upgrade files in /UPGRADE, the text files at the root, each under its own
    name upper-cased (README -> /README, as esximg build places it; the names on VMware's own
    ISOs are [U])."""
    upper = name.upper()
    if ptype == 'boot_loader_efi':
        return '/EFI/BOOT/' + upper
    if ptype == 'upgrade':
        return '/UPGRADE/' + upper
    return '/' + upper


class Payload:
    def __init__(self, name, ptype, data=None, vfat=None, boot_order=None, path=None):
        self.name = name
        self.type = ptype
        self.data = data              # the stored (gzip'd) bytes, or None when streamed to path
        self.vfat = vfat              # explicit vfat-name (jumpstrt.gz)
        self.boot_order = boot_order
        self.path = path              # for the pad payload: the file already written
        self.size = 0
        self.sha256 = self.sha256_gunzip = self.sha1_gunzip = ''
        self.file = None              # the module file name, lower case (set by vfat naming)
        if data is not None:
            self.size = len(data)
            self.sha256 = hashlib.sha256(data).hexdigest()
            if self.is_module:
                plain = gzip.decompress(data)
                self.sha256_gunzip = hashlib.sha256(plain).hexdigest()
                self.sha1_gunzip = hashlib.sha1(plain).hexdigest()

    @property
    def is_module(self):
        """A boot module (listed in BOOT.CFG, gzip'd); the other types are loader, upgrade
        and text files the ISO keeps under their own names."""
        return self.type in MODULE_TYPES

    @property
    def iso_path(self):
        if self.is_module:
            return '/' + self.file.upper()
        return loader_iso_path(self.name, self.type)

    def xml(self):
        attrs = 'name="%s" type="%s"' % (self.name, self.type)
        if self.boot_order is not None:
            attrs += ' boot-order="%d"' % self.boot_order
        if self.vfat:
            attrs += ' vfat-name="%s"' % self.vfat
        attrs += ' size="%d"' % self.size
        if not self.is_module:
            # as the real esx-base descriptors: a loader payload has its sha-256 only
            return ('<payload %s><checksum checksum-type="sha-256">%s</checksum></payload>'
                    % (attrs, self.sha256))
        return ('<payload %s><checksum checksum-type="sha-256" verify-process="gunzip">%s'
                '</checksum><checksum checksum-type="sha-256">%s</checksum><checksum '
                'checksum-type="sha-1" verify-process="gunzip">%s</checksum></payload>'
                % (attrs, self.sha256_gunzip, self.sha256, self.sha1_gunzip))


class Vib:
    def __init__(self, vendor, vtype, name, version, payloads, descriptor=None, summary='',
                 files=(), acceptance='certified', tags=(), provides=(), depends=()):
        self.vendor = vendor
        self.type = vtype
        self.name = name
        self.version = version
        self.payloads = payloads
        self.real = descriptor        # a real descriptor text to keep, payloads replaced
        self.summary = summary
        self.files = list(files)
        self.acceptance = acceptance
        self.tags = list(tags)
        self.provides = list(provides)    # (name, version or None)
        self.depends = list(depends)      # names

    @property
    def id(self):
        return '%s_%s_%s_%s' % (self.vendor, self.type, self.name, self.version)

    def descriptor(self, epoch):
        payloads = '<payloads>%s</payloads>' % ''.join(p.xml() for p in self.payloads)
        if self.real is not None:
            text, count = re.subn(r'<payloads>.*</payloads>', lambda _m: payloads, self.real,
                                  flags=re.S)
            if count != 1:
                die('descriptor of %s has no <payloads>' % self.name)
            return text
        tags = ''.join('<tag>%s</tag>' % xml_escape(t) for t in self.tags)
        files = ''.join('<file>%s</file>' % xml_escape(f) for f in self.files)
        provides = '<provides/>'
        if self.provides:
            provides = '<provides>%s</provides>' % ''.join(
                '<provide name="%s"%s/>' % (n, '' if v is None else ' version="%s"' % v)
                for n, v in self.provides)
        depends = '<depends/>'
        if self.depends:
            depends = '<depends>%s</depends>' % ''.join(
                '<constraint name="%s"/>' % n for n in self.depends)
        return ('<vib version="5.0"><type>%s</type><name>%s</name><version>%s</version>'
                '<vendor>%s</vendor><summary>%s</summary><description>%s</description>'
                '<release-date>%s</release-date><urls/><relationships>%s<conflicts/>'
                '<replaces/>%s<compatibleWith/></relationships><software-tags>%s'
                '</software-tags><system-requires><maintenance-mode>true</maintenance-mode>'
                '</system-requires><file-list>%s</file-list><acceptance-level>%s'
                '</acceptance-level><live-install-allowed>false</live-install-allowed>'
                '<live-remove-allowed>false</live-remove-allowed><cimom-restart>false'
                '</cimom-restart><stateless-ready>true</stateless-ready><overlay>false</overlay>'
                '%s</vib>'
                % (self.type, self.name, self.version, self.vendor, xml_escape(self.summary),
                   xml_escape(self.summary), iso_time(epoch), depends, provides, tags, files,
                   self.acceptance, payloads))


def assign_vfat_names(vibs):
    """esximage GenerateVFATNames: sorted vib-id order, shared counter per short name."""
    used = {}
    for vib in sorted(vibs, key=lambda v: v.id):
        for p in vib.payloads:
            if p.vfat:
                p.file = p.vfat
                continue
            short = p.name[:8].lower().replace('-', '_')
            n = used.get(short, 0)
            used[short] = n + 1
            p.file = '%s.%s%02x' % (short, p.type[0], n)


def boot_order(vibs):
    """kernel + modules per esxi-formats.md section 4.4."""
    boot = []
    rest = []
    for vib in sorted(vibs, key=lambda v: v.id):
        for p in vib.payloads:
            if p.type == 'boot':
                boot.append(p)
            elif p.type in ('vgz', 'tgz', 'installer_vgz'):
                rest.append(p)
    boot.sort(key=lambda p: p.boot_order)
    front = [p for p in rest if p.boot_order == 100]
    others = [p for p in rest if p.boot_order != 100]
    ordered = []
    for p in front:
        ordered.insert(0, p)
    return boot[0], boot[1:] + ordered + others


# ---- the image ----------------------------------------------------------------------------

class Builder:
    def __init__(self, args):
        self.args = args
        self.ver = release(args.version, args.patch)
        self.epoch = int(os.environ.get('SOURCE_DATE_EPOCH', DEFAULT_EPOCH))
        self.samples = args.samples
        self.vibs = []
        self.depot_info = None

    # -- sample access
    def sample(self, rel):
        if not self.samples:
            return None
        path = os.path.join(self.samples, SAMPLE_67, rel)
        if not os.path.isfile(path):
            return None
        with open(path, 'rb') as f:
            return f.read()

    def driver_version(self, drv):
        if drv.get('machine'):
            return drv['version']
        if drv['vmklinux']:
            return '%s.%s' % (drv['version'], VERSIONS['6.7']['vib_suffix'])
        return '%s.%s' % (drv['version'], self.ver['vib_suffix'])

    def driver_files(self, drv):
        mapdir = 'driver' if drv['vmklinux'] else 'default'
        files = {}
        for mapname, lines in sorted(drv['maps'].items()):
            rel = 'etc/vmware/%s.map.d/%s' % (mapdir, mapname)
            data = self.sample(rel)
            files[rel] = (data if data is not None else ('\n'.join(lines) + '\n').encode(),
                          0o644, b'0')
        idsname, idstext = drv['ids']
        rel = 'usr/share/hwdata/%s.pciids.d/%s' % (mapdir, idsname)
        data = self.sample(rel)
        files[rel] = (data if data is not None else idstext.encode(), 0o644, b'0')
        body = elf_header(drv.get('machine', EM_X86_64)) + fake_bytes('vmkmod/' + drv['module'],
                                                                      6000)
        files['usr/lib/vmware/vmkmod/' + drv['module']] = (body, 0o644, b'7')
        return files

    def driver_vib(self, drv):
        version = self.driver_version(drv)
        files = self.driver_files(drv)
        module = gz(vmtar_build(files, self.epoch))
        payload = Payload(drv['payload'], 'vgz', module)
        real = None
        if drv['real']:
            raw = self.sample('var/db/esximg/vibs/' + drv['real'])
            if raw is not None:
                real = raw.decode('utf-8')
                if not drv['vmklinux']:
                    real = real.replace(VERSIONS['6.7']['vib_suffix'], self.ver['vib_suffix'])
        tags = ['driver', 'module']
        vib = Vib(drv.get('vendor', 'VMW'), 'bootbank', drv['name'], version, [payload],
                  descriptor=real, summary=drv['summary'], files=sorted(files), tags=tags,
                  acceptance=drv.get('acceptance', 'certified'),
                  depends=drv.get('depends', ()))
        vib.driver_files = files
        return vib

    def patch_tag(self):
        """'' for the release, '.patchN' for its N-th patch: salts the stub bytes."""
        return '.patch%d' % self.ver['patch'] if self.ver['patch'] else ''

    def syslinux_file(self, payload_name):
        env, name = SYSLINUX_FILES[payload_name]
        with open(self.find_file(env, [os.path.join(d, name) for d in SYSLINUX_DIRS]),
                  'rb') as f:
            data = f.read()
        return cat_keeps_going(data) if payload_name == 'mboot.c32' else data

    def loader_payloads(self, work):
        """esx-base's non-module payloads, by the types and names of the real 6.7 and 7.0
        esx-base descriptors (esxi-formats.md 2.3, 5.3), in their name order as there.  The
        BIOS loaders are Debian's: isolinux.bin as shipped (the ISO writer patches its bytes
        8-63), the .c32 libraries Debian's 6.04 menu.c32 needs, and as mboot.c32 a cat.c32
        that prints BOOT.CFG when run as `mboot.c32 -c boot.cfg`; safeboot.c32 is a stub.
        The UEFI loader is the GRUB image that prints BOOT.CFG (efi_loader)."""
        tag = self.patch_tag()
        version = self.ver['base_version']
        efi = self.efi_loader(work)
        loaders = {
            'BOOTx64.EFI': ('boot_loader_efi', efi),
            'README': ('text', ('esximg test image %s: not VMware ESXi, no VMware code\n'
                                % version).encode()),
            'efiboot.img': ('eltorito_image_efi', self.efiboot_img(work, efi)),
            'metadata.xml': ('upgrade', ('<metadata><release>%s</release></metadata>\n'
                                         % self.ver['esxi_release']).encode()
                             if not tag else ('<metadata><release>%s</release><version>%s'
                                              '</version></metadata>\n'
                                              % (self.ver['esxi_release'], version)).encode()),
            'precheck.py': ('upgrade', ('#!/usr/bin/python\n# esximg test stand-in for the '
                                        'upgrade precheck of %s\nimport sys\nsys.exit(0)\n'
                                        % version).encode()),
            'safeboot.c32': ('boot_com32_bios',
                             b'esximg test stub for mboot.c32 (not a loader)\n'),
        }
        for name in SYSLINUX_FILES:
            ptype = 'boot_iso_bios' if name == 'isolinux.bin' else 'boot_com32_bios'
            loaders[name] = (ptype, self.syslinux_file(name))
        return [Payload(name, ptype, data) for name, (ptype, data) in sorted(loaders.items())]

    def base_vib(self, loaders):
        e = self.epoch
        tag = self.patch_tag()
        conf = b'# esximg test image, not VMware code\n'
        if tag:
            conf += ('# %s\n' % self.ver['base_version']).encode()
        s_files = {
            'etc/vmware/esximg-test.conf': (conf, 0o644, b'0'),
            # a map without entries: esx-base names a map in its file-list, so its payloads
            # (boot ones too) are looked at by the driver listing, as on a real image
            'etc/vmware/default.map.d/esximg-base.map': (b'# esximg test image: no entries\n',
                                                        0o644, b'0'),
            'bin/esximg-stub': (b'#!/bin/sh\necho esximg test stub\n', 0o755, b'0'),
            'usr/lib/vmware/esximg-test/' + 's.dat': (fake_bytes('s.v00', 9000), 0o644, b'0'),
        }
        sb_files = {
            'usr/lib/vmware/esximg-test/sb.dat': (fake_bytes('sb.v00', 5000), 0o644, b'0'),
        }
        payloads = [
            Payload('b', 'boot', gz(b'esximg test kernel stub\n' + fake_bytes('b.b00' + tag,
                                                                              3000)),
                    boot_order=10),
            Payload('jumpstrt', 'boot', gz(b''), vfat='jumpstrt.gz', boot_order=47),
            Payload('useropts', 'boot', gz(b''), vfat='useropts.gz', boot_order=48),
            Payload('k', 'boot', gz(b'esximg test k stub\n' + fake_bytes('k.b00' + tag, 2000)),
                    boot_order=50),
            Payload('s', 'vgz', gz(vmtar_build(s_files, e)), boot_order=100),
            Payload('sb', 'vgz', gz(vmtar_build(sb_files, e)), boot_order=100),
        ] + loaders
        files = sorted(set(s_files) | set(sb_files))
        return Vib('VMware', 'bootbank', 'esx-base', self.ver['base_version'], payloads,
                   summary='ESXi: The VMware ESXi Hypervisor (test stub)', files=files,
                   provides=self.base_provides())

    def base_provides(self):
        """What a real esx-base of this release provides for driver VIBs to depend on: the
        native driver APIs vmkapi_2_2_0_0 up to the release's own (6.7: 2.5, 7.0 U2: 2.8,
        8.0: 2.10, as the VIBs built for each depend on), the release's vmkapi_incompat, and
        esx-version = its version (6.7's list is in the samples' esx-base descriptor).  The
        vmklinux API (com.vmware.driverAPI-9.2.x.0) comes from the shim-vmklinux VIBs of a
        real 6.7 image, which the test images do not have.  7.0 and later leave out
        vmkapi_2_2_0_0: a real 7.0.0 host refused net55-r8168 because 'the requirement cannot
        be satisfied within the ImageProfile' (the DependencyError in the samples,
        esxi-host-outputs/extras/esxcli-software-vib-update-dependencyerror/)."""
        top = self.ver['vmkapi']
        lowest = 2 if top < 8 else 3
        out = [('vmkapi_2_%d_0_0' % n, None) for n in range(top, lowest - 1, -1)]
        out.append(('vmkapi_incompat_2_%d_0_0' % top, None))
        out.append(('esx-version', self.ver['base_version']))
        return out

    def tools_vib(self):
        files = {
            'vmtoolsRepo/vmtools/isoimages_manifest.txt': b'linux.iso\nwindows.iso\n',
            'vmtoolsRepo/vmtools/linux.iso': fake_bytes('tools/linux', 4096),
        }
        tgz = gz(gnu_tar(files, self.epoch))
        return Vib('VMware', 'locker', 'tools-light', '11.0.0.7548558-8169922',
                   [Payload('tools', 'tgz', tgz)], summary='VMware Tools (test stub)',
                   files=sorted(files))

    def pad_vib(self, stage):
        """A large PAD.V00 streamed to disk: one gzip member (stored blocks) of a vmtar holding
        one file of pad_mib MiB, made of a 1 MiB seeded block repeated (deflate's 32 KiB
        window cannot compress it)."""
        size = self.args.pad_mib * PAD_CHUNK
        block = fake_bytes('pad', PAD_CHUNK)
        name = 'opt/esximg-test/pad.bin'
        files = {name: (size, 0o644, b'0')}
        entries = vmtar_entries(files)
        offsets = vmtar_layout(entries)
        head = bytearray()
        for (path, data, mode, typeflag), off in zip(entries, offsets):
            head += vmtar_header(path, mode, 0 if data is None else data, self.epoch,
                                 typeflag, off)
        head += bytes(512)
        head += bytes(offsets[-1] - len(head))
        path = os.path.join(stage, 'PAD.V00')
        plain256 = hashlib.sha256()
        plain1 = hashlib.sha1()

        class Tee:
            def __init__(self, f):
                self.f = f
                self.h = hashlib.sha256()
                self.n = 0

            def write(self, b):
                self.h.update(b)
                self.n += len(b)
                return self.f.write(b)

            def flush(self):
                self.f.flush()

        with open(path, 'wb') as raw:
            tee = Tee(raw)
            with gzip.GzipFile(filename='', mode='wb', fileobj=tee, compresslevel=0,
                               mtime=0) as g:
                for chunk in [bytes(head)] + [block] * self.args.pad_mib:
                    g.write(chunk)
                    plain256.update(chunk)
                    plain1.update(chunk)
        p = Payload('pad', 'vgz', path=path)
        p.size = tee.n
        p.sha256 = tee.h.hexdigest()
        p.sha256_gunzip = plain256.hexdigest()
        p.sha1_gunzip = plain1.hexdigest()
        return Vib('ESXIMGTEST', 'bootbank', 'esximg-pad', '1.0-1', [p],
                   summary='Large dummy payload for benchmarks', files=[name],
                   acceptance='partner')

    # -- image database
    def vib_xml_name(self, vib):
        if self.args.version == '6.7':
            return '%s-%d.xml' % (vib.name, py2_str_hash(vib.id))
        return '%s-%d.xml' % (vib.name, stable_i64(vib.id))

    def profile_xml(self, module_files=True):
        """The image profile; module_files: with each payload's local file (the image
        database's copy), else the vib-ids only (a depot's)."""
        name = self.ver['profile']
        vibs = ''
        for vib in self.vibs:
            if self.args.break_kind == 'no-profile-entry' and vib.name == BREAK_VIB:
                continue
            if self.args.empty_profile:
                continue
            if not module_files:
                vibs += '<vib><vib-id>%s</vib-id></vib>' % vib.id
                continue
            pl = ''.join('<payload payload-name="%s">%s</payload>' % (p.name, p.file)
                         for p in vib.payloads)
            vibs += '<vib><vib-id>%s</vib-id><payloads>%s</payloads></vib>' % (vib.id, pl)
        t = iso_time(self.epoch)
        return ('<imageprofile><name>%s</name><creator>VMware, Inc.</creator>'
                '<profileID>%s</profileID><creationtime>%s</creationtime>'
                '<modifiedtime>%s</modifiedtime><serialno>%d</serialno><description>'
                'Test image profile built by mkesxiso.py for esximg; holds no VMware code.'
                '</description><readonly>true</readonly><viblist>%s</viblist>'
                '<acceptancelevel>partner</acceptancelevel></imageprofile>'
                % (name, hashlib.md5(name.encode()).hexdigest(), t, t,
                   0 if self.args.empty_profile else len(self.vibs), vibs))

    def component_of(self, vib):
        """The component a VIB is in on 7.0+ (name, version, ui name, ui version): esx-base
        in "ESXi" at its version, as on real images; every other VIB in one of its own name."""
        if vib.name == 'esx-base':
            build = vib.version.rsplit('.', 1)[-1]
            return ('ESXi', vib.version, 'ESXi', '%s - %s' % (self.ver['esxi_release'], build))
        return (vib.name, vib.version, vib.summary, vib.version.split('-')[0])

    def components(self, vibs):
        """The bulletins of the image database and the depot: on 7.0+ one component per VIB
        (esxi-formats.md 6.2); on 6.7 one bulletin holding every VIB, as a 6.x patch has."""
        if not self.ver['bulletins']:
            build = self.ver['base_version'].rsplit('.', 1)[-1]
            return [esxdepot.Component('ESXi%s-%s' % (self.ver['esxi_release'].replace('.', ''),
                                                       build), '', '', '', 'VMware',
                                       'ESXi %s test image' % self.ver['esxi_release'],
                                       list(vibs), component=False)]
        out = []
        for vib in vibs:
            name, version, ui_name, ui_version = self.component_of(vib)
            out.append(esxdepot.Component(name, version, ui_name, ui_version, 'VMware',
                                          vib.summary, [vib]))
        return out

    def release_date(self):
        return iso_time(self.epoch)

    def sign(self, data):
        """A detached PKCS#7 signature (PEM, as sig.pkcs7) by the test signer in tests/gen:
        no signing time, so the same bytes give the same signature."""
        here = os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run([self.tool('openssl'), 'smime', '-sign', '-binary', '-noattr',
                            '-signer', os.path.join(here, 'testsign.pem'),
                            '-inkey', os.path.join(here, 'testsign.key'), '-outform', 'PEM'],
                           input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            die('openssl could not sign: ' + r.stderr.decode(errors='replace'))
        return r.stdout

    def imgdb(self):
        db = 'var/db/esximg/'
        files = {}
        for vib in self.vibs:
            if self.args.break_kind == 'no-vib-xml' and vib.name == BREAK_VIB:
                continue
            if self.args.empty_profile:
                continue
            xml = vib.descriptor(self.epoch).encode()
            files[db + 'vibs/' + self.vib_xml_name(vib)] = xml
            if vib.acceptance != 'community' and not self.args.unsigned:
                # as a host keeps a signed VIB: the descriptor as signed, and sig.pkcs7
                files[db + 'vibs/' + self.vib_xml_name(vib) + '.sig'] = self.sign(xml)
                broken = vib.name == BREAK_VIB and self.args.break_kind
                if broken == 'sig-other-bytes':
                    xml += b'\n'
                if broken != 'no-sig-orig':
                    files[db + 'vibs/' + self.vib_xml_name(vib) + '.orig'] = xml
            if self.ver['bulletins']:
                comp = self.components([vib])[0]
                files[db + 'bulletins/%s.xml' % comp.id] = comp.bulletin_xml(
                    self.release_date(), self.ver['esxi_release']).encode()
        name = self.ver['profile']
        pname = urllib.parse.quote(name, safe='')[:50] + str(py2_tuple_hash(
            (name, 'VMware, Inc.')))
        files[db + 'profiles/' + pname] = self.profile_xml().encode()
        return gz(gnu_tar(files, self.epoch))

    # -- the depot
    def depot_vib(self, vib):
        """The .vib of a VIB: its descriptor as in IMGDB.TGZ, signed as the image's .sig files
        are (empty for community VIBs and with --unsigned), the payloads as on the ISO."""
        xml = vib.descriptor(self.epoch).encode()
        signed = vib.acceptance != 'community' and not self.args.unsigned
        return esxdepot.DepotVib(vib, xml, self.sign(xml) if signed else b'')

    def base_image(self):
        if not self.ver['bulletins']:
            return None
        version = self.ver['base_version']
        build = version.rsplit('.', 1)[-1]
        return {
            'releaseID': 'ESXi_' + version, 'releaseType': 'baseImage',
            'vendor': 'VMware, Inc.',
            'summary': 'ESXi %s test base image' % self.ver['esxi_release'],
            'description': 'Base image of the esximg test depot; holds no VMware code.',
            'docURL': '', 'acceptanceLevel': 'partner',
            'releaseDate': esxdepot.iso_date(self.epoch, micro=False), 'schemaVersion': '1.0',
            'versionSpec': {'version': version,
                            'uiString': '%s - %s' % (self.ver['esxi_release'], build)},
            'components': {c.name: c.version for c in self.components(self.vibs)},
            'quickPatchCompatibleVersions': [],
        }

    def addon(self):
        """A test vendor add-on: one driver component (atlantic) and one removed (nvme)."""
        if not self.ver['bulletins']:
            return None
        comps = {c.name: c.version for c in self.components(self.vibs)}
        version = '%s-1' % self.ver['esxi_release']
        return {
            'releaseID': '%s_%s' % (ADDON_NAME, version), 'releaseType': 'addon',
            'nameSpec': {'name': ADDON_NAME, 'uiString': 'esximg test vendor add-on'},
            'versionSpec': {'version': version, 'uiString': version},
            'vendor': 'esximg test vendor', 'summary': 'esximg test vendor add-on',
            'description': 'Adds the atlantic driver and removes nvme (a test add-on).',
            'docURL': '', 'acceptanceLevel': 'partner',
            'releaseDate': esxdepot.iso_date(self.epoch, micro=False), 'schemaVersion': '1.0',
            'components': {name: comps[name] for name in ADDON_COMPONENTS if name in comps},
            'removedComponents': [n for n in ADDON_REMOVED if n in comps],
            'supportedBaseImageVersions': [self.ver['esxi_release']],
        }

    def depot_profile_file(self):
        return '%s.xml' % self.ver['profile']

    def write_depot(self, out):
        """Writes the depot zip to out (through out.tmp) and keeps what the manifest says of
        it."""
        vibs = [self.depot_vib(v) for v in self.vibs]
        base, addon = self.base_image(), self.addon()
        comps = self.components(self.vibs)
        data = esxdepot.write_depot(
            vibs, comps, (self.depot_profile_file(), self.profile_xml(False).encode()), base,
            addon, self.ver['esxi_release'], self.epoch, self.vib_xml_name, self.release_date())
        with open(out + '.tmp', 'wb') as f:
            f.write(data)
        os.replace(out + '.tmp', out)
        self.depot_info = {
            'depot': out,
            'profile': self.ver['profile'],
            'profile_file': 'profiles/' + self.depot_profile_file(),
            'base_image': None if base is None else {'release_id': base['releaseID'],
                                                     'version': base['versionSpec']['version']},
            'addon': None if addon is None else {
                'release_id': addon['releaseID'], 'name': addon['nameSpec']['name'],
                'version': addon['versionSpec']['version'], 'components': addon['components'],
                'removed_components': addon['removedComponents']},
            'components': [{'id': c.id, 'name': c.name, 'version': c.version,
                            'is_component': c.component, 'vibs': [v.id for v in c.vibs]}
                           for c in comps],
            'vibs': [{'vib_id': v.vib.id, 'path': v.path, 'size': len(v.bytes),
                      'sha256': v.sha256, 'signed': bool(v.signature),
                      'metadata_file': 'vibs/' + self.vib_xml_name(v.vib),
                      'payloads': [{'name': p.name, 'type': p.type, 'size': p.size,
                                    'sha256': p.sha256, 'iso_path': p.iso_path}
                                   for p in v.vib.payloads]} for v in vibs],
        }

    # -- inconsistent images and the manifest
    def vib_named(self, name):
        return [v for v in self.vibs if v.name == name][0]

    def apply_break(self, stage, put):
        kind = self.args.break_kind
        if kind == 'missing-module':
            os.unlink(os.path.join(stage, self.vib_named(BREAK_VIB).payloads[0].file.upper()))
        elif kind == 'bootcfg-differ':
            cfg = self.cfg.replace(b'\nkernelopt=', b'\nkernelopt=esximgTestEdited ', 1)
            put('EFI/BOOT/BOOT.CFG', cfg)
        elif kind == 'module-size':
            path = os.path.join(stage, self.vib_named(BREAK_SIZE_VIB).payloads[0].file.upper())
            with open(path, 'ab') as f:
                f.write(bytes(BREAK_SIZE_EXTRA))
        elif kind == 'module-bytes':
            path = os.path.join(stage, self.vib_named(BREAK_SIZE_VIB).payloads[0].file.upper())
            with open(path, 'r+b') as f:
                f.seek(os.path.getsize(path) // 2)
                f.write(b'esximg-test-corruption')

    def manifest_drivers(self):
        """Every map entry of the driver VIBs as esximg ls --drivers should list it: map files
        in VIB order then path order, lines as stored (blank and '#' lines skipped)."""
        out = []
        for vib in self.vibs:
            if not getattr(vib, 'driver_files', None):
                continue
            for path in sorted(vib.driver_files):
                m = re.match(r'etc/vmware/([a-z]+)\.map\.d/', path)
                if not m:
                    continue
                text = vib.driver_files[path][0].decode()
                for n, line in enumerate(text.split('\n'), 1):
                    line = line.strip()
                    if not line or line.startswith('#'):
                        continue
                    fields = dict(f.split('=', 1) for f in line.split(','))
                    out.append({'driver': fields['driver'], 'map_class': MAP_CLASSES[m.group(1)],
                                'bus': fields['bus'], 'raw_id': fields['id'],
                                'vib_id': vib.id, 'module': '/' + vib.payloads[0].file.upper(),
                                'map': path, 'line': n})
        return out

    def with_vmklinux(self):
        """Real 7.0 and later images have no vmklinux driver: only --vmklinux puts the 6.7 ones
        in (where they never load)."""
        return self.args.version == '6.7' or self.args.vmklinux

    def manifest_host(self):
        major = int(self.args.version.split('.')[0])
        out = []
        for h in HOST_EXPECT:
            claims = [c for c in h['claims'] if c[1] != 'vmklinux' or self.with_vmklinux()]
            if self.args.foreign_driver and h['id'] == '10ec:8168':
                claims.append(('rp1gem', 'native'))
            h = dict(h, claims=claims)
            loads = [c for c in h['claims'] if (c[1] != 'vmklinux' or major < 7) and
                     c[0] != 'rp1gem']
            verdict = 'driven' if loads else 'will_not_load' if h['claims'] else 'no_driver'
            out.append({'slot': h['slot'], 'id': h['id'], 'class': h['class'],
                        'progif': h.get('progif'), 'kind': h['kind'], 'verdict': verdict,
                        'driver': loads[0][0] if loads else None,
                        'map_class': loads[0][1] if loads else None,
                        'claims': [list(c) for c in h['claims']]})
        return out

    def manifest(self, iso):
        v = self.ver
        version, _, rest = v['base_version'].partition('-')
        tail = ['/' + t for t in v['tail']]
        files = {}
        vibs = []
        for vib in self.vibs:
            payloads = []
            for p in vib.payloads:
                # a loader payload is no module: the ISO keeps it at iso_path (section 5.3)
                module = p.iso_path if p.is_module else None
                payloads.append({'name': p.name, 'type': p.type, 'size': p.size,
                                 'sha256': p.sha256, 'module': module,
                                 'iso_path': p.iso_path, 'profile_file': p.file,
                                 'boot_order': p.boot_order})
                if module:
                    files[module] = p.size
            vibs.append({'vib_id': vib.id, 'name': vib.name, 'version': vib.version,
                         'vendor': vib.vendor, 'type': vib.type, 'acceptance': vib.acceptance
                         if vib.real is None else re.search(
                             r'<acceptance-level>([^<]*)<', vib.real).group(1),
                         'xml_file': self.vib_xml_name(vib), 'payloads': payloads})
        brk = None
        if self.args.break_kind:
            target = (BREAK_SIZE_VIB if self.args.break_kind in ('module-size', 'module-bytes')
                      else BREAK_VIB)
            vib = self.vib_named(target)
            p = vib.payloads[0]
            brk = {'kind': self.args.break_kind, 'what': BREAKS[self.args.break_kind],
                   'vib_id': vib.id, 'xml_file': self.vib_xml_name(vib), 'payload': p.name,
                   'module': p.file, 'descriptor_size': p.size,
                   'module_size': p.size + (BREAK_SIZE_EXTRA
                                            if self.args.break_kind == 'module-size' else 0)}
        return {
            'iso': iso,
            'generator_version': self.args.version,
            'esxi_version': version,
            'build': rest.rsplit('.', 1)[-1],
            'profile': {'name': v['profile'], 'creator': 'VMware, Inc.', 'acceptance': 'partner'},
            'volume_id': v['profile'].upper()[:32],
            'kernel': '/' + self.kernel.file,
            'kernelopt': v['kernelopt'],
            'bootcfg_build': v['build'],
            'modules': ['/' + p.file for p in self.modules] + tail,
            'tail_modules': tail,
            'vibs': sorted(vibs, key=lambda x: x['vib_id']),
            'module_sizes': files,
            'drivers': self.manifest_drivers(),
            'host': self.manifest_host(),
            'break': brk,
            'patch': v['patch'],
            'depot': self.depot_info,
        }

    # -- configuration files
    def bootcfg(self, kernel, modules):
        v = self.ver
        names = ['/' + p.file for p in modules] + ['/' + t for t in v['tail']]
        return ('bootstate=0\ntitle=%s\ntimeout=5\nprefix=\nkernel=/%s\nkernelopt=%s\n'
                'modules=%s\nbuild=%s\nupdated=0\n'
                % (self.args.title, kernel.file, v['kernelopt'], ' --- '.join(names),
                   v['build'])).encode()

    # -- loaders
    def tool(self, name):
        path = shutil.which(name)
        if not path:
            die("'%s' is not installed" % name)
        return path

    def find_file(self, env, candidates):
        if os.environ.get(env):
            return os.environ[env]
        for c in candidates:
            if os.path.isfile(c):
                return c
        die('none of %s found (set %s)' % (', '.join(candidates), env))

    def efi_loader(self, work):
        with open(os.path.join(HERE, 'grub.cfg'), 'rb') as f:
            cfg = f.read()
        cfgpath = os.path.join(work, 'grub-embedded.cfg')
        with open(cfgpath, 'wb') as f:
            f.write(cfg)
        out = os.path.join(work, 'BOOTX64.EFI')
        # grub-mkimage rather than grub-mkstandalone: the latter embeds a memdisk tar whose
        # timestamps change on every run, which would make the ISO non-reproducible.
        subprocess.run([self.tool('grub-mkimage'), '-O', 'x86_64-efi', '-o', out,
                        '-c', cfgpath, '-p', '/EFI/BOOT',
                        'iso9660', 'fat', 'part_msdos', 'part_gpt', 'search',
                        'search_fs_file', 'cat', 'serial', 'terminal', 'echo', 'halt',
                        'reboot', 'normal', 'configfile', 'test',
                        # started over TFTP from a PXE folder, the embedded script sources
                        # esximg-test.cfg from beside the loader, where a test can put checks
                        # (GRUB's rescue parser has no `if`: elsewhere the file is not found)
                        'efinet', 'tftp', 'net', 'hashsum', 'gcry_sha256'],
                       check=True)
        with open(out, 'rb') as f:
            return f.read()

    def efiboot_img(self, work, efi):
        img = os.path.join(work, 'efiboot.img')
        src = os.path.join(work, 'BOOTX64.EFI')
        os.utime(src, (self.epoch, self.epoch))
        kib = max(1024, (len(efi) * 5 // 4 + 128 * 1024) // 1024)
        # FAT keeps local time: pin the zone so that the image does not depend on TZ
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(self.epoch), MTOOLS_SKIP_CHECK='1',
                   TZ='UTC')
        subprocess.run([self.tool('mkfs.vfat'), '-C', '-n', 'ESXIEFI', '--invariant', img,
                        str(kib)], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([self.tool('mmd'), '-i', img, '::/EFI', '::/EFI/BOOT'], check=True,
                       env=env)
        subprocess.run([self.tool('mcopy'), '-m', '-i', img, src, '::/EFI/BOOT/BOOTX64.EFI'],
                       check=True, env=env)
        with open(img, 'rb') as f:
            return f.read()

    # -- the whole thing
    def stage_files(self, stage, work):
        def put(rel, data):
            path = os.path.join(stage, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)

        loaders = self.loader_payloads(work)
        base = self.base_vib([] if self.args.no_loader_payloads else loaders)
        drivers = [d for d in DRIVERS if self.with_vmklinux() or not d['vmklinux']]
        drivers += [FOREIGN_DRIVER] if self.args.foreign_driver else []
        self.vibs = [base, self.tools_vib()] + [self.driver_vib(d) for d in drivers]
        if self.args.pad_mib:
            self.vibs.append(self.pad_vib(stage))
        self.vibs.sort(key=lambda v: v.id)
        assign_vfat_names(self.vibs)
        kernel, modules = boot_order(self.vibs)
        if self.args.empty_profile:
            modules = [p for p in modules if p.type == 'boot']
        for vib in self.vibs:
            for p in vib.payloads:
                if self.args.empty_profile and p.is_module and p.type != 'boot':
                    continue
                if p.data is not None:
                    # modules by their 8.3 name, loaders where section 5.3 puts them
                    put(p.iso_path.lstrip('/'), p.data)
        if self.args.no_loader_payloads:
            for p in loaders:
                put(p.iso_path.lstrip('/'), p.data)
        put('IMGDB.TGZ', self.imgdb())
        e = self.epoch
        extra = {
            'basemisc.tgz': {'var/db/payloads/text/README': b'esximg test image\n'},
            'resvibs.tgz': {'var/db/esximg/reservedVibs/README': b'no reserved VIBs\n'},
            'esxiodpt.tgz': {'var/db/esxio/index.xml': b'<vendorList/>\n'},
            'imgpayld.tgz': {'var/db/payloads/upgrade/metadata.xml': b'<metadata/>\n'},
        }
        for name in self.ver['tail'][1:]:
            put(name.upper(), gz(gnu_tar(extra[name], e)))
        cfg = self.bootcfg(kernel, modules)
        self.kernel, self.modules, self.cfg = kernel, modules, cfg
        put('BOOT.CFG', cfg)
        put('EFI/BOOT/BOOT.CFG', cfg)
        self.apply_break(stage, put)
        with open(os.path.join(HERE, 'isolinux.cfg')) as f:
            put('ISOLINUX.CFG', f.read().replace('@PROFILE@', self.ver['profile']).encode())

    def make_iso(self, stage, out):
        for root, dirs, files in os.walk(stage):
            for n in dirs + files:
                os.utime(os.path.join(root, n), (self.epoch, self.epoch))
        os.utime(stage, (self.epoch, self.epoch))
        volid = self.ver['profile'].upper()[:32]
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(self.epoch), TZ='UTC')
        cmd = [self.tool('xorriso'), '-as', 'mkisofs', '--norock', '-iso-level', '1',
               '-quiet', '-o', out, '-V', volid, '-A', 'ESXIMAGE', '-sysid', '',
               '-b', 'ISOLINUX.BIN', '-c', 'BOOT.CAT', '-no-emul-boot', '-boot-load-size', '4',
               '-boot-info-table', '-eltorito-alt-boot', '-e', 'EFIBOOT.IMG', '-no-emul-boot',
               stage]
        run = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if run.returncode != 0:
            sys.stderr.write(run.stdout.decode(errors='replace'))
            die('xorriso failed with status %d' % run.returncode)


def main():
    ap = argparse.ArgumentParser(description='Build an ESXi-like installer ISO for the tests.')
    ap.add_argument('--version', choices=sorted(VERSIONS), default='7.0')
    ap.add_argument('-o', '--output', help='the ISO to write')
    ap.add_argument('--depot', metavar='OUT.zip',
                    help="also (or, without -o, only) write the image's VIBs as a full "
                    'VMware-style depot: .vib files, index.xml, vendor-index.xml, metadata.zip '
                    'with vmware.xml, vibs/, bulletins/, profiles/ and on 7.0+ baseimages/ and '
                    'addons/')
    ap.add_argument('--patch', type=int, default=0, metavar='N',
                    help='make the N-th patch of the release instead (N >= 1): esx-base and '
                    'the VMware VIBs with a higher build number, new boot payload bytes, a new '
                    'profile and base image')
    ap.add_argument('--workdir', help='build here and keep the tree (default: a temporary '
                    'directory, removed)')
    ap.add_argument('--pad-mib', type=int, default=0, metavar='N',
                    help='add PAD.V00, a module of N MiB, for benchmarks')
    ap.add_argument('--samples', default=os.environ.get('ESXIMG_SAMPLES', ''),
                    help='the samples folder (real 6.7 maps, ids and descriptors); default '
                    '$ESXIMG_SAMPLES, else synthetic files only')
    ap.add_argument('--title', default='Loading ESXi installer', help='BOOT.CFG title')
    ap.add_argument('--manifest', metavar='FILE',
                    help='also write FILE, a JSON of what the image holds and what esximg '
                    'should report on it (VIBs, modules, BOOT.CFG, driver map entries, the '
                    'test host verdicts)')
    ap.add_argument('--break', dest='break_kind', choices=sorted(BREAKS),
                    help='make an inconsistent image: ' + '; '.join(
                        '%s: %s' % kv for kv in sorted(BREAKS.items())))
    ap.add_argument('--vmklinux', action='store_true',
                    help='on 7.0 and 8.0, also add the vmklinux drivers net-e1000 and net-e1000e '
                         '(6.7 VIBs no real 7.0+ image has: they never load there)')
    ap.add_argument('--unsigned', action='store_true',
                    help='leave the .xml.orig and .xml.sig (signature) files of the VIBs out of '
                         'the image database')
    ap.add_argument('--empty-profile', action='store_true',
                    help='an image whose database has lost its VIBs: an image profile with no '
                    'VIB, no vibs/ descriptors and no bulletins; only the boot payloads (kernel, '
                    'jumpstrt, ...) stay on the ISO and in BOOT.CFG, as the base a VIB set '
                    'exported from a full image is added back to')
    ap.add_argument('--foreign-driver', action='store_true',
                    help='add an ESXi-Arm driver VIB (rp1gem: an AArch64 module, a map claiming '
                    '10ec:8168), which no x86 ESXi loads')
    ap.add_argument('--no-loader-payloads', action='store_true',
                    help='leave the loader, upgrade and text payloads (isolinux.bin, mboot.c32, '
                    'BOOTx64.EFI, ...) out of esx-base; the ISO keeps the same files, which no '
                    'VIB then describes')
    ap.add_argument('--print-host', action='store_true',
                    help='print the test host as `lspci -nv` device lines and exit')
    args = ap.parse_args()
    if args.print_host:
        sys.stdout.write(HOST_LSPCI)
        return 0
    if not args.output and not args.depot:
        ap.error('-o/--output or --depot is required')
    if args.patch < 0:
        ap.error('--patch must be >= 0')
    if args.empty_profile and args.depot:
        ap.error('--empty-profile goes not with --depot')
    if args.pad_mib < 0:
        ap.error('--pad-mib must be >= 0')
    if args.empty_profile and (args.break_kind or args.manifest):
        ap.error('--empty-profile goes with neither --break nor --manifest')
    b = Builder(args)
    if args.workdir:
        work = os.path.abspath(args.workdir)
        if os.path.exists(work) and os.listdir(work):
            die("workdir '%s' is not empty" % work)
        os.makedirs(work, exist_ok=True)
        cleanup = False
    else:
        work = tempfile.mkdtemp(prefix='mkesxiso.')
        cleanup = True
    try:
        stage = os.path.join(work, 'tree')
        os.makedirs(stage)
        b.stage_files(stage, work)
        if args.output:
            tmp_out = args.output + '.tmp'
            b.make_iso(stage, tmp_out)
            os.replace(tmp_out, args.output)
        if args.depot:
            b.write_depot(args.depot)
        if args.manifest:
            with open(args.manifest + '.tmp', 'w') as f:
                json.dump(b.manifest(args.output), f, indent=1, sort_keys=True)
                f.write('\n')
            os.replace(args.manifest + '.tmp', args.manifest)
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
