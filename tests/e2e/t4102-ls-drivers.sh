#!/bin/sh
# t4102: `esximg ls --drivers` lists every driver map entry the generator put in each image
# (its --manifest): driver, map class (native/vmklinux), id, VIB, module, map file and line,
# with names from the image's .ids files.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# check_drivers LS_JSON MANIFEST
check_drivers() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
if list(j) != ['file', 'drivers', 'problems']:
    sys.exit('top keys %r' % list(j))
if j['problems']:
    sys.exit('problems: %r' % j['problems'])

def field(s):
    return '*' if set(s) == {'.'} else s

def id_text(bus, raw):
    """The id as esximg prints it, computed here from the raw map id."""
    if bus != 'pci':
        return '%s:%s' % (bus, raw)
    if len(raw) == 22:
        p = raw.lower()
    else:
        vd, sub = raw.split(None, 1)
        sub = sub.strip()
        p = (vd.replace(':', '') + ('........' if sub == '0000:0000' else sub.replace(':', ''))
             + '......').lower()
    v, d, sv, sd, c = p[0:4], p[4:8], p[8:12], p[12:16], p[16:22]
    t = '%s:%s' % (field(v), field(d))
    if field(sv) != '*' or field(sd) != '*':
        t += ':%s:%s' % (field(sv), field(sd))
    if field(c) != '*':
        t += '/' + c
    return t

keys = ['driver', 'map_class', 'id', 'bus', 'vendor_name', 'device_name', 'vib_id', 'module',
        'map', 'line', 'foreign_machine']
got = []
for e in j['drivers']:
    if list(e) != keys:
        sys.exit('keys %r' % list(e))
    if e['foreign_machine'] is not None:
        sys.exit('foreign machine %r' % e)
    got.append((e['driver'], e['map_class'], e['id'], e['bus'], e['vib_id'], e['module'],
                e['map'], e['line']))
want = [(e['driver'], e['map_class'], id_text(e['bus'], e['raw_id']), e['bus'], e['vib_id'],
         e['module'], e['map'], e['line']) for e in m['drivers']]
if got != want:
    for g, w in zip(got, want):
        if g != w:
            sys.exit('first difference: got %r, want %r' % (g, w))
    sys.exit('%d entries, want %d' % (len(got), len(want)))
by = {}
for e in j['drivers']:
    by.setdefault((e['driver'], e['id']), e)
def name(drv, i, vendor, device):
    e = by.get((drv, i))
    if e is None:
        sys.exit('no entry %s %s' % (drv, i))
    if (e['vendor_name'], e['device_name']) != (vendor, device):
        sys.exit('%s %s: names %r %r' % (drv, i, e['vendor_name'], e['device_name']))
name('ne1000', '8086:10d3', 'Intel Corporation', '82574L Gigabit Network Connection')
name('e1000e', '8086:10d3', 'Intel Corporation', '82574L Gigabit Network Connection')
name('e1000', '8086:100e', 'Intel Corporation', '82540EM Gigabit Ethernet Controller')
name('nvme', '*:*/010802', None, None)
name('vmw_ahci', '*:*/010601', None, None)
name('vmw_ahci', 'acpi:010601', None, None)
name('atlantic', '1d6a:07b1', 'Aquantia Corp.',
     'AQC107 NBase-T/IEEE 802.3bz Ethernet Controller [AQtion]')
classes = {(e['driver'], e['map_class']) for e in j['drivers']}
if classes != {('atlantic', 'native'), ('ne1000', 'native'), ('nvme', 'native'),
               ('vmw_ahci', 'native'), ('e1000', 'vmklinux'), ('e1000e', 'vmklinux')}:
    sys.exit('drivers and classes: %r' % sorted(classes))
print('drivers ok: %d entries' % len(got))
PY
}

for v in 6.7 7.0 8.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" --vmklinux -o "esx$v.iso" --manifest "m$v.json"

    step "$v: ls --drivers --json lists every map entry of the manifest, in order"
    expect_ok "$ESXIMG" ls --drivers --json "esx$v.iso"
    mv out "drv$v.json"
    expect_ok check_drivers "drv$v.json" "m$v.json"

    step "$v: ls --drivers (text): the drivers, their classes and modules"
    expect_ok "$ESXIMG" ls --drivers "esx$v.iso"
    mv out "drv$v.txt"
    [ ! -s err ] || fail "warnings: $(cat err)"
    expect_grep '^DRIVER +CLASS +ID +MODULE +NAME$' "drv$v.txt"
    expect_grep '^ne1000 +native +8086:10d3 +NE1000\.V00 +Intel Corporation 82574L Gigabit Network Connection$' "drv$v.txt"
    expect_grep '^e1000 +vmklinux +8086:100e +NET_E100\.V00 +Intel Corporation 82540EM' "drv$v.txt"
    expect_grep '^e1000e +vmklinux +8086:10d3 +NET_E100\.V01 ' "drv$v.txt"
    expect_grep '^nvme +native +\*:\*/010802 +NVME\.V00 *$' "drv$v.txt"
    expect_grep '^vmw_ahci +native +\*:\*/010601 +VMW_AHCI\.V00 *$' "drv$v.txt"
    expect_grep '^vmw_ahci +native +acpi:010601 +VMW_AHCI\.V00 *$' "drv$v.txt"
    expect_grep '^atlantic +native +1d6a:07b1 +ATLANTIC\.V00 +Aquantia Corp\. ' "drv$v.txt"
    expect_lines "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["drivers"]) + 1)' "m$v.json")" "drv$v.txt"
done

step "the vmklinux drivers are listed on 7.0/8.0 too: the listing is what the image holds"
expect_grep '^e1000 +vmklinux ' drv8.0.txt

step "a padded image: the pad VIB ships no map and is not read (same listing)"
expect_ok python3 "$GEN" --version 7.0 --vmklinux --pad-mib 3 -o pad.iso --manifest mpad.json
expect_ok "$ESXIMG" ls --drivers pad.iso
expect_same_file out drv7.0.txt

step "the output is deterministic"
expect_ok "$ESXIMG" ls --drivers --json esx6.7.iso
expect_same_file out drv6.7.json

done_testing
