#!/bin/sh
# t4200: `esximg hcl` checks the test host (mkesxiso.py --print-host) against 6.7, 7.0 and 8.0
# images: e1000 (8086:100e) is driven by vmklinux e1000 on 6.7 and will not load on 7.0/8.0;
# 8086:10d3 goes to native ne1000 although vmklinux e1000e lists it too; the NVMe controller is
# claimed through nvme's class-only line; the Realtek NIC has no driver (exit 3); AHCI goes to
# vmw_ahci.  Then the other device-list forms: --pci, lspci -nn and -vmmnn, standard input.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

# check_hcl HCL_JSON MANIFEST: every device against the manifest's expected verdicts
check_hcl() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
if list(j) != ['file', 'version', 'machine', 'machine_from_kernel', 'disabled', 'devices',
               'summary', 'headline', 'warnings']:
    sys.exit('top keys %r' % list(j))
if j['version'] != m['esxi_version'] or j['warnings']:
    sys.exit('version %r, warnings %r' % (j['version'], j['warnings']))
keys = ['slot', 'id', 'vendor', 'device', 'subvendor', 'subdevice', 'class', 'progif', 'kind',
        'name', 'verdict', 'driver', 'map_class', 'vib_id', 'module', 'rule', 'inferred',
        'claims', 'vmkernel_name', 'driver_now', 'driver_now_known', 'driver_now_class',
        'transition']
devs = {d['slot']: d for d in j['devices']}
if [d['slot'] for d in j['devices']] != [h['slot'] for h in m['host']]:
    sys.exit('slots %r' % [d['slot'] for d in j['devices']])
vibs = {v['name']: v for v in m['vibs']}
for h in m['host']:
    d = devs[h['slot']]
    if list(d) != keys:
        sys.exit('%s: keys %r' % (h['slot'], list(d)))
    vid, did = (int(x, 16) for x in h['id'].split(':'))
    want = {'vendor': vid, 'device': did, 'subvendor': None, 'subdevice': None,
            'class': h['class'], 'progif': h['progif'], 'kind': h['kind'],
            'verdict': h['verdict'], 'driver': h['driver'], 'map_class': h['map_class']}
    for k, w in want.items():
        if d[k] != w:
            sys.exit('%s: %s %r, want %r' % (h['slot'], k, d[k], w))
    claims = sorted({(c['driver'], c['map_class']) for c in d['claims']})
    if claims != sorted(tuple(c) for c in h['claims']):
        sys.exit('%s: claims %r, want %r' % (h['slot'], claims, h['claims']))
    for c in d['claims']:
        if c['loads'] != (c['map_class'] != 'vmklinux' or j['version'].startswith('6.')):
            sys.exit('%s: claim %r' % (h['slot'], c))
        if c['why_not'] != (None if c['loads'] else 'vmklinux') or c['foreign_file'] is not None:
            sys.exit('%s: claim %r' % (h['slot'], c))
    if d['driver']:
        vib = [v for v in m['vibs'] if v['vib_id'] == d['vib_id']]
        if not vib or d['module'] != vib[0]['payloads'][0]['module']:
            sys.exit('%s: vib %r module %r' % (h['slot'], d['vib_id'], d['module']))
    elif d['vib_id'] is not None or d['module'] is not None or d['rule'] != 'none':
        sys.exit('%s: no driver but vib/module/rule %r' % (h['slot'], d))
# the rules that decided
rule = {s: (devs[s]['rule'], devs[s]['inferred']) for s in devs}
if rule['00:03.0'] != ('class' if j['version'].startswith('6.') else 'one_driver', False):
    sys.exit('00:03.0 rule %r' % (rule['00:03.0'],))
if rule['00:04.0'] != ('one_driver', False) or rule['00:1f.2'] != ('one_driver', False):
    sys.exit('nvme/ahci rules %r %r' % (rule['00:04.0'], rule['00:1f.2']))
nic = [h for h in m['host'] if h['kind'] == 'network']
disk = [h for h in m['host'] if h['kind'] == 'storage']
want_sum = {'network': {'total': len(nic), 'driven': sum(h['verdict'] == 'driven' for h in nic)},
            'storage': {'total': len(disk), 'driven': sum(h['verdict'] == 'driven' for h in disk)},
            'unknown': {'total': 0, 'driven': 0}, 'loses': 0}
