#!/bin/sh
# t4201: `esximg hcl --host` on what a running ESXi host prints: lspci -p (the driver now) and
# lspci -n (the class) of one host merged by slot; now -> image verdicts on 6.7 and 7.0 images
# (e1000e vmklinux changes to native ne1000, e1000 loses its vmklinux driver on 7.0, r8168
# loses its driver everywhere, NVMe gains one); --disable and --host-modules as
# `esxcli system module set --enabled=false` would; esxcli's Module Name: None and passthrough;
# the real outputs of the samples; unreadable lines named, nothing recognisable refused.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000

jv() {
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1" "$2"
}

# the test host (mkesxiso.py --print-host) as ESXi 6.7 prints it: lspci -p names the drivers
cat >host-p.txt <<'HOST'
Segm:Bu:De.F Vend:Dvid Subv:Subd ISA/irq/Vect P M Module       Name    
0000:00:02.0 8086:100e 8086:001e 255/   /     A V e1000        vmnic0
0000:00:03.0 8086:10d3 8086:a01f 255/   /     A V e1000e       vmnic1
0000:00:04.0 1b36:0010 1af4:1100 255/   /     A V              
0000:00:05.0 10ec:8168 10ec:0123 255/   /     A V r8168        vmnic2
0000:00:1f.2 8086:2922 8086:2922 255/   /     A V vmw_ahci     vmhba0
HOST
cat >host-n.txt <<'HOST'
000:000:02.0 Class 0200: 8086:100e [vmnic0]
000:000:03.0 Class 0200: 8086:10d3 [vmnic1]
000:000:04.0 Class 0108: 1b36:0010
000:000:05.0 Class 0200: 10ec:8168 [vmnic2]
000:000:31.2 Class 0106: 8086:2922 [vmhba0]
HOST
cat >modules.txt <<'MODS'
Name                   Is Loaded  Is Enabled
---------------------  ---------  ----------
vmkernel               true       true
ne1000                 false      false
vmw_ahci               true       true
MODS

for v in 6.7 7.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" --vmklinux -o "esx$v.iso"
done

step "6.7: lspci -p and lspci -n merged: now -> image per device, exit 3 for r8168"
expect_exit 3 "$ESXIMG" hcl esx6.7.iso --host host-p.txt --host host-n.txt
mv out h67.txt
[ ! -s err ] || fail "stderr: $(cat err)"
expect_grep '^SLOT +ID +KIND +NOW +IMAGE +VERDICT +NAME$' h67.txt
expect_grep '^0000:00:02\.0 +8086:100e:8086:001e/0200 +network +e1000 \(vmklinux\) +e1000 \(vmklinux\) +keeps ' h67.txt
expect_grep '^0000:00:03\.0 +8086:10d3:8086:a01f/0200 +network +e1000e \(vmklinux\) +ne1000 \(native\) +changes driver ' h67.txt
expect_grep '^0000:00:04\.0 +1b36:0010:1af4:1100/0108 +storage +- +nvme \(native\) +gains one' h67.txt
expect_grep '^0000:00:05\.0 +10ec:8168:10ec:0123/0200 +network +r8168 +- +LOSES it' h67.txt
expect_grep '^0000:00:1f\.2 +8086:2922:8086:2922/0106 +storage +vmw_ahci \(native\) +vmw_ahci \(native\) +keeps' h67.txt
expect_grep "^note: 0000:00:05\\.0 \\(vmnic2\\) loses its driver 'r8168': no driver of the image claims it\$" h67.txt
expect_grep '^network: 2 of 3 driven; storage: 2 of 2 driven; 1 lose their driver$' h67.txt

step "7.0: e1000 loses its vmklinux driver, e1000e changes to ne1000"
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --host host-p.txt --lspci host-n.txt --json
mv out h70.json
[ "$(jv h70.json "[d['transition'] for d in j['devices']]")" = \
  "['loses', 'changes', 'gains', 'loses', 'keeps']" ] || fail "7.0 transitions"
