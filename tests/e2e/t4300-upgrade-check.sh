#!/bin/sh
# t4300: `esximg upgrade-check` on generated 6.7/7.0 images.  The real 6.7U3 host of the
# samples whose upgrade to 7.0 failed on net55-r8168: its `vib get` against a generated 7.0
# image gives ESXi's own DependencyError lines (compared with the real ones) and exit 3; its
# `vib list` names the kept VIBs as not checked (exit 0).  Then a kept VIB whose depends the
# image meets, a conflict, the JSON keys, standard input, and input that is no esxcli output.
. "$(dirname "$0")/lib.sh"

need_samples
need_image_tools
export SOURCE_DATE_EPOCH=1600000000
OUT=$ESXIMG_SAMPLES/esxi-host-outputs
GET=$OUT/esxcli-software-vib-get/yuangezhizao-www-net55-r8168.txt
LIST=$OUT/esxcli-software-vib-list/yuangezhizao-www-esxi670u3-with-net55-r8168.txt
REAL=$OUT/extras/esxcli-software-vib-update-dependencyerror/yuangezhizao-www-670u3-to-700-net55-r8168.txt

step "generate 6.7 and 7.0 images"
python3 "$GEN" --version 7.0 -o 70.iso >/dev/null
python3 "$GEN" --version 6.7 -o 67.iso >/dev/null

step "6.7U3 -> 7.0: net55-r8168 blocks, in ESXi's words"
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs "$GET"
cp out report.txt
grep '^  VIB ' report.txt | sed 's/^  //' >ours.txt
grep '^ VIB ' "$REAL" | sed 's/^ //' >theirs.txt
expect_lines 2 theirs.txt
expect_same_file theirs.txt ours.txt
expect_grep '^  net55-r8168 +8\.045a-napi +kept \(not in the image, vmklinux\)$' report.txt
expect_grep '^acceptance: the image is PartnerSupported; the upgraded host needs CommunitySupported \(kept below the image.s: net55-r8168 CommunitySupported\)$' report.txt
tail -1 report.txt >last.txt
expect_grep '^verdict: the upgrade to ESXi 7\.0\.2 would FAIL: remove net55-r8168 from the host first \(`esxcli software vib remove -n net55-r8168`; a vmklinux driver' last.txt

step "6.7 image: vmkapi_2_2_0_0 is there, the vmklinux API is not (no shim VIB)"
expect_exit 3 "$ESXIMG" upgrade-check 67.iso --vibs "$GET"
expect_no_grep 'requires vmkapi_2_2_0_0' out
expect_grep 'requires com\.vmware\.driverAPI-9\.2\.2\.0, but' out

step "the vib list alone: kept VIBs named as not checked, exit 0"
expect_ok "$ESXIMG" upgrade-check 70.iso --vibs "$LIST"
expect_grep '^host VIBs: 144 ' out
expect_grep '^  esx-base +6\.7\.0-3\.89\.15160138 +updated to 7\.0\.2-0\.0\.17630552$' out
# the test image's ne1000 is older than the one 6.7U3 installed
expect_grep '^  ne1000 +0\.8\.4-2vmw\.670\.2\.48\.13006603 +DOWNGRADED to 0\.8\.3-4vmw\.702\.0\.0\.17630552$' out
expect_grep '^not checked: 139 kept entries without relations in .*: net55-r8168 ' out
expect_grep 'esxcli software vib get > vibs\.txt' out
expect_grep '^verdict: the upgrade to ESXi 7\.0\.2 would go through: 1 VIBs updated, 0 the same, 4 downgraded, 0 replaced, 139 kept \(139 kept not checked' out

step "a kept VIB whose depends the image meets passes; a conflict fails"
cat >ok.txt <<'V'
ACME_bootbank_acme-nic_1.0-1
   Name: acme-nic
   Version: 1.0-1
   Type: bootbank
   Vendor: ACME
   Acceptance Level: PartnerSupported
   Depends: vmkapi_2_8_0_0, esx-version >= 7.0.0
   Conflicts: 
   Replaces: 
   Provides: 
V
expect_ok "$ESXIMG" upgrade-check 70.iso --vibs ok.txt
expect_grep '^problems: none$' out
expect_grep '^verdict: the upgrade to ESXi 7\.0\.2 would go through: 0 VIBs updated, 0 the same, 0 downgraded, 0 replaced, 1 kept$' out
sed 's/^   Conflicts: $/   Conflicts: ne1000/' ok.txt >conflict.txt
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs conflict.txt
expect_grep '^  VIB ACME_bootbank_acme-nic_1\.0-1 conflicts with VMW_bootbank_ne1000_0\.8\.3-4vmw\.702\.0\.0\.17630552 \(ne1000\)\.$' out
sed 's/vmkapi_2_8_0_0/vmkapi_2_9_0_0/' ok.txt >newer.txt
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs newer.txt
expect_grep '^  VIB ACME_bootbank_acme-nic_1\.0-1 requires vmkapi_2_9_0_0, but the requirement cannot be satisfied within the ImageProfile\.$' out

step "--json: keys, fates, problems; standard input reads alike"
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs - --json <"$GET"
python3 - out <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
if list(j) != ['file', 'vibs_file', 'version', 'vibs', 'devices', 'fails', 'verdict',
               'warnings'] or j['devices'] is not None:
    sys.exit('top keys %r' % list(j))
