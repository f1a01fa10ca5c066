#!/bin/sh
# t5200: `esximg ks` writes kickstarts that pass its own --check (without and with the image
# they install), byte-identical from run to run with --rootpw-hash, a SHA-512 hash that
# openssl verifies with --rootpw-file; `ks --check` names each rule's failing line with its
# number and exits 3, also as JSON; the image rules (USB NIC driver, %firstboot modules,
# options of a later release) use the image; a file that would have problems is not written.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_tool python3
need_tool xorriso
need_tool openssl
HASH='$6$abcdefghijklmnop$hrs847kHGtkH6iIVAZJYNy64ZLyEAOyl/0/JoW6ZZLgFlhE21K2FYhWTpB/HtGmCKa54U550aRlGs1vFMW1T6.'

step "a generated 7.0 and 8.0 image"
gen_image 7.0 in70.iso
gen_image 8.0 in80.iso

step "every option of the writer: the file, then --check without and with the image"
printf 'vim-cmd hostsvc/enable_ssh\nvim-cmd hostsvc/start_ssh' >fb.sh
set -- --rootpw-hash "$HASH" --disk mpx.vmhba1:C0:T0:L0 --ip 192.168.1.20 \
    --netmask 255.255.255.0 --gateway 192.168.1.1 --nameserver 192.168.1.1,192.168.1.2 \
    --hostname esx1.lab --vlan 20 --nic vmnic1 --module-param ne1000:RSS=4 \
    --disable-module vmw_ahci --kernelopt vga=FALSE --firstboot fb.sh
expect_ok "$ESXIMG" ks -o full.ks "$@"
cat >want.ks <<EOF
# ESXi installation script written by esximg ks
vmaccepteula
install --disk=mpx.vmhba1:C0:T0:L0 --overwritevmfs
network --bootproto=static --device=vmnic1 --ip=192.168.1.20 --netmask=255.255.255.0 --gateway=192.168.1.1 --nameserver=192.168.1.1,192.168.1.2 --hostname=esx1.lab --vlanid=20
reboot
rootpw --iscrypted $HASH

%firstboot --interpreter=busybox
esxcli system module parameters set -m ne1000 -p 'RSS=4'
esxcli system module set --enabled=false -m vmw_ahci
esxcli system settings kernel set -s vga -v 'FALSE'
vim-cmd hostsvc/enable_ssh
vim-cmd hostsvc/start_ssh
EOF
expect_same_file want.ks full.ks
expect_ok "$ESXIMG" ks --check full.ks
expect_grep '^full\.ks:9: note: %firstboot configures module .ne1000.: .* without --image$' out
expect_grep '^full\.ks: no problems$' out
for img in in70.iso in80.iso; do
    expect_ok "$ESXIMG" ks --check full.ks --image "$img"
    expect_lines 1 out
    expect_grep "^full\\.ks: no problems against $img\$" out
done

step "the smallest file, DHCP and the default disk; stdout"
expect_ok "$ESXIMG" ks -o - --rootpw-hash "$HASH" --network dhcp
printf '# ESXi installation script written by esximg ks\nvmaccepteula\ninstall --firstdisk --overwritevmfs\nnetwork --bootproto=dhcp\nreboot\nrootpw --iscrypted %s\n' \
    "$HASH" >want.ks
expect_same_file want.ks out
cp out small.ks
expect_ok "$ESXIMG" ks --check small.ks --image in80.iso

step "the same options write the same bytes, whatever TZ and umask"
(umask 077; TZ=Asia/Tokyo "$ESXIMG" ks -o again.ks "$@") || fail "second run failed"
expect_same_file full.ks again.ks
[ "$(stat -c %a full.ks)" = 644 ] || fail "full.ks is not mode 644"

step "--rootpw-file: a SHA-512 crypt hash of the first line, a fresh salt each run"
printf 'esximg-Test1\nsecond line ignored\n' >root.pw
expect_ok "$ESXIMG" ks -o pw1.ks --rootpw-file root.pw
expect_ok "$ESXIMG" ks -o pw2.ks --rootpw-file root.pw
h1=$(sed -n 's/^rootpw --iscrypted //p' pw1.ks)
h2=$(sed -n 's/^rootpw --iscrypted //p' pw2.ks)
[ "$h1" != "$h2" ] || fail "two runs drew the same salt"
for h in "$h1" "$h2"; do
    salt=$(echo "$h" | cut -d'$' -f3)
    [ "${#salt}" -eq 16 ] || fail "salt '$salt' is not 16 characters"
    [ "$(openssl passwd -6 -salt "$salt" esximg-Test1)" = "$h" ] ||
        fail "openssl does not find the password in $h"
