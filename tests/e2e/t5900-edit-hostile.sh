#!/bin/sh
# t5900: `esximg edit` refuses bad inputs and bad outputs: a missing input, an input that is not
# an ISO, a VIB whose payload does not match its checksum, OEM .tgz files with a ../ member or
# an extra file, a package that does not exist or is no package, an output folder that is
# missing, not a folder or not writable, and an output that is the input (by name, by another
# spelling, through a symlink or a hard link).  Each exits 1 with ONE error line on stderr,
# "esximg: <file>: <reason>" naming the culprit (besides warnings about the input
# image); nothing is written (no output, no temporary
# file left beside it) and the input is unchanged.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_samples
need_edit_tools

gen_image 7.0 in.iso
in_sha=$(sha in.iso)
mkdir outdir

# refused NAME FILE CMD...: exit 1, one error line naming FILE, nothing new in outdir or here
refused() {
    what=$1
    file=$2
    shift 2
    ls -A . outdir >before.ls
    expect_exit 1 "$@"
    # warnings about the input image itself (relationships it already breaks) may come first
    grep -v '^esximg: warning: ' err >err.lines || true
    [ "$(wc -l <err.lines)" -eq 1 ] || { cat err >&2; fail "$what: not one error line"; }
    grep -q '^esximg: ' err.lines ||
        { cat err >&2; fail "$what: the message does not start with esximg:"; }
    grep -qF -- "$file" err.lines || { cat err >&2; fail "$what: the message does not name $file"; }
    ls -A . outdir >after.ls
    [ ! -e /tmp/esximg-evil ] || fail "$what: a file was written to /tmp"
    grep -Ev '^(out|err|err\.lines|before\.ls|after\.ls|a\.ls|b\.ls)$' before.ls >b.ls || true
    grep -Ev '^(out|err|err\.lines|before\.ls|after\.ls|a\.ls|b\.ls)$' after.ls >a.ls || true
    cmp -s b.ls a.ls || { diff b.ls a.ls >&2; fail "$what: something was written"; }
    check_unchanged in.iso "$in_sha"
}

step "a missing input"
refused "missing input" missing.iso "$ESXIMG" edit missing.iso -o outdir/o.iso --add "$PKG_GHETTO"

step "an input that is not an ISO: a text file, a VIB, an empty file"
printf 'not an iso\n' >text.iso
refused "text input" text.iso "$ESXIMG" edit text.iso -o outdir/o.iso --add "$PKG_GHETTO"
cp "$PKG_GHETTO" vib.iso
refused "vib input" vib.iso "$ESXIMG" edit vib.iso -o outdir/o.iso --add "$PKG_GHETTO"
: >empty.iso
refused "empty input" empty.iso "$ESXIMG" edit empty.iso -o outdir/o.iso -k foo=1
head -c 40000 in.iso >cut.iso
refused "truncated input" cut.iso "$ESXIMG" edit cut.iso -o outdir/o.iso -k foo=1

