#!/bin/sh
# t9100: what every command prints besides its answer. On success with stderr not a terminal,
# stderr stays empty (no progress bar, no repeated warning); -q/--quiet and -v/--verbose are
# taken by every command and before it; --verbose names what is read and written; on a
# terminal (script(1) gives one) long operations draw a progress bar that ends its line, and
# --quiet draws none; errors say what, where and what to do.
. "$(dirname "$0")/lib.sh"

# expect_clean: the last command's stderr is empty
expect_clean() {
    [ ! -s err ] || { cat err >&2; fail "stderr is not empty"; }
}

# expect_once FILE: no line of FILE is there twice
expect_once() {
    dup=$(sort "$1" | uniq -d)
    [ -z "$dup" ] || fail "printed twice in $1: $dup"
}

step "every command names -q/--quiet and -v/--verbose in its --help and takes them"
for c in depot diff edit export hcl info ks ls upgrade-check vib vmtar; do
    expect_ok "$ESXIMG" "$c" --help
    grep -q -- '-q, --quiet' out || fail "esximg $c --help does not name -q, --quiet"
    grep -q -- '-v, --verbose' out || fail "esximg $c --help does not name -v, --verbose"
done
expect_ok "$ESXIMG" --help
expect_grep '^  -q, --quiet' out
expect_grep '^  -v, --verbose' out

step "misuse: what is wrong, the synopsis, and where the full help is"
expect_exit 2 "$ESXIMG" info --frobnicate x.iso
expect_grep "^esximg: info: unknown option '--frobnicate'$" err
expect_grep '^usage: esximg info ISO' err
expect_grep "^Run 'esximg info --help' for every option\.$" err
expect_no_grep 'Shows what an ESXi installer image is' err
expect_exit 2 "$ESXIMG" edit x.iso -o
expect_grep "^esximg: edit: option '-o/--output' needs a value$" err
expect_exit 2 "$ESXIMG" vmtar c -Z
expect_grep "^esximg: vmtar c: unknown option '-Z'$" err
expect_grep "^Run 'esximg vmtar --help' for every option\.$" err
expect_exit 2 "$ESXIMG" depot frob x.zip
expect_grep "^esximg: depot: unknown verb 'frob'$" err
expect_exit 2 "$ESXIMG" --frob info x.iso
expect_grep "^esximg: unknown option '--frob' \(the options before the command" err
expect_exit 2 "$ESXIMG" hcl x.iso --pci 8086:10d3/02
expect_grep "^esximg: --pci '8086:10d3/02': not VVVV:DDDD\[:SSSS:ssss\]\[/CCCC\[PP\]\] in hex, e\.g\. 8086:10d3/0200 \(see esximg hcl --help\)$" err

step "a missing input names the file and the reason"
for c in "info" "ls" "export -o o.zip" "edit -o o.iso" "hcl --pci 8086:10d3"; do
    # shellcheck disable=SC2086
    expect_exit 1 "$ESXIMG" $c nothere.iso
    expect_grep '^esximg: nothere\.iso: cannot open: No such file or directory$' err
done
expect_exit 1 "$ESXIMG" vib info nothere.vib
expect_grep '^esximg: nothere\.vib: cannot open: No such file or directory$' err
expect_exit 1 "$ESXIMG" depot ls nothere.zip
expect_grep '^esximg: nothere\.zip: cannot open: No such file or directory$' err

need_image_tools
export SOURCE_DATE_EPOCH=1700000000

step "inputs: a generated 7.0 image, a plain ISO, a community VIB"
# esximg export rebuilds a VIB from the ISO files its profile entry names; esx-base's loader
# payloads (isolinux.bin, mboot.c32, BOOTx64.EFI, ...) are kept where esxi-formats.md 5.3
# puts them instead (ISOLINUX.BIN with its boot-info-table filled in), which export does not
# look up, so this image's esx-base is made without them
SOURCE_DATE_EPOCH=1600000000 expect_ok python3 "$GEN" --version 7.0 \
    --no-loader-payloads -o in.iso
mkdir -p plain pl/etc/test
echo hello >plain/a.txt
expect_ok xorriso -as mkisofs -quiet -o plain.iso plain
echo 'key = value' >pl/etc/test/test.conf
expect_ok "$ESXIMG" vib create -o a.vib --name t9100-test --version 1.0-1 --vendor test \
    --summary test --payload t9100=pl
