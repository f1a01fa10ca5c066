# edit-lib.sh: shared by the `esximg edit` end-to-end scripts (t51NN, t5900); source it after
# lib.sh.  Builds the test images, unpacks the real packages, and checks an edited image with
# esximg itself and with independent tools (xorriso, isoinfo, Python; tests/gen/check-edit.py).

GEN_DIR="$E2E_DIR/../gen"
# the generator's dates only: esximg edit takes its dates from its inputs (SOURCE_DATE_EPOCH
# would override them), which the determinism checks rely on
unset SOURCE_DATE_EPOCH
ITI="$ESXIMG_SAMPLES/itiligent__ESXi-Custom-ISO"
PKG_GHETTO="$ESXIMG_SAMPLES/lamw__ghettoVCB/vghetto-ghettoVCB.vib"
PKG_R8125="$ITI/6-updates/net-r8125-9.011.00-10.vib"
PKG_NVME="$ITI/6-updates/nvme-community-driver_1.0.1.0-1vmw.670.0.0.8169922-offline_bundle"
PKG_NVME="$PKG_NVME-17658145.zip"
PKG_R8168="$ITI/6-updates/net55-r8168-8.045a-napi-offline_bundle.zip"
PKG_NETCOMM="$ITI/7-updates/Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip"
PKG_REDRV="$ITI/8-updates/VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240.zip"
PKG_FLING="$ITI/6-updates/ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip"

need_edit_tools() {
    need_image_tools
    need_tool isoinfo
    "$ESXIMG" edit --help >/dev/null 2>&1 ||
        { echo "skipped: esximg has no edit command"; exit 77; }
}

# gen_image VERSION OUT [mkesxiso.py options]: a generated image (with the samples' 6.7 files)
gen_image() {
    _v=$1
    _o=$2
    shift 2
    SOURCE_DATE_EPOCH=1600000000 python3 "$GEN_DIR/mkesxiso.py" --version "$_v" -o "$_o" "$@" \
        >gen.out 2>&1 ||
        { cat gen.out >&2; fail "cannot build the $_v image"; }
}

# unpack_vib VIB DIR: descriptor.xml, sig.pkcs7 and the payloads of VIB into DIR
unpack_vib() {
    mkdir -p "$2"
    "$ESXIMG" vib extract "$1" -C "$2" >unpack.out 2>&1 ||
        { cat unpack.out >&2; fail "vib extract $1"; }
}