[ "$(jv h70.json "(j['devices'][0]['driver_now'], j['devices'][0]['driver_now_class'], j['devices'][0]['vmkernel_name'], j['devices'][0]['claims'][0]['why_not'])")" = \
  "('e1000', 'vmklinux', 'vmnic0', 'vmklinux')" ] || fail "7.0 e1000"
[ "$(jv h70.json "(j['summary']['loses'], j['disabled'], j['warnings'], j['headline'])")" = \
  "(2, [], [], 'a network or storage controller the host drives now loses its driver')" ] ||
    fail "7.0 summary $(jv h70.json "j['summary']")"
[ "$(jv h70.json "j['devices'][2]['driver_now_known']")" = True ] || fail "NVMe driver_now_known"
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --host host-p.txt --host host-n.txt
expect_grep "^note: 0000:00:02\\.0 \\(vmnic0\\) loses its driver 'e1000' on ESXi 7\\.0\\.[0-9]: the image's 'e1000' does not load \\(a vmklinux driver, which ESXi 7\\.0 and later do not load\\)\$" out

step "6.7: ne1000 disabled on the host (--host-modules) hands 8086:10d3 to vmklinux e1000e"
expect_exit 3 "$ESXIMG" hcl esx6.7.iso --host host-p.txt --host host-n.txt --host-modules modules.txt
expect_grep '^disabled on the host: ne1000$' out
expect_grep '^0000:00:03\.0 .* e1000e \(vmklinux\) +e1000e \(vmklinux\) +keeps ' out
expect_ok "$ESXIMG" hcl esx6.7.iso --pci 8086:10d3/0200 --disable ne1000 --json
[ "$(jv out "(j['devices'][0]['driver'], j['devices'][0]['claims'][0]['why_not'], j['devices'][0]['transition'])")" = \
  "('e1000e', 'disabled', 'now_unknown')" ] || fail "6.7 --disable ne1000"

step "7.0: ne1000 disabled hands 8086:10d3 to nothing (e1000e does not load)"
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --host host-p.txt --host host-n.txt --disable ne1000
expect_grep '^0000:00:03\.0 .* e1000e \(vmklinux\) +- +LOSES it' out
expect_grep "^note: 0000:00:03\\.0 \\(vmnic1\\) loses its driver 'e1000e' on ESXi 7\\.0\\.[0-9]: the image's 'e1000e' does not load \\(a vmklinux driver, which ESXi 7\\.0 and later do not load\\)\$" out
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --pci 8086:10d3/0200 --disable ne1000 --json
[ "$(jv out "[(c['driver'], c['why_not']) for c in j['devices'][0]['claims']]")" = \
  "[('ne1000', 'disabled'), ('e1000e', 'vmklinux')]" ] || fail "7.0 --disable ne1000 claims"

step "esxcli hardware pci list: Module Name None gains a driver, passthrough needs none"
cat >esxcli.txt <<'PCI'
0000:00:1f.2
   Address: 0000:00:1f.2
   VMkernel Name: vmhba0
   Vendor ID: 0x8086
   Device ID: 0x2922
   Device Class: 0x0106
   Programming Interface: 0x01
   Module Name: vmw_ahci

   VMkernel Name: **vmnic1**
   Vendor ID: 0x8086
   Device ID: 0x10d3
   Device Class: 0x0200
   Module ID: -1
   Module Name: **None**

0000:00:05.0
   Address: 0000:00:05.0
   Vendor ID: 0x10ec
   Device ID: 0x8168
   Device Class: 0x0200
   Current Owner: VM Passthru
   Module Name: pciPassthru
PCI
expect_ok "$ESXIMG" hcl esx7.0.iso --host esxcli.txt --json
[ "$(jv out "[(d['slot'], d['driver_now'], d['transition']) for d in j['devices']]")" = \
  "[('0000:00:1f.2', 'vmw_ahci', 'keeps'), (None, None, 'gains'), ('0000:00:05.0', 'pciPassthru', 'passthrough')]" ] ||
    fail "esxcli transitions"
