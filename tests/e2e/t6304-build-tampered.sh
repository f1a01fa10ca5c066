#!/bin/sh
# t6301: `esximg build` from a depot with a stored .vib member (esximg export stores what
# deflate cannot shrink, and build reads it in place of the bundle, where no zip CRC is
# checked) next to deflated ones: the image builds, and after one byte of a payload is changed in the depot the build fails naming the
# VIB and the payload, exit 1, nothing left behind.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1700000000
P=ESXi-7.0.2-17630552-standard

step "the depots of a generated image store the .vib of incompressible payloads"
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 --pad-mib 1 -o gen.iso \
    --depot depot.zip
expect_ok "$ESXIMG" export gen.iso -o exported.zip -q
python3 - <<'PY' || fail "the exported bundle does not store the padding .vib alone"
import zipfile
vibs = [i for i in zipfile.ZipFile('exported.zip').infolist() if i.filename.endswith('.vib')]
stored = [i.filename for i in vibs if i.compress_type == zipfile.ZIP_STORED]
assert len(vibs) > 1 and len(stored) == 1 and 'esximg-pad' in stored[0], stored
PY
# the generator's other payloads compress well: those .vib members stay deflated
python3 - <<'PY' || fail "the padding .vib is not stored, or another is"
import zipfile
vibs = [i for i in zipfile.ZipFile('depot.zip').infolist() if i.filename.endswith('.vib')]
stored = [i.filename for i in vibs if i.compress_type == zipfile.ZIP_STORED]
assert len(vibs) > 1 and len(stored) == 1 and 'esximg-pad' in stored[0], stored
PY

step "it builds, and the payloads read in place are the exported ones"
mkdir img
expect_ok "$ESXIMG" build -o img/good.iso --depot depot.zip --profile "$P" -q
expect_ok xorriso -indev img/good.iso -osirrox on -extract /PAD.V00 pad.good
expect_ok xorriso -indev gen.iso -osirrox on -extract /PAD.V00 pad.gen
expect_same_file pad.good pad.gen

step "one payload byte changed in the stored .vib fails the build, naming it"
python3 - <<'PY' >tampered.txt || fail "cannot change a payload byte"
import struct, zipfile
z = zipfile.ZipFile('depot.zip')
info = next(i for i in z.infolist() if i.filename.endswith('.vib') and 'pad' in i.filename)
raw = bytearray(open('depot.zip', 'rb').read())
at = info.header_offset
name_len, extra_len = struct.unpack('<HH', raw[at + 26:at + 30])
vib = at + 30 + name_len + extra_len
pos = vib + 8                                   # after "!<arch>\n"
while True:                                     # the first member that is no descriptor
    name = raw[pos:pos + 16].decode().strip().rstrip('/')
    size = int(raw[pos + 48:pos + 58].decode())
    if name not in ('descriptor.xml', 'sig.pkcs7'):
        break
    pos += 60 + size + (size & 1)
raw[pos + 60 + size // 2] ^= 0x01
open('tampered.zip', 'wb').write(raw)
print(name)
PY
payload=$(cat tampered.txt)
expect_exit 1 "$ESXIMG" build -o img/bad.iso --depot tampered.zip --profile "$P" -q
expect_grep "payload '$payload' of '[^']*pad[^']*'" err
expect_grep 'sha-256' err
expect_grep 'tampered.zip' err
[ ! -e img/bad.iso ] || fail "img/bad.iso was written"
[ "$(ls img)" = good.iso ] || fail "something was left behind: $(ls img)"

done_testing