if j['summary'] != want_sum:
    sys.exit('summary %r, want %r' % (j['summary'], want_sum))
if j['headline'] is not None:
    sys.exit('headline %r' % j['headline'])
print('hcl ok: %d devices' % len(devs))
PY
}

# jq_like JSON EXPR: prints a Python expression over the document j
jv() {
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1" "$2"
}

expect_ok python3 "$GEN" --print-host
mv out host.txt

for v in 6.7 7.0 8.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" --vmklinux -o "esx$v.iso" --manifest "m$v.json"

    step "$v: hcl --lspci on the test host: text verdicts, exit 3 (the Realtek NIC)"
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci host.txt
    mv out "hcl$v.txt"
    [ ! -s err ] || fail "stderr: $(cat err)"
    expect_grep "^image: esx$v\\.iso \\(ESXi $v\\.[0-9]\\)\$" "hcl$v.txt"
    if [ "$v" = 6.7 ]; then
        expect_grep '^00:02\.0 +8086:100e/0200 +network +e1000 \(vmklinux\) +ok ' "hcl$v.txt"
        expect_grep '^network: 2 of 3 driven; storage: 2 of 2 driven$' "hcl$v.txt"
        expect_no_grep '^note:' "hcl$v.txt"
    else
        expect_grep '^00:02\.0 +8086:100e/0200 +network +e1000 \(vmklinux\) +will not load ' \
            "hcl$v.txt"
        expect_grep '^network: 1 of 3 driven; storage: 2 of 2 driven$' "hcl$v.txt"
        expect_grep "^note: 00:02\\.0 is claimed only by the vmklinux driver 'e1000', which ESXi $v\\.[0-9] does not load \\(vmklinux was removed in 7\\.0\\)\$" "hcl$v.txt"
    fi
    expect_grep '^00:03\.0 +8086:10d3/0200 +network +ne1000 \(native\) +ok +Intel Corporation 82574L' "hcl$v.txt"
    expect_grep '^00:04\.0 +1b36:0010/010802 +storage +nvme \(native\) +ok' "hcl$v.txt"
    expect_grep '^00:05\.0 +10ec:8168/0200 +network +- +NO DRIVER' "hcl$v.txt"
    expect_grep '^00:1f\.2 +8086:2922/010601 +storage +vmw_ahci \(native\) +ok' "hcl$v.txt"
    expect_grep '^00:00\.0 +8086:29c0/0600 +other +- +unclaimed' "hcl$v.txt"
    expect_grep '^00:01\.0 +1234:1111/0300 +other +- +unclaimed' "hcl$v.txt"
    expect_no_grep 'no network adapter' "hcl$v.txt"

    step "$v: hcl --json equals the manifest's verdicts"
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci host.txt --json
    mv out "hcl$v.json"
    expect_ok check_hcl "hcl$v.json" "m$v.json"

    step "$v: ne1000 wins 8086:10d3 over vmklinux e1000e (class order), e1000e still listed"
    [ "$(jv "hcl$v.json" "[c['driver'] for c in j['devices'][3]['claims']]")" = \
      "['ne1000', 'e1000e']" ] || fail "10d3 claims are not ne1000 then e1000e"

    step "$v: a host with only driven NICs and storage: exit 0"
    if [ "$v" = 6.7 ]; then
        grep -v '10ec:8168' host.txt >good.txt
    else
        grep -v -e '10ec:8168' -e '8086:100e' host.txt >good.txt
    fi
    expect_ok "$ESXIMG" hcl "esx$v.iso" --lspci good.txt
    expect_grep '^network: 1 of 1 driven; storage: 2 of 2 driven$|^network: 2 of 2 driven; storage: 2 of 2 driven$' out

    step "$v: only the Realtek and the e1000 NICs"
    grep -e '10ec:8168' -e '8086:100e' -e '8086:2922' host.txt >bad.txt
    if [ "$v" = 6.7 ]; then
        expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci bad.txt
        expect_no_grep 'no network adapter' out
        expect_grep '^network: 1 of 2 driven; storage: 1 of 1 driven$' out
    else
        expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci bad.txt
        expect_grep '^no network adapter will be found: the installer stops without one$' out
        expect_grep '^network: 0 of 2 driven; storage: 1 of 1 driven$' out
        expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci bad.txt --json
        [ "$(jv out "j['headline']")" = \
          "no network adapter will be found: the installer stops without one" ] ||
            fail "JSON headline"
    fi

    step "$v: no storage controller driven: the storage headline"
    printf '00:03.0 0200: 8086:10d3\n00:06.0 0104: 9005:028f\n' >nodisk.txt
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci nodisk.txt
    expect_grep '^no storage controller will be driven' out

    step "$v: --lspci - reads standard input: same JSON as from the file"
    expect_exit 3 sh -c "'$ESXIMG' hcl 'esx$v.iso' --lspci - --json <host.txt"
    expect_same_file out "hcl$v.json"

    step "$v: --pci forms"
    expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 8086:10d3/0200
    expect_grep ' ne1000 \(native\) +ok ' out
    expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 8086:10d3:15ad:07d0/0200 --json
    [ "$(jv out "(j['devices'][0]['driver'], j['devices'][0]['subvendor'], j['devices'][0]['subdevice'])")" = \
      "('ne1000', 5549, 2000)" ] || fail "10d3 with subsystem 15ad:07d0"
    # NVMe by class and prog-if, by class alone (prog-if assumed), and with no class at all
    expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 1b36:0010/010802
    expect_grep ' nvme \(native\) +ok ' out
    expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 1b36:0010/0108 --json
    [ "$(jv out "(j['devices'][0]['driver'], j['devices'][0]['progif'])")" = "('nvme', None)" ] ||
        fail "NVMe without prog-if"
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --pci 1b36:0010
    expect_grep '^- +1b36:0010 +unknown +- +NO DRIVER' out
    expect_grep 'unknown class: 0 of 1 driven$' out
    # an NVMe device of another prog-if is not claimed by the class line
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --pci 1b36:0010/010803
    expect_grep 'storage +- +NO DRIVER' out
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --pci 10ec:8168/0200
    if [ "$v" = 6.7 ]; then
        expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 8086:100e
        expect_grep ' unknown +e1000 \(vmklinux\) +ok ' out
    else
        expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --pci 8086:100e --json
        [ "$(jv out "(j['devices'][0]['kind'], j['devices'][0]['verdict'], j['summary']['unknown'])")" = \
          "('unknown', 'will_not_load', {'total': 1, 'driven': 0})" ] ||
            fail "8086:100e without class on $v"
    fi
    expect_ok "$ESXIMG" hcl "esx$v.iso" --pci 8086:10d3/0200 --pci 8086:2922/010601
    expect_lines 5 out
    # --pci and --lspci together: the listed devices after the --pci ones
    expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --pci 8086:10d3/0200 --lspci host.txt --json
    [ "$(jv out "len(j['devices'])")" = 8 ] || fail "--pci with --lspci"