v = j['vibs']
if list(v) != ['form', 'entries', 'counts', 'problems', 'acceptance']:
    sys.exit('vibs keys %r' % list(v))
e = v['entries'][0]
if (v['form'], e['name'], e['fate'], e['checked'], e['vmklinux'], e['problems'],
        e['acceptance'], j['vibs_file']) != ('vib get', 'net55-r8168', 'kept', True, True, 2,
                                            'community', 'standard input'):
    sys.exit('entry %r' % e)
if [p['constraint'] for p in v['problems']] != ['vmkapi_2_2_0_0',
                                                'com.vmware.driverAPI-9.2.2.0']:
    sys.exit('problems %r' % v['problems'])
if v['acceptance'] != {'image': 'partner', 'upgraded_host': 'community'} or not j['fails']:
    sys.exit('acceptance %r fails %r' % (v['acceptance'], j['fails']))
if v['counts'] != {'updated': 0, 'same': 0, 'downgraded': 0, 'replaced': 0, 'kept': 1,
                   'unchecked': 0}:
    sys.exit('counts %r' % v['counts'])
PY

step "--host: the devices of the 6.7U3 host in the same report, as hcl judges them"
# the test host (mkesxiso.py --print-host) as ESXi 6.7 prints it: the Realtek NIC runs on
# net55-r8168's r8168 now, the 82574L on e1000e (vmklinux)
cat >host-p.txt <<'HOST'
Segm:Bu:De.F Vend:Dvid Subv:Subd ISA/irq/Vect P M Module       Name
0000:00:03.0 8086:10d3 8086:a01f 255/   /     A V e1000e       vmnic0
0000:00:05.0 10ec:8168 10ec:0123 255/   /     A V r8168        vmnic1
0000:00:1f.2 8086:2922 8086:2922 255/   /     A V vmw_ahci     vmhba0
HOST
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs "$GET" --host host-p.txt
cp out host-report.txt
expect_grep '^host devices:$' host-report.txt
expect_grep '^0000:00:03\.0 +8086:10d3:8086:a01f +network +e1000e +ne1000 \(native\) +changes driver ' host-report.txt
expect_grep '^0000:00:05\.0 +10ec:8168:10ec:0123 +network +r8168 +- +LOSES it' host-report.txt
tail -1 host-report.txt >last.txt
expect_grep '; 0000:00:05\.0 \(vmnic1, driver r8168 now\) loses its driver: add one that loads on ESXi 7\.0\.2 to the image \(`esximg edit 70\.iso -o NEW\.iso --add PKG`\)$' last.txt
expect_grep '^verdict: the upgrade to ESXi 7\.0\.2 would FAIL: remove net55-r8168 ' last.txt
# the same in JSON: the device part is hcl's
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs "$GET" --host host-p.txt --json
cp out host.json
expect_ok python3 - <<'PY'
import json, sys
j = json.load(open('host.json'))
if list(j) != ['file', 'vibs_file', 'version', 'vibs', 'devices', 'fails', 'verdict',
               'warnings']:
    sys.exit('keys %r' % list(j))
d = {x['slot']: x for x in j['devices']['devices']}
want = {'0000:00:03.0': 'changes', '0000:00:05.0': 'loses', '0000:00:1f.2': 'keeps'}
got = {k: v['transition'] for k, v in d.items()}
if got != want or j['devices']['summary']['loses'] != 1 or not j['fails']:
    sys.exit('devices %r loses %r' % (got, j['devices']['summary']['loses']))
PY
# a host whose VIBs pass but whose NIC loses its driver still fails, for the NIC alone
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs ok.txt --host host-p.txt
tail -1 out >last.txt
expect_grep '^verdict: the upgrade to ESXi 7\.0\.2 would FAIL: 0000:00:05\.0 \(vmnic1, driver r8168 now\) loses its driver' last.txt
# --disable ne1000 on 7.0: the 82574L loses its driver as well
expect_exit 3 "$ESXIMG" upgrade-check 70.iso --vibs ok.txt --host host-p.txt --disable ne1000
expect_grep '^disabled on the host: ne1000$' out
expect_grep '0000:00:03\.0 \(vmnic0, driver e1000e now\) loses its driver' out
# without --host the report has no device part; --disable alone is a usage error
expect_ok "$ESXIMG" upgrade-check 70.iso --vibs ok.txt --json
expect_grep '"devices": null' out
expect_exit 2 "$ESXIMG" upgrade-check 70.iso --vibs ok.txt --disable ne1000

step "what is not esxcli output: an error naming the file; unreadable lines are warnings"
printf 'hello\n' >junk.txt
expect_exit 1 "$ESXIMG" upgrade-check 70.iso --vibs junk.txt
expect_grep '^esximg: junk\.txt: no VIB or component found' err
{ head -3 "$LIST"; echo " [DependencyError]"; } >mixed.txt
expect_ok "$ESXIMG" upgrade-check 70.iso --vibs mixed.txt
expect_grep '^esximg: warning: mixed\.txt: line 4: not a row of esxcli software vib or component list' err
expect_exit 2 "$ESXIMG" upgrade-check 70.iso
expect_exit 1 "$ESXIMG" upgrade-check nothere.iso --vibs "$GET"
expect_grep '^esximg: nothere\.iso: cannot open: No such file or directory$' err

done_testing
