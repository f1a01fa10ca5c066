#!/bin/sh
# t4900: info, ls and hcl on hostile input.  What a user expects, and what is checked:
# - a file that is no ISO (garbage, empty, one block, a directory, missing) or an ISO cut short:
#   one line `esximg: FILE: reason` on stderr, nothing on stdout, exit 1, whatever the command;
# - an ISO that is not an ESXi image: `info` is the checker, so it answers with the problems it
#   found (no BOOT.CFG, no image database) and exits 3; `ls --files` lists it (exit 0); `ls`
#   (VIBs), `ls --drivers` and `hcl` have nothing to list or check against and fail (exit 1)
#   saying it is not an ESXi installer image, rather than printing an empty answer;
# - an ESXi-like ISO with a corrupt BOOT.CFG or image database: problems, exit 3, not a failure;
# - a driver module whose bytes were overwritten (same size): info finds it only with --verify;
#   ls --drivers and hcl warn about the module and go on without its maps.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# one_line_failure FILE CMD...: exit 1, stdout empty, stderr one line naming FILE
one_line_failure() {
    f=$1
    shift
    expect_exit 1 "$@"
    [ ! -s out ] || fail "stdout not empty: $*: $(head -3 out)"
    expect_lines 1 err
    grep -q "^esximg: $f: [a-z'/]" err || fail "stderr does not name $f: $(cat err)"
    if grep -Eqi 'sanitizer|segmentation|assert|abort' err; then fail "crash: $(cat err)"; fi
}

# all_fail FILE: every inspecting command fails cleanly on FILE
all_fail() {
    one_line_failure "$1" "$ESXIMG" info "$1"
    one_line_failure "$1" "$ESXIMG" info --json "$1"
    one_line_failure "$1" "$ESXIMG" info --verify "$1"
    one_line_failure "$1" "$ESXIMG" ls "$1"
    one_line_failure "$1" "$ESXIMG" ls --files --json "$1"
    one_line_failure "$1" "$ESXIMG" ls --drivers "$1"
    one_line_failure "$1" "$ESXIMG" hcl "$1" --pci 8086:10d3/0200
    one_line_failure "$1" "$ESXIMG" hcl "$1" --lspci host.txt --json
}

expect_ok python3 "$GEN" --print-host
mv out host.txt
expect_ok python3 "$GEN" --version 7.0 --vmklinux -o esx.iso --manifest m.json

step "garbage: 300 KiB of seeded random bytes"
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(4900).randbytes(300 << 10))' \
    >garbage.iso
all_fail garbage.iso

step "an empty file and a single block"
: >empty.iso
all_fail empty.iso
head -c 2048 esx.iso >block.iso
all_fail block.iso

step "the image cut in half, and cut one block short"
size=$(stat -c %s esx.iso)
head -c $((size / 2)) esx.iso >half.iso
all_fail half.iso
expect_exit 1 "$ESXIMG" info half.iso
expect_grep '^esximg: half\.iso: image is truncated' err
head -c $((size - 2048)) esx.iso >short.iso
all_fail short.iso

step "the volume descriptors zeroed: no ISO at all"
cp esx.iso nopvd.iso
python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(16 * 2048)
    f.write(bytes(4 * 2048))' nopvd.iso
all_fail nopvd.iso

step "a directory and a missing file"
mkdir adir
all_fail adir
all_fail missing.iso
expect_exit 1 "$ESXIMG" info missing.iso
expect_grep '^esximg: missing\.iso: cannot open: No such file or directory$' err

step "a plain ISO that is not an ESXi image"
mkdir -p plain/DOCS
echo hello >plain/README.TXT
echo x >plain/DOCS/A.TXT
xorriso -as mkisofs -quiet -o plain.iso -V PLAIN plain 2>/dev/null || fail "xorriso failed"
expect_exit 3 "$ESXIMG" info plain.iso
expect_grep '^esxi version: +unknown$' out
expect_grep '^  no /BOOT\.CFG on the image$' out
expect_grep '^  no image database \(IMGDB\.TGZ\) on the image$' out
expect_grep '^problems: +2$' out
expect_exit 3 "$ESXIMG" info --json plain.iso
mv out plain.json
expect_ok python3 -c '
import json, sys
j = json.load(open("plain.json"))
want = {"version": None, "build": None, "profile": None, "vib_count": 0, "kernel": None,
        "modules": [], "problems": ["no /BOOT.CFG on the image",
                                    "no image database (IMGDB.TGZ) on the image"]}
bad = {k: j[k] for k in want if j[k] != want[k]}
sys.exit("unexpected: %r" % bad if bad else 0)'
expect_ok "$ESXIMG" ls --files plain.iso
expect_grep '/README\.TXT$' out
for cmd in "ls" "ls --vibs --json" "ls --drivers"; do
    # shellcheck disable=SC2086
    one_line_failure plain.iso "$ESXIMG" $cmd plain.iso
    expect_grep 'not an ESXi installer image' err
done
one_line_failure plain.iso "$ESXIMG" hcl plain.iso --lspci host.txt
expect_grep 'not an ESXi installer image' err