done

step "lspci -nn and -vmmnn forms give the same verdicts as lspci -n"
cat >host-nn.txt <<'LSPCI'
00:00.0 Host bridge [0600]: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller [8086:29c0]
00:01.0 VGA compatible controller [0300]: Device [1234:1111] (rev 02)
00:02.0 Ethernet controller [0200]: Intel Corporation 82540EM Gigabit Ethernet Controller [8086:100e] (rev 03)
00:03.0 Ethernet controller [0200]: Intel Corporation 82574L Gigabit Network Connection [8086:10d3]
00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. QEMU NVM Express Controller [1b36:0010] (rev 02) (prog-if 02 [NVM Express])
00:05.0 Ethernet controller [0200]: Realtek Semiconductor Co., Ltd. RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller [10ec:8168] (rev 15)
00:1f.2 SATA controller [0106]: Intel Corporation 82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode] [8086:2922] (rev 02) (prog-if 01 [AHCI 1.0])
LSPCI
cat >host-vmmnn.txt <<'LSPCI'
Slot:	00:00.0
Class:	Host bridge [0600]
Vendor:	Intel Corporation [8086]
Device:	82G33/G31/P35/P31 Express DRAM Controller [29c0]
SVendor:	Red Hat, Inc. [1af4]
SDevice:	QEMU Virtual Machine [1100]

Slot:	00:01.0
Class:	VGA compatible controller [0300]
Vendor:	Device [1234]
Device:	Device [1111]
Rev:	02

