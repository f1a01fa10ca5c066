#!/bin/sh
# t6303: `esximg build --format pxe` and `--format bundle` of the test generator's full 7.0
# depot.  The PXE folder's boot.cfg, read back here, has the prefix given, kernel= and every
# module as a name without '/', each a file of the folder with the bytes of its payload (the
# image database files those of the built ISO); the loaders are there, mboot.efi the UEFI one;
# a kickstart is ks.cfg, named by ks= only under an http:// prefix.  OVMF boots the folder
# over QEMU's TFTP: its mboot.efi (the generator's GRUB stand-in) reads boot.cfg and every
# module through prefix= with the folder's bytes.  The bundle lists exactly the profile's
# VIBs, each .vib unchanged.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000
PREFIX=http://host/esxi/

step "the generator's 7.0 depot and image; esximg build of its profile as ISO and PXE folder"
expect_ok python3 "$GEN" --version 7.0 --depot d.zip --manifest m.json
profile=$(python3 -c 'import json; print(json.load(open("m.json"))["depot"]["profile"])')
expect_ok "$ESXIMG" build -o b.iso --depot d.zip --profile "$profile"
expect_ok "$ESXIMG" build -o pxe --format pxe --depot d.zip --profile "$profile" \
    --pxe-prefix "$PREFIX"
expect_grep "^wrote pxe: pxe of $profile, 6 VIBs\$" out
for f in IMGDB.TGZ IMGPAYLD.TGZ BOOT.CFG; do
    xorriso -osirrox on -indev b.iso -extract "/$f" "iso.$f" >/dev/null 2>&1 ||
        fail "cannot extract $f"
done

step "boot.cfg: prefix, kernel and modules as names of the folder's files with their bytes"
python3 - d.zip m.json pxe "$PREFIX" >pxe.out <<'PY' || fail "the PXE folder"
import json, os, sys, zipfile
depot, manifest, folder, prefix = sys.argv[1:5]
m = json.load(open(manifest))
z = zipfile.ZipFile(depot)

def ar_members(data):
    pos, out = 8, {}
    while pos < len(data):
        size = int(data[pos + 48:pos + 58])
        out[data[pos:pos + 16].decode().rstrip()] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + size % 2
    return out

# every payload's bytes by its ISO path, lower case (the PXE folder's names)
payloads = {}
for v in m['depot']['vibs']:
    members = ar_members(z.read(v['path']))
    for p in v['payloads']:
        payloads[p['iso_path'].lower()] = (p['type'], members[p['name']])

cfg = {}
for line in open(os.path.join(folder, 'boot.cfg')):
    key, sep, value = line.rstrip('\n').partition('=')
    assert sep and key not in cfg, line
    cfg[key] = value
assert cfg['prefix'] == prefix, cfg['prefix']
modules = cfg['modules'].split(' --- ')
iso_cfg = dict(l.rstrip('\n').split('=', 1) for l in open('iso.BOOT.CFG'))
# the ISO's BOOT.CFG with the leading '/' dropped, but for prefix=
assert cfg['kernel'] == iso_cfg['kernel'].lstrip('/'), (cfg['kernel'], iso_cfg['kernel'])
assert modules == [x.lstrip('/') for x in iso_cfg['modules'].split(' --- ')], modules
for k in ('kernelopt', 'build', 'title'):
    assert cfg[k] == iso_cfg[k], (k, cfg[k], iso_cfg[k])
names = [cfg['kernel']] + modules
assert len(names) == 13 and names[-2:] == ['imgdb.tgz', 'imgpayld.tgz'], names
for name in names:
    assert not name.startswith('/') and '/' not in name, name
    data = open(os.path.join(folder, name), 'rb').read()
    if name in ('imgdb.tgz', 'imgpayld.tgz'):
        want = open('iso.' + name.upper(), 'rb').read()
    else:
        ptype, want = payloads['/' + name]
        assert ptype in ('boot', 'vgz', 'tgz'), (name, ptype)
    assert data == want, name + ': other bytes than its payload'
# the loaders: the BIOS ones by name, the UEFI one also as mboot.efi
for name in ('mboot.c32', 'menu.c32', 'ldlinux.c32', 'libcom32.c32', 'libutil.c32'):
    assert open(os.path.join(folder, name), 'rb').read() == payloads['/' + name][1], name
efi = payloads['/efi/boot/bootx64.efi'][1]
assert open(os.path.join(folder, 'mboot.efi'), 'rb').read() == efi
for name in ('isolinux.bin', 'isolinux.cfg', 'efiboot.img', 'upgrade', 'ks.cfg'):
    assert not os.path.exists(os.path.join(folder, name)), name
print('pxe ok: %d modules' % len(names))
PY
expect_grep '^pxe ok: 13 modules$' pxe.out

step "--ks: ks.cfg in the folder, ks= under the http:// prefix, none under a TFTP one"
printf 'vmaccepteula\ninstall --firstdisk --overwritevmfs\nrootpw Secret-123\nreboot\n' >ks.cfg
expect_ok "$ESXIMG" build -o pxeks --format pxe --depot d.zip --profile "$profile" \
    --pxe-prefix "$PREFIX" --ks ks.cfg