done
expect_ok "$ESXIMG" ks --check pw1.ks
printf '\n' >empty.pw
expect_exit 1 "$ESXIMG" ks -o e.ks --rootpw-file empty.pw
expect_grep '^esximg: empty\.pw: the password is empty$' err
[ ! -e e.ks ] || fail "e.ks written"

step "each rule has a failing line: its number and its words, exit 3"
HEAD='vmaccepteula
install --firstdisk --overwritevmfs
rootpw VMware1!'
# rule | the file after HEAD | the expected line
while IFS='|' read -r rule body expected; do
    printf '%s\n%b' "$HEAD" "$body" >rule.ks
    expect_exit 3 "$ESXIMG" ks --check rule.ks
    grep -qF -- "$expected" out || { cat out >&2; fail "rule $rule: no $expected"; }
    expect_grep '^rule\.ks: [0-9]+ problems?$' out
done <<'EOF'
unknown command|autopart --firstdisk\n|rule.ks:4: unknown command 'autopart'
unknown option|network --bootproto=dhcp --mtu=9000\n|rule.ks:4: 'network': unknown option '--mtu'
flag with a value|reboot --noeject=1\n|rule.ks:4: 'reboot': option '--noeject' takes no value
value missing|network --device\n|rule.ks:4: 'network': option '--device' needs a value
word too many|reboot now\n|rule.ks:4: 'reboot' takes no word 'now'
open quote|keyboard "German\n|rule.ks:4: a quote is not closed
command twice|rootpw other\n|rule.ks:4: 'rootpw' comes again: the installer takes it once (first on line 3)
second install|upgrade --firstdisk\n|rule.ks:4: 'upgrade' or another install command comes again
bootproto|network --bootproto=manual\n|rule.ks:4: 'network': --bootproto must be dhcp or static
static without ip|network --bootproto=static\n|rule.ks:4: 'network': --bootproto=static needs --ip=
bad address|network --bootproto=static --ip=<IP_ADDRESS>\n|rule.ks:4: 'network': --ip is not an IP address
bad vlan|network --vlanid=5000\n|rule.ks:4: 'network': --vlanid must be a number from 0 to 4095
bad device|network --device=eth0\n|rule.ks:4: 'network': --device='eth0' is no vmnicN, vusbN or MAC address
clearpart drives|clearpart --overwritevmfs\n|rule.ks:4: 'clearpart' names no drives
part disk|part datastore2\n|rule.ks:4: 'part' names no disk
interpreter|%firstboot --interpreter=perl\n|rule.ks:4: '%firstboot': --interpreter must be busybox or python
timeout|%post --timeout=soon\n|rule.ks:4: '%post': --timeout must be a number of seconds
command in a script|%firstboot\nsleep 30\nnetwork --bootproto=dhcp\n|rule.ks:6: 'network' inside a %firstboot section is run by the shell
EOF
# what the file lacks has no line number
while IFS='|' read -r rule body expected; do
    printf '%b' "$body" >rule.ks
    expect_exit 3 "$ESXIMG" ks --check rule.ks
    grep -qF -- "$expected" out || { cat out >&2; fail "rule $rule: no $expected"; }
done <<'EOF'
no eula|install --firstdisk\nrootpw x\n|rule.ks: no vmaccepteula (or accepteula)
no install|vmaccepteula\nrootpw x\n|rule.ks: no install, upgrade or installorupgrade command
no disk|vmaccepteula\ninstall --overwritevmfs\nrootpw x\n|rule.ks:2: 'install' names no disk
no rootpw|vmaccepteula\ninstall --firstdisk\n|rule.ks: no rootpw
crypted|vmaccepteula\ninstall --firstdisk\nrootpw --iscrypted VMware1!\n|rule.ks:3: 'rootpw --iscrypted': the password is no $1$, $5$ or $6$ crypt hash
clearpart with upgrade|vmaccepteula\nupgrade --firstdisk\nclearpart --alldrives\n|rule.ks:3: 'clearpart' works only with 'install'
EOF

step "rules that need the image: a note without it, a problem against an image that lacks it"
printf '%s\nnetwork --bootproto=dhcp --device=vusb0\n%%firstboot\nesxcli system module set --enabled=false -m i40en\n' \
    "$HEAD" >img.ks
