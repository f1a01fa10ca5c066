#!/bin/sh
# t4000: `esximg info` on generated 6.7, 7.0 and 8.0 installer images says what the generator
# put in (its --manifest): version, build, profile, acceptance, VIB count, boot modes, kernel
# options, BOOT.CFG modules, no problems, exit 0; in text and in JSON.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# check_info_json JSON MANIFEST: every key of `info --json` against the manifest
check_info_json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
def eq(key, got, want):
    if got != want:
        sys.exit('%s: got %r, want %r' % (key, got, want))
want_keys = ['file', 'volume_id', 'application_id', 'version', 'build', 'profile',
             'base_image', 'addon', 'vib_count',
             'community_vibs', 'secure_boot', 'boot', 'kernel', 'kernelopt', 'modules',
             'problems']
eq('keys', list(j), want_keys)
eq('file', j['file'], m['iso'])
eq('volume_id', j['volume_id'], m['volume_id'])
eq('application_id', j['application_id'], 'ESXIMAGE')
eq('version', j['version'], m['esxi_version'])
eq('build', j['build'], m['build'])
eq('profile.name', j['profile']['name'], m['profile']['name'])
eq('profile.creator', j['profile']['creator'], m['profile']['creator'])
eq('profile.acceptance', j['profile']['acceptance'], m['profile']['acceptance'])
eq('profile keys', list(j['profile']), ['name', 'creator', 'acceptance', 'description', 'file'])
# the generator's image databases carry no base image or add-on record
eq('base_image', j['base_image'], None)
eq('addon', j['addon'], None)
eq('vib_count', j['vib_count'], len(m['vibs']))
eq('community_vibs', j['community_vibs'],
   any(v['acceptance'] == 'community' for v in m['vibs']))
# the generator signs every VIB above community
eq('secure_boot', j['secure_boot'],
   {'ready': True, 'blockers': []} if all(v['acceptance'] != 'community' for v in m['vibs'])
   else j['secure_boot'])
eq('boot.bios', j['boot']['bios'], True)
eq('boot.uefi', j['boot']['uefi'], True)
eq('boot.entries', [(e['platform'], e['path'], e['boot_info_table']) for e in j['boot']['entries']],
   [('bios', '/ISOLINUX.BIN', True), ('uefi', '/EFIBOOT.IMG', False)])
eq('boot.entries[0].load_size', j['boot']['entries'][0]['load_size'], 4)
eq('kernel', j['kernel'], m['kernel'])
eq('kernelopt', j['kernelopt'], m['kernelopt'])
eq('modules', j['modules'], m['modules'])
eq('problems', j['problems'], [])
for k, v in j.items():
    if isinstance(v, float):
        sys.exit('%s is a float' % k)
print('info json ok: %d vibs, %d modules' % (j['vib_count'], len(j['modules'])))
PY
}

# mget MANIFEST EXPR: one value of the manifest (a Python expression over m)
mget() {
    python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1" "$2"
}

for v in 6.7 7.0 8.0; do
    step "build $v with a manifest"
    expect_ok python3 "$GEN" --version "$v" -o "esx$v.iso" --manifest "m$v.json"

    step "$v: info (text) names what the generator put in"
    expect_ok "$ESXIMG" info "esx$v.iso"
    ver=$(mget "m$v.json" "m['esxi_version']")
    build=$(mget "m$v.json" "m['build']")
    profile=$(mget "m$v.json" "m['profile']['name']")
    nvibs=$(mget "m$v.json" "len(m['vibs'])")
    nmods=$(mget "m$v.json" "len(m['modules'])")
    kopt=$(mget "m$v.json" "m['kernelopt']")
    expect_grep "^file: +esx$v\\.iso\$" out
    expect_grep "^esxi version: +$ver \\(build $build\\)\$" out
    expect_grep "^image profile: +$profile\$" out
    expect_grep "^vendor: +VMware, Inc\\.\$" out
    expect_grep '^acceptance: +partner$' out
    expect_grep "^vibs: +$nvibs\$" out
    expect_grep '^boot: +bios uefi$' out
    expect_grep '^kernel: +/b\.b00$' out
    expect_grep "^kernel options: +$kopt\$" out
    expect_grep "^modules: +$nmods\$" out
    expect_grep '^problems: +none$' out
    expect_grep '^secure boot: +ready \(every VIB signed, none community-supported\)$' out
    [ ! -s err ] || fail "info wrote to stderr: $(cat err)"

    step "$v: kernelopt is the one of $v"
    case $v in
    6.7) expect_grep '^kernel options: +runweasel$' out ;;
    7.0) expect_grep '^kernel options: +cdromBoot runweasel$' out ;;
    8.0) expect_grep '^kernel options: +runweasel cdromBoot$' out ;;
    esac

    step "$v: info --json equals the manifest"
    expect_ok "$ESXIMG" info --json "esx$v.iso"
    cp out "info$v.json"
    expect_ok check_info_json "info$v.json" "m$v.json"

    step "$v: info --verify hashes every module and finds nothing"
    expect_ok "$ESXIMG" info --verify "esx$v.iso"
    expect_grep '^problems: +none$' out

    step "$v: the output is deterministic"
    expect_ok "$ESXIMG" info --json "esx$v.iso"
    expect_same_file out "info$v.json"
done

step "6.7 and 8.0: build= of BOOT.CFG is not where the version comes from (esx-base is)"
expect_ok python3 -c '
import json, sys
j = json.load(open("info6.7.json"))
sys.exit(0 if j["version"] == "6.7.0" and j["build"] == "8169922" else "6.7: %r" % j)'

step "a padded image (partner VIB esximg-pad) opens the same way"
expect_ok python3 "$GEN" --version 8.0 --pad-mib 2 -o pad.iso --manifest mpad.json
expect_ok "$ESXIMG" info --json pad.iso
cp out infopad.json
expect_ok check_info_json infopad.json mpad.json
expect_grep '"/pad\.v00"' infopad.json
expect_ok "$ESXIMG" info --verify pad.iso

step "a vmklinux VIB on 7.0 or later never loads: a problem there, none on 6.7"
expect_ok python3 "$GEN" --version 8.0 --vmklinux -o vmk8.iso
expect_exit 3 "$ESXIMG" info vmk8.iso
expect_grep "^problems: +2$" out
expect_grep "^  VIB 'VMW_bootbank_net-e1000_[^']*' is a vmklinux driver: ESXi 8\.0 has no vmklinux, it will never load$" out
expect_grep "^  VIB 'VMW_bootbank_net-e1000e_[^']*' is a vmklinux driver: ESXi 8\.0 has no vmklinux, it will never load$" out
expect_ok "$ESXIMG" ls esx6.7.iso
expect_grep '^net-e1000 ' out

step "misuse: no ISO, two ISOs, an unknown option"
expect_exit 2 "$ESXIMG" info
expect_grep '^usage: esximg info' err
expect_exit 2 "$ESXIMG" info esx7.0.iso esx8.0.iso
expect_exit 2 "$ESXIMG" info --frobnicate esx7.0.iso
expect_exit 0 "$ESXIMG" info --help
expect_grep '^usage: esximg info' out

done_testing