expect_same_file ks.cfg pxeks/ks.cfg
expect_grep '^kernelopt=cdromBoot runweasel ks=http://host/esxi/ks\.cfg$' pxeks/boot.cfg
expect_ok "$ESXIMG" build -o pxetftp --format pxe --depot d.zip --profile "$profile" \
    --pxe-prefix esxi70 --ks ks.cfg
expect_same_file ks.cfg pxetftp/ks.cfg
expect_grep '^prefix=esxi70$' pxetftp/boot.cfg
expect_no_grep 'ks=' pxetftp/boot.cfg
ls -d ./*.build-* >/dev/null 2>&1 && fail "a work folder was left behind: $(ls -d ./*.build-*)"

step "--format bundle: esximg depot ls lists exactly the profile's VIBs, unchanged"
expect_ok "$ESXIMG" build -o sel.zip --format bundle --depot d.zip --profile "$profile"
expect_ok "$ESXIMG" depot ls --json sel.zip
python3 - m.json <<'PY' || fail "the bundle: $(cat out)"
import json, sys
m = json.load(open(sys.argv[1]))
listed = {v['vib_id']: v for v in json.load(open('out'))['vibs']}
profile = {v['vib_id'] for v in m['vibs']}
assert set(listed) == profile, (sorted(listed), sorted(profile))
for v in m['depot']['vibs']:
    if v['vib_id'] in profile:
        got = listed[v['vib_id']]
        assert (got['sha256'], got['size']) == (v['sha256'], v['size']), v['vib_id']
        assert not got['broken'] and not got['problems'], got
PY

step "OVMF boots the folder over TFTP: mboot.efi, boot.cfg, every module through prefix="
# The folder sits under the TFTP root as its prefix names it (tftp/esxi70, prefix=esxi70), as
# VMware's PXE guide lays it out.  OVMF fetches esxi70/mboot.efi, the generator's GRUB
# stand-in, which sources esximg-test.cfg from beside itself (written here): it prints
# boot.cfg from there, as mboot.efi reads it, and the sha-256 of <prefix>/<name> for the
# kernel and each module boot.cfg lists, fetched over TFTP as mboot.efi fetches them,
# compared here with the files' own.
ovmf=$(set +e; (need_ovmf) >/dev/null && echo yes)
if [ -z "$ovmf" ] || ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "no qemu or OVMF firmware: the TFTP boot is not checked"
else
    for fw in ${OVMF_FD:-} /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd \
              /usr/share/OVMF/OVMF.fd; do
        [ -n "$fw" ] && [ -r "$fw" ] && break
    done
    mkdir tftp
    expect_ok "$ESXIMG" build -o tftp/esxi70 --format pxe --depot d.zip --profile "$profile" \
        --pxe-prefix esxi70
    python3 - tftp/esxi70 >want.sums <<'PY' || fail "cannot list the modules"
import hashlib, os, sys
folder = sys.argv[1]
cfg = dict(l.rstrip('\n').split('=', 1) for l in open(os.path.join(folder, 'boot.cfg')))
names = [cfg['kernel']] + cfg['modules'].split(' --- ')
with open(os.path.join(folder, 'esximg-test.cfg'), 'w') as script:
    script.write('echo "esximg-test: begin boot.cfg beside the loader"\n'
                 'cat "$cmdpath/boot.cfg"\n')
    for name in names:
        path = '/%s/%s' % (cfg['prefix'], name)
        script.write('hashsum --hash sha256 %s\n' % path)
        digest = hashlib.sha256(open(os.path.join(folder, name), 'rb').read()).hexdigest()
        print('%s  %s' % (digest, path))
PY
    [ "$(wc -l <want.sums)" -eq 13 ] || fail "not 13 modules: $(cat want.sums)"
    # the stand-in halts, which ends QEMU (under a minute with TCG); timeout bounds a failure
    timeout 120 qemu-system-x86_64 -machine pc -accel tcg -m 256 -display none -monitor none \
        -no-reboot -bios "$fw" -boot n -serial file:net.log \
        -netdev "user,id=n0,tftp=$T/tftp,bootfile=esxi70/mboot.efi" \
        -device virtio-net-pci,netdev=n0,romfile= >qout 2>&1 || true
    tr -d '\r' <net.log | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >net.txt
    expect_grep 'NBP filename is esxi70/mboot.efi' net.txt
    expect_grep 'NBP file downloaded successfully' net.txt
    expect_grep '^esximg-test: grub started' net.txt
    expect_grep '^esximg-test: root=tftp,' net.txt
    # boot.cfg as the folder holds it, read over TFTP from beside the loader
    sed -n '/^esximg-test: begin boot.cfg beside the loader$/,/^esximg-test: end$/p' \
        net.txt >net.cfg
    for key in prefix kernel modules; do
        line=$(grep "^$key=" tftp/esxi70/boot.cfg)
        grep -qxF "$line" net.cfg || fail "boot.cfg over TFTP lacks '$line': $(cat net.txt)"
    done
    # every module through the prefix, with the folder's bytes
    grep -E '^[0-9a-f]{64}  /esxi70/' net.cfg >got.sums || true
    cmp -s want.sums got.sums ||
        fail "modules over TFTP differ: $(diff want.sums got.sums | head -20)"
fi

done_testing