expect_clean

step "the output is checked before any work: a folder, a missing folder"
mkdir outdir
expect_exit 1 "$ESXIMG" edit in.iso -o outdir --add a.vib
expect_grep '^esximg: outdir: is a folder: give the file to write, e\.g\. outdir/custom\.iso$' err
expect_exit 1 "$ESXIMG" export in.iso -o outdir/
expect_grep '^esximg: outdir/: is a folder: give the file to write, e\.g\. outdir/bundle\.zip$' err
expect_exit 1 "$ESXIMG" edit in.iso -o nodir/out.iso --add a.vib
expect_grep "^esximg: nodir/out\.iso: the folder 'nodir' does not exist: create it or write elsewhere$" err
expect_exit 1 "$ESXIMG" depot create -o nodir/b.zip a.vib
expect_grep "^esximg: nodir/b\.zip: the folder 'nodir' does not exist" err
expect_exit 1 "$ESXIMG" vib create -o outdir --name x --version 1.0-1 --vendor t --payload x=pl
expect_grep '^esximg: outdir: is a folder: give the file to write, e\.g\. outdir/driver\.vib$' err
expect_exit 1 "$ESXIMG" vmtar c -o nodir/p.vgz -C pl .
expect_grep "^esximg: nodir/p\.vgz: the folder 'nodir' does not exist" err
[ -z "$(ls outdir)" ] || fail "something was written into outdir"

step "an image that is not ESXi, an unknown VIB to remove: what to run next"
for c in "edit -o o.iso" "export -o o.zip" "ls" "hcl --pci 8086:10d3"; do
    # shellcheck disable=SC2086
    expect_exit 1 "$ESXIMG" $c plain.iso
    expect_grep "^esximg: plain\.iso: not an ESXi installer image \(no readable image database IMGDB\.TGZ\): 'esximg info plain\.iso' shows what it holds$" err
done
expect_exit 1 "$ESXIMG" edit in.iso -o o.iso --remove no-such-vib
expect_grep "^esximg: in\.iso: VIB 'no-such-vib' is not in the image: 'esximg ls in\.iso' lists its VIBs$" err
[ ! -e o.iso ] && [ ! -e o.zip ] || fail "an output was written"
expect_ok "$ESXIMG" vib extract a.vib -C vx
expect_exit 1 "$ESXIMG" vib extract a.vib -C vx
expect_grep '^esximg: .*use --force to replace' err

step "success with stderr not a terminal: stderr stays empty"
expect_ok "$ESXIMG" info in.iso
expect_clean
expect_ok "$ESXIMG" info --verify in.iso
expect_clean
for w in --vibs --files --drivers; do
    expect_ok "$ESXIMG" ls "$w" in.iso
    expect_clean
done
expect_ok "$ESXIMG" hcl in.iso --pci 8086:10d3/0200
expect_clean
expect_ok "$ESXIMG" diff in.iso in.iso
expect_clean
expect_ok "$ESXIMG" export in.iso -o out.zip
expect_clean
expect_ok "$ESXIMG" depot ls out.zip
expect_clean
expect_ok "$ESXIMG" depot extract out.zip -C ex
expect_clean
expect_ok "$ESXIMG" depot create -o b.zip a.vib
expect_clean
expect_ok "$ESXIMG" vib info a.vib
expect_clean
expect_ok "$ESXIMG" vib verify a.vib
expect_clean
expect_ok "$ESXIMG" vmtar c -o p.vgz -C pl .
expect_clean
expect_ok "$ESXIMG" vmtar t p.vgz
expect_clean
expect_ok "$ESXIMG" vmtar x p.vgz -C px
expect_clean
# the generated image has dependency gaps and the VIB is community: those warnings only
expect_ok "$ESXIMG" edit in.iso -o e.iso --add a.vib --acceptance community
expect_no_grep '^([^e]|e[^s]|esximg: [^w])' err
expect_once err
expect_grep '^wrote e\.iso: 1 VIB added' out

step "warnings once; --quiet prints none of them, nor the summary"
expect_ok "$ESXIMG" edit in.iso -o e2.iso --add a.vib --add a.vib
expect_grep 'warning: ' err
expect_once err
expect_ok "$ESXIMG" -q edit in.iso -o e3.iso --add a.vib
expect_clean
[ ! -s out ] || fail "edit -q printed: $(cat out)"
expect_ok "$ESXIMG" edit in.iso -o e4.iso --add a.vib --quiet
expect_clean

