#!/bin/sh
# Hostile authoring inputs: escaping symlinks, over-long paths, OEM archives with '..' or
# extra files, bad names and versions. Each exits 1 (2 for misuse) and leaves no output.
. "$(dirname "$0")/lib.sh"
need_tool python3

no_output() {
    [ ! -e "$1" ] || fail "$1 was left behind"
    ls -a | grep -q '\.tmp' && fail "a temporary file was left behind"
    return 0
}

step "a stage whose payload holds a symlink leaving it"
mkdir -p stage/payloads/p1/etc
printf '<vib version="5.0"><type>bootbank</type><name>evil</name><version>1.0-1</version><vendor>X</vendor><payloads><payload name="p1" type="vgz"/></payloads></vib>' >stage/descriptor.xml
printf 'ok\n' >stage/payloads/p1/etc/ok.conf
ln -s ../../../../../etc/shadow stage/payloads/p1/etc/shadow
expect_exit 1 "$ESXIMG" vib create -s stage -o evil.vib
expect_grep "etc/shadow" err
no_output evil.vib

step "an absolute symlink"
rm stage/payloads/p1/etc/shadow
ln -s /etc/shadow stage/payloads/p1/etc/shadow
expect_exit 1 "$ESXIMG" vib create -s stage -o evil.vib
no_output evil.vib
rm stage/payloads/p1/etc/shadow

step "a payload path longer than 99 bytes"
long=$(python3 -c 'print("d/" * 46 + "file_name")')
mkdir -p "stage/payloads/p1/$(dirname "$long")"
printf 'x\n' >"stage/payloads/p1/$long"
expect_exit 1 "$ESXIMG" vib create -s stage -o evil.vib
expect_grep 'longer than 99 bytes' err
no_output evil.vib
rm -rf stage/payloads/p1/d

step "the stage builds once clean"
expect_ok "$ESXIMG" vib create -s stage -o clean.vib
expect_ok "$ESXIMG" vib verify clean.vib

step "bad names, versions, payload names and constraints"
mkdir -p files/etc && printf 'x\n' >files/etc/x
for bad in "--name=bad name" "--version=1.0" "--vendor=a/b" "--acceptance=trusted" \
           "--depends=x >=" "--type=meta"; do
    expect_exit 1 "$ESXIMG" vib create -o bad.vib --name ok --version 1.0-1 --vendor V \
        --payload p="$T/files" "$bad"
    no_output bad.vib
done
expect_exit 1 "$ESXIMG" vib create -o bad.vib --name ok --version 1.0-1 --vendor V \
    --payload sixteen-chars-xx="$T/files"
expect_grep "1-15" err
no_output bad.vib
expect_exit 2 "$ESXIMG" vib create --name ok --version 1.0-1 --vendor V --payload p="$T/files"
expect_exit 2 "$ESXIMG" vib create -o x.vib --payload nodir
expect_exit 1 "$ESXIMG" vib create -o x.vib --name ok --version 1.0-1 --vendor V \
    --payload p="$T/missing"
no_output x.vib

step "a payload name over 8 characters builds with a warning"
expect_ok "$ESXIMG" vib create -o long.vib --name ok --version 1.0-1 --vendor V \
    --payload ninechars="$T/files"
expect_grep "warning: payload 'ninechars'" err

step "OEM archives with '..', an absolute path, a symlink or an extra file"
python3 - <<'PY' || fail "making the archives"
import io, tarfile
def tgz(name, members):
    with tarfile.open(name, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for path, kind, data in members:
            i = tarfile.TarInfo(path)
            if kind == "l":
                i.type, i.linkname = tarfile.SYMTYPE, data
                t.addfile(i)
            else:
                i.size = len(data)
                t.addfile(i, io.BytesIO(data))
mod = ("usr/lib/vmware/vmkmod/drv", "f", b"\x7fELF")
mp = ("etc/vmware/default.map.d/drv.map", "f", b"regtype=native\n")
tgz("dotdot.tgz", [mod, mp, ("usr/lib/vmware/vmkmod/../../../../etc/cron", "f", b"x")])
tgz("abs.tgz", [mod, mp, ("/usr/lib/vmware/vmkmod/x", "f", b"x")])
tgz("link.tgz", [mod, mp, ("usr/share/hwdata/default.pciids.d/drv.ids", "l", "/etc/passwd")])
tgz("extra.tgz", [mod, mp, ("etc/rc.local.d/local.sh", "f", b"x")])
tgz("nomap.tgz", [mod])
PY
for f in dotdot abs link extra nomap; do
    expect_exit 1 "$ESXIMG" vib from-oem $f.tgz -o oem.vib
    expect_grep "^esximg: $f.tgz: " err
    no_output oem.vib
done
head -c 100 dotdot.tgz >cut.tgz
expect_exit 1 "$ESXIMG" vib from-oem cut.tgz -o oem.vib
no_output oem.vib

step "map-only: bad PCI ids, names of ids not given, bad driver names"
expect_exit 1 "$ESXIMG" vib map-only --driver vmw_ahci --pci 8086:a10 -o m.vib
expect_exit 1 "$ESXIMG" vib map-only --driver vmw_ahci --pci 8086:a102:1028 -o m.vib
expect_exit 1 "$ESXIMG" vib map-only --driver "a,b" --pci 8086:a102 -o m.vib
expect_exit 1 "$ESXIMG" vib map-only --driver x --pci 8086:a102 --name "10de:1234=No" -o m.vib
expect_exit 2 "$ESXIMG" vib map-only --driver x -o m.vib
no_output m.vib

step "depot create with a file that is not a VIB"
printf 'not a vib' >junk.vib
expect_exit 1 "$ESXIMG" depot create -o b.zip clean.vib junk.vib
expect_grep '^esximg: junk.vib: ' err
no_output b.zip
expect_exit 1 "$ESXIMG" depot create -o b.zip clean.vib clean.vib
no_output b.zip

done_testing