[ "$(jv out "j['summary']")" = \
  "{'network': {'total': 2, 'driven': 2}, 'storage': {'total': 1, 'driven': 1}, 'unknown': {'total': 0, 'driven': 0}, 'loses': 0}" ] ||
    fail "esxcli summary"

step "a device without ids and an unreadable line: warnings naming them"
printf '0000:00:03.0 Network controller Ethernet controller: Intel 82574L [vmnic1]\nthis is no device\n0000:00:05.0 Class 0200: 10ec:8168 [vmnic2]\n' >plain.txt
expect_exit 3 "$ESXIMG" hcl esx7.0.iso --host plain.txt
expect_grep "^esximg: warning: plain\\.txt: line 2: not a host PCI line: 'this is no device' \\(skipped\\)\$" err
expect_grep '^esximg: warning: host: line 1: 0000:00:03\.0 \(vmnic1\): no PCI ids' err
expect_grep '^0000:00:05\.0 ' out

step "nothing recognisable: exit 1 naming the file"
printf 'hello\nworld\n' >junk.txt
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --host junk.txt
expect_grep '^esximg: junk\.txt: no PCI device found' err
printf '0000:00:03.0 Network controller Ethernet controller: Intel 82574L [vmnic1]\n' >noids.txt
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --host noids.txt
expect_grep 'no device with PCI ids' err
expect_exit 1 "$ESXIMG" hcl esx7.0.iso --host host-p.txt --host-modules junk.txt
expect_grep '^esximg: junk\.txt: no module found' err
expect_exit 2 "$ESXIMG" hcl esx7.0.iso --disable ne1000

if [ -n "${ESXIMG_SAMPLES:-}" ] && [ -d "$ESXIMG_SAMPLES/esxi-host-outputs" ]; then
    S="$ESXIMG_SAMPLES/esxi-host-outputs"
    step "samples: every ESXi device output with ids is checked without a warning"
    for f in "$S"/lspci-n/*.txt "$S"/lspci-p/*.txt "$S"/lspci-v/*.txt "$S"/vmkchdev-l/*.txt \
             "$S"/esxcli-hardware-pci-list/*.txt; do
        case "$f" in *grep-vmnic.txt) [ "${f#*lspci-v/}" = "$f" ] || continue ;; esac
        rc=0
        "$ESXIMG" hcl esx7.0.iso --host "$f" >out 2>err || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "$f: exit $rc: $(cat err)"
        [ ! -s err ] || fail "$f: stderr: $(cat err)"
        grep -q '^network: ' out || fail "$f: no summary"
    done
    step "samples: ESXi's lspci -v cut by grep has no ids: named, then refused"
    expect_exit 1 "$ESXIMG" hcl esx7.0.iso --host "$S/lspci-v/skyao-learning-esxi-aqn108-grep-vmnic.txt"
    expect_grep '0000:06:00\.0 \(vmnic2\): no PCI ids' err
    step "samples: the X722 with Module Name None stays without a driver on the 7.0 image"
    expect_exit 3 "$ESXIMG" hcl esx7.0.iso --json \
        --host "$S/esxcli-hardware-pci-list/asbuiltreport-pr75-x722-module-none.txt"
    [ "$(jv out "(j['devices'][0]['transition'], j['devices'][0]['vmkernel_name'])")" = \
      "('stays_without', 'vmnic0')" ] || fail "x722"
    step "samples: the Intel host's drivers now, none of them in the test image"
    expect_exit 3 "$ESXIMG" hcl esx7.0.iso --json \
        --host "$S/lspci-p/intel-mfd-network-adapter-testfixture.txt" \
        --host "$S/lspci-n/intel-mfd-network-adapter-testfixture.txt"
    [ "$(jv out "(len(j['devices']), j['summary']['loses'], sorted({d['driver_now'] for d in j['devices'] if d['driver_now']}))")" = \
      "(20, 16, ['bnxtnet', 'i40en', 'icen', 'igbn', 'ixgben'])" ] || fail "intel host"
fi

done_testing