step "a VIB whose payload lies about its checksum (one byte flipped)"
cp "$PKG_GHETTO" liar.vib
chmod u+w liar.vib
# the ar member payload1 follows descriptor.xml and sig.pkcs7: flip a byte in its middle
off=$(python3 - <<'PY'
data = open('liar.vib', 'rb').read()
pos = 8
while pos + 60 <= len(data):
    name = data[pos:pos + 16].decode().strip()
    size = int(data[pos + 48:pos + 58].decode().strip())
    if name.rstrip('/') == 'payload1':
        print(pos + 60 + size // 2)
        break
    pos += 60 + size + (size & 1)
PY
)
[ -n "$off" ] || fail "no payload1 member in the VIB"
python3 -c "
f = open('liar.vib', 'r+b'); f.seek($off); b = f.read(1); f.seek($off)
f.write(bytes([b[0] ^ 0x40]))"
expect_exit 3 "$ESXIMG" vib verify liar.vib
refused "payload checksum" liar.vib "$ESXIMG" edit in.iso -o outdir/o.iso --add liar.vib

step "a VIB cut short, and a package that is neither VIB, zip nor OEM tgz"
head -c 20000 "$PKG_GHETTO" >short.vib
refused "truncated vib" short.vib "$ESXIMG" edit in.iso -o outdir/o.iso --add short.vib
printf 'hello\n' >notapkg.vib
refused "not a package" notapkg.vib "$ESXIMG" edit in.iso -o outdir/o.iso --add notapkg.vib
refused "missing package" nothere.vib "$ESXIMG" edit in.iso -o outdir/o.iso --add nothere.vib

step "OEM .tgz files with a ../ member, an absolute member, an extra file"
mkdir -p oem/usr/lib/vmware/vmkmod oem/etc/vmware/default.map.d \
    oem/usr/share/hwdata/default.pciids.d
printf '\177ELF test module\n' >oem/usr/lib/vmware/vmkmod/r8168x
printf 'regtype=native,bus=pci,id=10ec8168..............,driver=r8168x\n' \
    >oem/etc/vmware/default.map.d/r8168x.map
printf '10ec  Realtek\n\t8168  RTL8111/8168\n' >oem/usr/share/hwdata/default.pciids.d/r8168x.ids
expect_ok sh "$GEN_DIR/mkoemtgz.sh" good.tgz oem
expect_ok "$ESXIMG" edit in.iso -o good.iso --add good.tgz --dry-run
expect_ok sh "$GEN_DIR/mkoemtgz.sh" --evil ../../tmp/esximg-evil dotdot.tgz oem
tar -tzf dotdot.tgz 2>/dev/null | grep -q '^\.\./\.\./tmp/esximg-evil$' || fail "no ../ member"
refused "../ member" dotdot.tgz "$ESXIMG" edit in.iso -o outdir/o.iso --add dotdot.tgz
[ ! -e /tmp/esximg-evil ] || fail "/tmp/esximg-evil was created"
expect_ok sh "$GEN_DIR/mkoemtgz.sh" --evil /etc/esximg-evil abs.tgz oem
refused "absolute member" abs.tgz "$ESXIMG" edit in.iso -o outdir/o.iso --add abs.tgz
expect_ok sh "$GEN_DIR/mkoemtgz.sh" --extra etc/rc.local.d/evil.sh extra.tgz oem
refused "extra file" extra.tgz "$ESXIMG" edit in.iso -o outdir/o.iso --add extra.tgz

step "an output folder that is missing, or a file"
refused "missing folder" nodir/o.iso "$ESXIMG" edit in.iso -o nodir/o.iso -k foo=1
printf 'x\n' >afile
refused "folder is a file" afile/o.iso "$ESXIMG" edit in.iso -o afile/o.iso -k foo=1

step "an output folder that is not writable"
if [ "$(id -u)" -ne 0 ]; then
    mkdir ro
    chmod 555 ro
    refused "read-only folder" ro/o.iso "$ESXIMG" edit in.iso -o ro/o.iso -k foo=1
    chmod 755 ro
elif [ -d /proc/self ]; then
    # root writes anywhere it has a mode for: /proc refuses new files to everyone
    refused "/proc folder" /proc/self/o.iso "$ESXIMG" edit in.iso -o /proc/self/o.iso -k foo=1
fi

step "output == input: same name, another spelling, a symlink, a hard link"
refused "same name" in.iso "$ESXIMG" edit in.iso -o in.iso -k foo=1
refused "other spelling" in.iso "$ESXIMG" edit in.iso -o ./outdir/../in.iso -k foo=1
ln -s in.iso link.iso
refused "symlink" link.iso "$ESXIMG" edit in.iso -o link.iso -k foo=1
[ -L link.iso ] || fail "the symlink was replaced"
ln in.iso hard.iso
refused "hard link" hard.iso "$ESXIMG" edit in.iso -o hard.iso -k foo=1
rm hard.iso link.iso

step "after all that, a good edit still works and the input is unchanged"
expect_ok "$ESXIMG" edit in.iso -o outdir/o.iso -k foo=1
check_edit in.iso outdir/o.iso --kernelopt 'cdromBoot runweasel foo=1'
check_unchanged in.iso "$in_sha"

done_testing