Slot:	00:02.0
Class:	Ethernet controller [0200]
Vendor:	Intel Corporation [8086]
Device:	82540EM Gigabit Ethernet Controller [100e]
SVendor:	Red Hat, Inc. [1af4]
SDevice:	QEMU Virtual Machine [1100]
Rev:	03

Slot:	00:03.0
Class:	Ethernet controller [0200]
Vendor:	Intel Corporation [8086]
Device:	82574L Gigabit Network Connection [10d3]
SVendor:	Red Hat, Inc. [1af4]
SDevice:	QEMU Virtual Machine [1100]

Slot:	00:04.0
Class:	Non-Volatile memory controller [0108]
Vendor:	Red Hat, Inc. [1b36]
Device:	QEMU NVM Express Controller [0010]
SVendor:	Red Hat, Inc. [1af4]
SDevice:	QEMU Virtual Machine [1100]
Rev:	02
ProgIf:	02

Slot:	00:05.0
Class:	Ethernet controller [0200]
Vendor:	Realtek Semiconductor Co., Ltd. [10ec]
Device:	RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller [8168]
Rev:	15

Slot:	00:1f.2
Class:	SATA controller [0106]
Vendor:	Intel Corporation [8086]
Device:	82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode] [2922]
SVendor:	Red Hat, Inc. [1af4]
SDevice:	QEMU Virtual Machine [1100]
Rev:	02
ProgIf:	01
LSPCI
for v in 6.7 7.0; do
    for form in nn vmmnn; do
        expect_exit 3 "$ESXIMG" hcl "esx$v.iso" --lspci "host-$form.txt" --json
        mv out "hcl-$form.json"
        [ ! -s err ] || fail "$form: stderr: $(cat err)"
        expect_ok python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
pick = lambda j: [(d["slot"], d["kind"], d["verdict"], d["driver"], d["map_class"])
                  for d in j["devices"]]
sys.exit(0 if pick(a) == pick(b) and a["summary"] == b["summary"]
         else "%r\n%r" % (pick(a), pick(b)))' "hcl-$form.json" "hcl$v.json"
    done
    # -vmmnn gives subsystems, and the names of -nn are used when the image has none
    [ "$(jv hcl-vmmnn.json "(j['devices'][3]['subvendor'], j['devices'][3]['subdevice'])")" = \
      "(6900, 4352)" ] || fail "-vmmnn subsystem"
    [ "$(jv hcl-nn.json "j['devices'][5]['name']")" = \
      "Realtek Semiconductor Co., Ltd. RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller" ] ||
        fail "-nn name of the Realtek NIC"
done

step "a device list with junk lines: warned about, then checked"
{ echo 'this is not lspci output'; cat host.txt; } >junk.txt
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --lspci junk.txt
expect_grep "^esximg: warning: junk\\.txt: line 1: " err
expect_exit 3 sh -c "'$ESXIMG' hcl esx7.0.iso --lspci - <junk.txt"
expect_grep "^esximg: warning: standard input: line 1: " err
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --lspci junk.txt --json
[ "$(jv out "len(j['warnings'])")" = 1 ] || fail "one warning in JSON"

step "misuse and unreadable device lists"
expect_exit 2 "$ESXIMG" hcl esx7.0.iso
expect_exit 2 "$ESXIMG" hcl --pci 8086:10d3
expect_exit 2 "$ESXIMG" hcl esx7.0.iso --pci 8086:10d3/02
expect_grep "^esximg: --pci '8086:10d3/02': " err
expect_exit 2 "$ESXIMG" hcl esx7.0.iso --pci zzzz:10d3
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --lspci missing.txt
expect_grep '^esximg: missing\.txt: ' err
expect_lines 1 err
: >empty.txt
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --lspci empty.txt
expect_grep '^esximg: empty\.txt: no PCI device found' err
expect_exit 1 sh -c "'$ESXIMG' hcl esx7.0.iso --lspci - </dev/null"
expect_grep '^esximg: standard input: ' err
printf '00:03.0 0200: 8086:10d3\n\000\n' >nul.txt
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --lspci nul.txt
expect_grep '^esximg: nul\.txt: .*NUL' err

step "the output is deterministic"
expect_exit 3 "$ESXIMG" hcl esx8.0.iso --lspci host.txt --json
expect_same_file out hcl8.0.json

done_testing
