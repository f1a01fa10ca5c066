#!/bin/sh
# t5130: `esximg edit` refuses, before writing anything, an edit whose BOOT.CFG would break a
# rule of ESXi's boot loader (esx-boot mboot): a kernel command line ("kernel-path kernelopt")
# of 4096 characters or more, a '#' that mboot would keep as part of a value.  The message
# names the file, the limit and the length; one character less is written and reads clean.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/edit-lib.sh"

need_edit_tools

step "a generated 7.0 image and the length of its kernel command line"
gen_image 7.0 in.iso
in_sha=$(sha in.iso)
iso_get in.iso /BOOT.CFG in.cfg
# mboot measures "kernel kernelopt"; `-k pad=...` adds " pad=..." to kernelopt
base=$(awk -F= '$1 == "kernel" { k = length($0) - 7 } $1 == "kernelopt" { o = length($0) - 10 }
    END { print k + 1 + o }' in.cfg)
[ "$base" -gt 20 ] || fail "cannot measure the kernel line of in.cfg ($base)"
pad() { python3 -c "import sys; print('pad=' + 'x' * (int(sys.argv[1]) - $base - 5))" "$1"; }

step "-k making the kernel command line 4100 characters is refused, nothing written"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso -k "$(pad 4100)"
expect_grep "/BOOT.CFG line [0-9]+ breaks a rule of ESXi's boot loader" err
expect_grep "4100 characters: mboot's limit is 4096" err
[ ! -e out.iso ] || fail "a refused edit wrote out.iso"
ls -A >listing
expect_no_grep 'out\.iso' listing
check_unchanged in.iso "$in_sha"

step "exactly 4096 is refused too; 4095 is written and reads without a problem"
expect_exit 1 "$ESXIMG" edit in.iso -o out.iso -k "$(pad 4096)"
expect_grep "4096 characters: mboot's limit is 4096" err
expect_ok "$ESXIMG" edit in.iso -o out.iso -k "$(pad 4095)"
iso_get out.iso /EFI/BOOT/BOOT.CFG out-efi.cfg
got=$(awk -F= '$1 == "kernel" { k = length($0) - 7 } $1 == "kernelopt" { o = length($0) - 10 }
    END { print k + 1 + o }' out-efi.cfg)
[ "$got" -eq 4095 ] || fail "the written kernel line is $got characters, not 4095"
expect_ok "$ESXIMG" info out.iso
expect_no_grep 'mboot' out

step "a '#' after a blank in a value is refused: mboot has no inline comments"
expect_exit 1 "$ESXIMG" edit in.iso -o out2.iso -k '#debug'
expect_grep "value of 'kernelopt' holds '#' after a blank" err
expect_exit 1 "$ESXIMG" edit in.iso -o out2.iso --title 'ESXi 7.0 # custom'
expect_grep "value of 'title' holds '#'" err
[ ! -e out2.iso ] || fail "a refused edit wrote out2.iso"
expect_exit 1 "$ESXIMG" edit in.iso -o out2.iso -k '#debug' --dry-run
expect_grep "inline comments" err
check_unchanged in.iso "$in_sha"

done_testing