# bundle_vib ZIP DIR: extracts the bundle's VIBs into DIR; prints the path of the only one
bundle_vib() {
    mkdir -p "$2"
    "$ESXIMG" depot extract "$1" -C "$2" -q >unpack.out 2>&1 ||
        { cat unpack.out >&2; fail "depot extract $1"; }
    set -- "$2"/*.vib
    if [ $# -ne 1 ] || [ ! -f "$1" ]; then fail "expected one VIB in the bundle, got: $*"; fi
    echo "$1"
}

# sha FILE: its sha-256
sha() { sha256sum "$1" | cut -d' ' -f1; }

# iso_get ISO PATH DEST: one file of ISO, extracted with xorriso
iso_get() {
    rm -f "$3"
    xorriso -osirrox on -indev "$1" -extract "$2" "$3" >/dev/null 2>&1 ||
        fail "cannot extract $2 from $1"
    chmod u+w "$3"
}

# check_iso_shape IN OUT: same El Torito entries (xorriso), plain ISO 9660 with the same ids
# (isoinfo), upper-case 8.3 names only
check_iso_shape() {
    xorriso -indev "$1" -report_el_torito plain 2>/dev/null | grep '^El Torito' >shape.in ||
        fail "xorriso cannot read $1"
    xorriso -indev "$2" -report_el_torito plain 2>/dev/null | grep '^El Torito' >shape.out ||
        fail "xorriso cannot read $2"
    [ "$(grep -c '^El Torito boot img' shape.out)" -eq 2 ] || fail "$2: not two boot images"
    grep '^El Torito img path' shape.in >shape.a
    grep '^El Torito img path' shape.out >shape.b
    cmp -s shape.a shape.b || fail "$2: the El Torito boot images differ from the input's"
    grep '^El Torito boot img' shape.in | awk '{ print $5, $6, $7, $8, $9, $10, $11 }' >shape.a
    grep '^El Torito boot img' shape.out | awk '{ print $5, $6, $7, $8, $9, $10, $11 }' >shape.b
    cmp -s shape.a shape.b || fail "$2: the El Torito entries differ from the input's"
    isoinfo -d -i "$1" | grep -E '^(Volume id|Application id|System id|NO Joliet|NO Rock)' >shape.a
    isoinfo -d -i "$2" | grep -E '^(Volume id|Application id|System id|NO Joliet|NO Rock)' >shape.b
    grep -q '^NO Joliet present' shape.b || fail "$2 has Joliet"
    grep -q '^NO Rock Ridge present' shape.b || fail "$2 has Rock Ridge"
    cmp -s shape.a shape.b || { diff shape.a shape.b >&2; fail "$2: volume ids differ"; }
    isoinfo -f -i "$2" >shape.files || fail "isoinfo -f $2"
    ! grep -q '[a-z]' shape.files || fail "$2 has a lower-case name"
    ! grep -Eq '/[^/;]{9,}\.' shape.files || fail "$2 has a name longer than 8.3"
}

# check_edit IN OUT [check-edit.py options]: the edited image against its input, independently
check_edit() {
    python3 "$GEN_DIR/check-edit.py" "$@" >check.out 2>&1 ||
        { cat check.out >&2; fail "check-edit: $*"; }
}

# check_info OUT ACCEPTANCE: esximg info reports no problem and the acceptance; the image is
# not ready for Secure Boot when the level is community (the generated images are signed and
# partner: ready otherwise, unless the test added unsigned VIBs, which it checks itself)
check_info() {
    "$ESXIMG" info "$1" >info.out 2>info.err ||
        { cat info.out info.err >&2; fail "esximg info $1"; }
    grep -Eq '^problems: +none$' info.out || { cat info.out >&2; fail "info reports problems"; }
    grep -Eq "^acceptance: +$2\$" info.out ||
        { cat info.out >&2; fail "acceptance is not $2"; }
    if [ "$2" = community ]; then
        grep -Eq '^secure boot: +not ready: UEFI Secure Boot must be off' info.out ||
            fail "ready for Secure Boot with community VIBs"
    fi
    "$ESXIMG" info --verify "$1" >info.out 2>info.err ||
        { cat info.out info.err >&2; fail "esximg info --verify $1"; }
}

# check_ls OUT NAME NEWMODS: `ls --json` lists VIB NAME in the profile, each payload with a
# module of the right size, and those modules are the ones in the file NEWMODS (one a line,
# BOOT.CFG spelling)
check_ls() {
    "$ESXIMG" ls --json "$1" >ls.json 2>ls.err || { cat ls.err >&2; fail "esximg ls --json $1"; }
    python3 - "$2" "$3" <<'PY' || fail "ls --json does not list $2 with its modules"
import json, sys
name, newmods = sys.argv[1], sys.argv[2]
j = json.load(open('ls.json'))
vibs = [v for v in j['vibs'] if v['name'] == name]
assert len(vibs) == 1, [v['name'] for v in j['vibs']]
v = vibs[0]
assert v['in_profile'] is True, v
mods = set()
for p in v['payloads']:
    assert p['module'] and p['module_size'] == p['size'], p
    mods.add(p['module'].lower())
want = set(l.strip() for l in open(newmods) if l.strip())
assert mods <= want and mods, (mods, want)
PY
}

# check_unchanged FILE SHA: FILE still has that sha-256
check_unchanged() {
    [ "$(sha "$1")" = "$2" ] || fail "$1 changed"
}