expect_ok "$ESXIMG" ks --check img.ks
expect_grep '^img\.ks:4: note: --device=vusb0 needs a USB NIC driver in the image: not checked without --image$' out
expect_grep "^img\\.ks:6: note: %firstboot configures module 'i40en'" out
expect_exit 3 "$ESXIMG" ks --check img.ks --image in80.iso
expect_grep '^img\.ks:4: .network.: --device=vusb0 is a USB NIC, but the image has no USB NIC driver' out
expect_grep "^img\\.ks:6: %firstboot configures module 'i40en', which the image does not have" out
expect_grep '^img\.ks: 2 problems$' out
printf '%s\n' 'vmaccepteula' 'install --firstdisk --dpupcislots=0000:3b:00.0' 'rootpw x' >dpu.ks
expect_ok "$ESXIMG" ks --check dpu.ks --image in80.iso
expect_exit 3 "$ESXIMG" ks --check dpu.ks --image in70.iso
expect_grep "^dpu\\.ks:2: 'install': option '--dpupcislots' needs ESXi 8\\.0 or later; the image is 7\\.x\$" out

step "--json: file, image, lines, problems with line (null when none) and message, notes, ok"
printf 'install --firstdisk\nrootpw x\nfoo\n' >j.ks
expect_exit 3 "$ESXIMG" ks --check j.ks --image in80.iso --json
python3 - out <<'EOF' || fail "the JSON is not as documented"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ['file', 'image', 'lines', 'problems', 'notes', 'ok'], list(d)
assert d['file'] == 'j.ks' and d['image'] == 'in80.iso' and d['lines'] == 3, d
assert d['problems'] == [
    {'line': 3, 'message': "unknown command 'foo'"},
    {'line': None, 'message': 'no vmaccepteula (or accepteula): the installer stops at the '
                              'license agreement'}], d['problems']
assert d['notes'] == [] and d['ok'] is False
EOF
expect_ok "$ESXIMG" ks --check full.ks --json
python3 -c 'import json,sys; d=json.load(open("out")); assert d["ok"] and d["image"] is None and d["notes"][0]["line"] == 9' ||
    fail "the JSON of a good file"

step "a file that would have problems is not written (exit 3); bad values are usage errors"
expect_exit 3 "$ESXIMG" ks -o bad.ks --rootpw-hash "$HASH" --nic vusb0 --image in80.iso
expect_grep '^bad\.ks:4: .network.: --device=vusb0 is a USB NIC' err
expect_grep '^esximg: bad\.ks: not written: the kickstart would have problems$' err
printf 'rootpw again\n' >badfb.sh
expect_exit 3 "$ESXIMG" ks -o bad.ks --rootpw-hash "$HASH" --firstboot badfb.sh
[ ! -e bad.ks ] || fail "bad.ks was written"
for args in "--rootpw-hash VMware1!" "--rootpw-hash $HASH --nic eth0" \
    "--rootpw-hash $HASH --ip 10.0.0.300" "--rootpw-hash $HASH --vlan 4096" \
    "--rootpw-hash $HASH --module-param i40en" "--rootpw-hash $HASH --disable-module a;b" \
    "--rootpw-hash $HASH --network static" "--rootpw-hash $HASH --gateway 10.0.0.1" \
    "--rootpw-hash $HASH --systemmedia huge" "--rootpw-file root.pw --rootpw-hash $HASH" \
    "--kernelopt novalue --rootpw-hash $HASH"; do
    # shellcheck disable=SC2086
    expect_exit 2 "$ESXIMG" ks -o bad.ks $args
    [ ! -e bad.ks ] || fail "bad.ks was written for: $args"
done
expect_exit 2 "$ESXIMG" ks --check full.ks --disk first
expect_exit 2 "$ESXIMG" ks --rootpw-hash "$HASH"
expect_exit 1 "$ESXIMG" ks --check missing.ks
expect_grep '^esximg: missing\.ks: ' err

step "--systemmedia: a first-boot kernel setting, and the reminder for the installer's boot line"
expect_ok "$ESXIMG" ks -o sm.ks --rootpw-hash "$HASH" --systemmedia min
expect_grep "^esxcli system settings kernel set -s systemMediaSize -v 'min'\$" sm.ks
expect_grep 'esximg edit IN\.iso -o OUT\.iso --ks sm\.ks -k systemMediaSize=min' err

done_testing