step "an ESXi-like ISO with a corrupt BOOT.CFG and image database: problems, exit 3"
mkdir -p bad/EFI/BOOT
printf 'kernel=/b.b00\n\000modules=/imgdb.tgz\n' >bad/BOOT.CFG
printf 'kernel=/b.b00\nmodules=/imgdb.tgz\n' >bad/EFI/BOOT/BOOT.CFG
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(1).randbytes(5000))' \
    >bad/IMGDB.TGZ
xorriso -as mkisofs -quiet -o bad.iso bad 2>/dev/null || fail "xorriso failed"
expect_exit 3 "$ESXIMG" info bad.iso
expect_grep '^  /BOOT\.CFG: NUL byte' out
expect_grep '^  /IMGDB\.TGZ: ' out
expect_no_grep 'no /BOOT\.CFG|no image database' out
one_line_failure bad.iso "$ESXIMG" hcl bad.iso --pci 8086:10d3/0200

step "an image database with a '../' member and a descriptor that does not parse"
python3 - <<'PY'
import gzip, io, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
    for name, data in [('var/db/esximg/vibs/bad-1.xml', b'<vib><name>x'),
                       ('../evil', b'x')]:
        i = tarfile.TarInfo(name)
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
open('bad/IMGDB.TGZ', 'wb').write(gzip.compress(buf.getvalue(), mtime=0))
PY
printf 'kernel=/b.b00\nmodules=/imgdb.tgz\n' >bad/BOOT.CFG
xorriso -as mkisofs -quiet -o evil.iso bad 2>/dev/null || fail "xorriso failed"
expect_exit 3 "$ESXIMG" info evil.iso
expect_grep "^  /IMGDB\\.TGZ: .*'\\.\\./evil'" out
if [ -e evil ] || [ -e ../evil ]; then fail "something was written for '../evil'"; fi

step "a BOOT.CFG of 2 MiB: a problem, not a crash"
head -c 2097152 /dev/zero | tr '\0' 'a' >bad/BOOT.CFG
xorriso -as mkisofs -quiet -o bigcfg.iso bad 2>/dev/null || fail "xorriso failed"
expect_exit 3 "$ESXIMG" info bigcfg.iso
expect_grep '^  /BOOT\.CFG: .*limit' out

step "a driver module overwritten in place (same size)"
expect_ok "$ESXIMG" ls --files --json esx.iso
mv out files.json
cp esx.iso corrupt.iso
python3 -c '
import json, sys
f = [x for x in json.load(open("files.json"))["files"] if x["path"] == "/NE1000.V00"][0]
with open("corrupt.iso", "r+b") as iso:
    iso.seek(f["lba"] * 2048)
    iso.write(b"\xff" * f["size"])'
# without --verify only sizes are compared: the image's problems are its vmklinux VIBs alone
expect_exit 3 "$ESXIMG" info corrupt.iso
expect_no_grep 'ne1000' out
expect_grep "^  VIB 'VMW_bootbank_net-e1000e_[^']*' is a vmklinux driver: ESXi 7\.0 has no vmklinux, it will never load$" out
expect_exit 3 "$ESXIMG" info --verify corrupt.iso
expect_grep "^  module 'ne1000\\.v00' of 'VMW_bootbank_ne1000_[^']*': sha-256 " out
expect_ok "$ESXIMG" ls --drivers corrupt.iso
expect_grep '^esximg: warning: /NE1000\.V00: ' err
expect_no_grep '^ne1000 ' out
expect_grep '^e1000e +vmklinux ' out
expect_ok "$ESXIMG" ls --drivers --json corrupt.iso
expect_grep '"/NE1000\.V00: ' out
# 8086:10d3 is now claimed only by vmklinux e1000e, which 7.0 does not load
expect_exit 3 "$ESXIMG" hcl corrupt.iso --pci 8086:10d3/0200 --json
mv out corrupt.json
expect_ok python3 -c '
import json, sys
j = json.load(open("corrupt.json"))
d = j["devices"][0]
ok = d["verdict"] == "will_not_load" and len(j["warnings"]) == 1 and \
     j["warnings"][0].startswith("/NE1000.V00: ")
sys.exit(0 if ok else "got %r %r" % (d["verdict"], j["warnings"]))'

step "a boot entry loading the boot catalog itself is refused (libisofs 1.5.4 crashes on it)"
cp "$E2E_DIR/../../fuzz/corpus/iso/crash-bootcat-is-boot-image" selfboot.iso
for cmd in info ls "hcl --pci 8086:10d3"; do
    expect_exit 1 "$ESXIMG" $cmd selfboot.iso
    expect_grep "^esximg: selfboot.iso: El Torito boot entry 1 loads its image from block 25, the boot catalog itself$" err
done
expect_exit 1 "$ESXIMG" edit selfboot.iso -o never.iso --kernelopt a=b
[ ! -e never.iso ] || fail "never.iso was written"

step "the input files were not modified"
expect_ok python3 "$GEN" --version 7.0 --vmklinux -o again.iso
expect_same_file esx.iso again.iso

done_testing
