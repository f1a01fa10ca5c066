#!/bin/sh
# vmtar x refuses escaping names and links and never writes through symlinks; t and x refuse
# a GNU tar and name the format.
. "$(dirname "$0")/lib.sh"

step "make hostile archives"
mkdir outside
python3 - <<'PY'
import gzip, io, struct, tarfile

def hdr(name, typ=b"0", size=0, off=0, link=b""):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 0
    h[156:157] = typ
    h[157:157 + len(link)] = link
    h[257:265] = b"visor  \0"
    h[496:500] = struct.pack("<I", off)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)

def vmtar(entries, data=b""):
    heads = b"".join(entries)
    return heads + b"\0" * 512 + data

# ../evil with content right after the zero block
open("dotdot.vtar", "wb").write(
    vmtar([hdr(b"ok.txt", size=3, off=1536), hdr(b"../evil", size=5, off=2048)],
          b"ok\n" + b"\0" * 509 + b"evil\n"))
open("absolute.vtar", "wb").write(vmtar([hdr(b"/tmp/evil", size=0)]))
# a link leaving the tree, then a file written through it
open("link.vtar", "wb").write(vmtar([hdr(b"l", typ=b"2", link=b"../outside"),
                                     hdr(b"l/pwned", size=0)]))
open("ctrl.vtar", "wb").write(vmtar([hdr(b"a\x1b[2Jb", size=0)]))
open("plain.vtar", "wb").write(vmtar([hdr(b"etc/", typ=b"5"), hdr(b"etc/a", size=2, off=1536)],
                                     b"a\n"))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    info = tarfile.TarInfo("x")
    info.size = 1
    t.addfile(info, io.BytesIO(b"x"))
open("gnu.tgz", "wb").write(gzip.compress(buf.getvalue()))
PY

step "an entry with .. is refused and nothing is written"
expect_exit 1 "$ESXIMG" vmtar x dotdot.vtar -C dst
expect_grep "dotdot.vtar: entry '../evil': '..' in path" err
[ ! -e evil ] && [ ! -e dst/ok.txt ] || fail "something was written"
expect_exit 1 "$ESXIMG" vmtar t dotdot.vtar
expect_grep "'../evil'" err

step "an absolute entry is refused"
expect_exit 1 "$ESXIMG" vmtar x absolute.vtar -C dst
expect_grep "entry '/tmp/evil': absolute path" err

step "a link leaving the tree is refused"
expect_exit 1 "$ESXIMG" vmtar x link.vtar -C dst2
expect_grep "entry 'l': link target '../outside' leaves the extracted tree" err
[ -z "$(ls -A outside)" ] || fail "wrote outside"
[ ! -e dst2/l ] || fail "the link was created"

step "an existing symlink in the target is not followed"
mkdir dst3
ln -s ../outside dst3/etc
expect_exit 1 "$ESXIMG" vmtar x plain.vtar -C dst3
expect_grep "entry 'etc/': 'etc' is a symlink or not a directory" err
[ -z "$(ls -A outside)" ] || fail "wrote through the symlink"

step "a symlink at a file's place is replaced, not followed"
mkdir -p dst4/etc
echo keep >outside/victim
ln -s ../../outside/victim dst4/etc/a
expect_ok "$ESXIMG" vmtar x plain.vtar -C dst4
[ "$(cat outside/victim)" = keep ] || fail "wrote through the symlink"
[ ! -L dst4/etc/a ] && [ "$(cat dst4/etc/a)" = a ] || fail "file not replaced"

step "a GNU tar is named"
expect_exit 1 "$ESXIMG" vmtar t gnu.tgz
expect_grep "gnu.tgz: is a GNU tar, not a vmtar" err
expect_exit 1 "$ESXIMG" vmtar x gnu.tgz -C dst5
expect_grep "is a GNU tar, not a vmtar" err
[ ! -e dst5 ] || fail "x created its directory for a refused archive"

step "control bytes in names are shown escaped"
expect_ok "$ESXIMG" vmtar t ctrl.vtar
expect_grep '^a\\033\[2Jb$' out

step "garbage and truncation"
head -c 700 plain.vtar >trunc.vtar
expect_exit 1 "$ESXIMG" vmtar t trunc.vtar
expect_grep "trunc.vtar: archive is truncated" err
printf 'hello' >garbage
expect_exit 1 "$ESXIMG" vmtar t garbage
expect_grep "garbage: not a vmtar" err
expect_exit 1 "$ESXIMG" vmtar t missing.v00
expect_grep "missing.v00: cannot open" err

done_testing