step "--verbose names what is read and written, before or after the command"
expect_ok "$ESXIMG" -v edit in.iso -o v.iso --add a.vib --acceptance community
expect_grep '^esximg: read in\.iso \([0-9.]+ MiB\): ESXi 7\.0\.[0-9] installer image, [0-9]+ VIBs' err
expect_grep '^esximg: wrote v\.iso \([0-9.]+ MiB\)$' err
expect_grep 't9100-test' err
expect_ok "$ESXIMG" export in.iso -o v.zip --verbose
expect_grep '^esximg: read in\.iso ' err
expect_grep "^esximg: vib 'VMware_bootbank_esx-base_[^']*' rebuilt \([0-9]+ bytes\)$" err
expect_grep "^esximg: member 'metadata\.zip' written" err
expect_grep '^esximg: wrote v\.zip \(' err
expect_ok "$ESXIMG" depot create -v -o vb.zip a.vib
expect_grep '^esximg: read a\.vib \(' err
expect_grep "^esximg: member 'vib20/t9100-test/test_bootbank_t9100-test_1\.0-1\.vib' written" err
expect_grep '^esximg: wrote vb\.zip \(' err
expect_ok "$ESXIMG" depot extract -v vb.zip -C vex
expect_grep '^esximg: read vb\.zip \([^)]*\): vmware bundle, 1 vib\(s\), 1 component\(s\)$' err
expect_grep '^esximg: wrote vex/test_bootbank_t9100-test_1\.0-1\.vib \(' err
expect_ok "$ESXIMG" vib info -v a.vib
expect_grep "^esximg: read a\.vib \([^)]*\): VIB 't9100-test' version '1\.0-1', 1 payloads$" err
expect_ok "$ESXIMG" vmtar c -v -o vp.vgz -C pl .
expect_grep '^esximg: wrote vp\.vgz \(' err
expect_ok "$ESXIMG" -v vmtar t vp.vgz
expect_grep "^esximg: read vp\.vgz \([^)]*\): gzip'd vmtar, [0-9]+ entries$" err
for c in info ls diff; do
    if [ "$c" = diff ]; then set -- in.iso in.iso; else set -- in.iso; fi
    expect_ok "$ESXIMG" "$c" -v "$@"
    expect_grep '^esximg: read in\.iso ' err
done
expect_ok "$ESXIMG" -v -q info in.iso
expect_clean

step "on a terminal: a progress bar that ends its line; none with --quiet"
need_tool script
# script(1) runs the command on a pseudo-terminal; its output (stdout and stderr) is kept
on_tty() {
    script -qec "$*" /dev/null >tty.raw 2>&1 </dev/null || { cat tty.raw >&2; fail "on a tty: $*"; }
    tr -d '\r' <tty.raw >tty.out
}
on_tty "$ESXIMG" edit in.iso -o t.iso --add a.vib --acceptance community
expect_grep '^writing .*\] 100%$' tty.out
expect_grep '^wrote t\.iso: 1 VIB added' tty.out
on_tty "$ESXIMG" export in.iso -o t.zip
expect_grep '^exporting .*\] 100%$' tty.out
on_tty "$ESXIMG" info --verify in.iso
expect_grep '^verifying .*\] 100%$' tty.out
on_tty "$ESXIMG" depot create -o t2.zip a.vib
expect_grep '^compressing .*\] 100%$' tty.out
on_tty "$ESXIMG" depot extract t2.zip -C tex
expect_grep '^extracting .*\] 100%$' tty.out
on_tty "$ESXIMG" vib create -o t.vib --name t9100-tty --version 1.0-1 --vendor t --payload t=pl
expect_grep '^building .*\] 100%$' tty.out
for q in "-q edit in.iso -o tq.iso --add a.vib" "export --quiet in.iso -o tq.zip" \
         "info -q --verify in.iso" "depot create -q -o tq2.zip a.vib"; do
    on_tty "$ESXIMG" "$q"
    expect_no_grep '(writing|exporting|verifying|compressing) +\[' tty.out
    expect_no_grep '100%' tty.out
done
# a warning while a bar is drawn goes on a line of its own
on_tty "$ESXIMG" -v edit in.iso -o tv.iso --add a.vib --acceptance community
expect_grep '^esximg: wrote tv\.iso \(' tty.out

done_testing
