#!/bin/sh
# t4103: drivers that do not load for what their module is, not for what their map says.
# - An ESXi-Arm driver (the generator's --foreign-driver: an AArch64 module, a native map
#   claiming 10ec:8168) built into an x86 image: `hcl` lists its claim but never counts the
#   device as driven, and says why (text and --json); `ls --drivers` warns and marks its entries.
# - Boot payloads carry no maps: `ls --drivers` and `hcl` say nothing about them (the
#   generator's esx-base names a map in its file-list, like a real one, and has 4 boot payloads).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_edit_tools

step "a 7.0 image with an ESXi-Arm driver built in"
gen_image 7.0 arm.iso --foreign-driver --manifest m.json

step "hcl: 10ec:8168 is claimed by rp1gem only, which does not load: exit 3, the reason named"
expect_exit 3 "$ESXIMG" hcl arm.iso --pci 10ec:8168/0200 --pci 8086:10d3/0200
expect_grep '^- +10ec:8168/0200 +network +rp1gem \(native\) +will not load ' out
expect_grep '^- +8086:10d3/0200 +network +ne1000 \(native\) +ok ' out
expect_grep '^network: 1 of 2 driven' out
expect_grep "^note: a device is claimed only by 'rp1gem', whose VIB 'RP1GEM_bootbank_rp1gem_0\\.0\\.214-1' holds 'usr/lib/vmware/vmkmod/rp1gem_mmio', built for AArch64: it does not load on this x86-64 image\$" out
expect_no_grep 'is not read for driver maps' err

step "hcl --json: the claim says it does not load and why; the whole host as the manifest says"
python3 "$GEN_DIR/mkesxiso.py" --print-host >host.txt
expect_exit 3 "$ESXIMG" hcl arm.iso --lspci host.txt --json
cp out hcl.json
expect_ok python3 - hcl.json m.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
if (j['machine'], j['machine_from_kernel']) != ('x86-64', False):
    sys.exit('machine %r %r' % (j['machine'], j['machine_from_kernel']))
devs = {d['slot']: d for d in j['devices']}
for h in m['host']:
    d = devs[h['slot']]
    if (d['verdict'], d['driver']) != (h['verdict'], h['driver']):
        sys.exit('%s: %r %r, want %r %r' % (h['slot'], d['verdict'], d['driver'],
                                            h['verdict'], h['driver']))
rt = devs['00:05.0']
want = [{'driver': 'rp1gem', 'map_class': 'native', 'vib_id': 'RP1GEM_bootbank_rp1gem_0.0.214-1',
         'loads': False, 'why_not': 'foreign_machine',
         'foreign_file': 'usr/lib/vmware/vmkmod/rp1gem_mmio', 'foreign_machine': 'AArch64'}]
if rt['verdict'] != 'will_not_load' or rt['claims'] != want:
    sys.exit('00:05.0: %r' % rt)
if j['summary']['network']['driven'] != sum(h['verdict'] == 'driven' for h in m['host']
                                            if h['kind'] == 'network'):
    sys.exit('summary %r' % j['summary'])
if j['warnings']:
    sys.exit('warnings %r' % j['warnings'])
PY

step "ls --drivers: the rp1gem entries are listed, marked, and warned about; no boot payload noise"
expect_ok "$ESXIMG" ls --drivers arm.iso
expect_grep '^rp1gem +native +10ec:8168 +RP1GEM\.V00 ' out
expect_grep "warning: VIB 'RP1GEM_bootbank_rp1gem_0\\.0\\.214-1' holds 'usr/lib/vmware/vmkmod/rp1gem_mmio' \\(in /RP1GEM\\.V00\\), built for AArch64: its drivers do not load on this x86-64 image" err
expect_no_grep 'is not read for driver maps' err
expect_ok "$ESXIMG" ls --drivers --json arm.iso
cp out drv.json
expect_ok python3 - drv.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
marks = {(e['driver'], e['foreign_machine']) for e in j['drivers']}
if ('rp1gem', 'AArch64') not in marks or any(m for d, m in marks if d != 'rp1gem'):
    sys.exit('foreign marks %r' % marks)
if j['problems']:
    sys.exit('problems %r' % j['problems'])
PY

step "an image without it: no warning at all from ls --drivers and hcl (esx-base's boot payloads)"
gen_image 8.0 plain.iso
expect_ok "$ESXIMG" ls --drivers plain.iso
[ ! -s err ] || { cat err >&2; fail "ls --drivers warned"; }
expect_ok "$ESXIMG" hcl plain.iso --pci 8086:10d3/0200
[ ! -s err ] || { cat err >&2; fail "hcl warned"; }
